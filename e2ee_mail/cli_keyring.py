"""The ``e2ee-mail keyring`` and ``e2ee-mail rewrap --mailbox`` commands.

``cli.py`` owns the command line and its error contract (one line on stderr, non-zero
exit), cli_options.py the options; this module runs the keyring sub-commands::

    e2ee-mail keyring --dir DIR init
    e2ee-mail keyring --dir DIR list [IDENTITY]
    e2ee-mail keyring --dir DIR add IDENTITY --key KEYFILE [--state STATE]
    e2ee-mail keyring --dir DIR rotate IDENTITY [--format F] [--kind K]
    e2ee-mail keyring --dir DIR due --max-age AGE          (AGE: 24h, 90d, 2w, 6m, 1y)
    e2ee-mail keyring --dir DIR retire IDENTITY [KEY]
    e2ee-mail keyring --dir DIR revoke IDENTITY KEY
    e2ee-mail keyring --dir DIR export IDENTITY [--format F] [-o OUT]
    e2ee-mail rewrap --mailbox PATH --keyring DIR [--identity ADDR] [--workers N]

``--passphrase-env VAR`` names the variable holding the keyring's passphrase (and, for
``add``, ``--key-passphrase-env`` the key file's); ``rewrap --mailbox``,
``encrypt --keyring`` and ``decrypt --keyring`` take the keyring's passphrase as
every command takes any (``--passphrase-env``, ``--passphrase-file``,
``--passphrase-fd``).
KEY names a version: its fingerprint or, for OpenPGP, a 16-hex-digit key ID or the
encryption subkey's fingerprint or key ID. ``encrypt --keyring`` and ``decrypt
--keyring`` (cli_commands.py) take recipients and keys from a keyring through
:func:`recipients` and :func:`decryption_keys`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, BinaryIO

from .errors import Error, UsageError

if TYPE_CHECKING:
    import datetime as dt

    from .keys.ring import Keyring, KeyVersion
    from .model import Certificate, KeyFormat, SecretKey
    from .policy import Policy

__all__ = [
    "decryption_keys",
    "recipients",
    "run_keyring",
    "run_rewrap_mailbox",
]

#: cli_io.py's ``open_output``: a file that becomes OUT (or stdout) only on success.
_Output = Callable[[str | None], AbstractContextManager[BinaryIO]]
_AGE = re.compile(r"^\s*(\d{1,9})\s*([hdwmy]?)\s*$", re.IGNORECASE)
#: --max-age units: hours, days (the default), weeks, months of 30 days and years of
#: 365 days (a rotation schedule needs no calendar arithmetic).
_HOURS_PER_UNIT = {"h": 1, "d": 24, "": 24, "w": 7 * 24, "m": 30 * 24, "y": 365 * 24}


def _env(var: str | None) -> str | None:
    if not var:
        return None
    value = os.environ.get(var)
    if value is None:
        raise UsageError(f"environment variable {var} is not set")
    return value


def _max_age(text: str) -> dt.timedelta:
    import datetime as dt  # only `keyring due` needs it: kept out of start-up

    m = _AGE.match(text)
    if not m or int(m.group(1)) <= 0:
        raise UsageError(
            f"--max-age {text!r}: use a positive number of h, d, w, m (months) or y"
        )
    hours = int(m.group(1)) * _HOURS_PER_UNIT[m.group(2).lower()]
    try:
        return dt.timedelta(hours=hours)
    except OverflowError:
        raise UsageError(f"--max-age {text!r} is too long") from None


def _now(text: str | None) -> dt.datetime:
    import datetime as dt

    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--now {text!r} is not an ISO 8601 time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _subkey(v: KeyVersion) -> str:
    # OpenPGP versions from subkey rotation share the primary fingerprint: the
    # encryption subkey is what tells them apart.
    return f"  subkey {v.subkey}" if v.subkey else ""


def _signing(v: KeyVersion) -> str:
    # The key that signs for the version: the version's own key (an RSA
    # certificate, an OpenPGP primary key), a separate one (an X.509 X25519
    # key's Ed25519 certificate, an OpenPGP signing subkey), or none.
    signing = v.signing
    if signing is None:
        return "signs with -"
    fingerprint, algorithm = signing
    if fingerprint == v.fingerprint:
        return "signs with itself"
    return f"signs with {algorithm} {fingerprint}"


def _show(ring: Keyring, identity: str | None) -> None:
    for ident in (identity,) if identity else ring.identities():
        for v in ring.history(ident):
            # The keyring's expiry or the certificate's own (an X.509 notAfter, an
            # OpenPGP key expiration), whichever comes first.
            until = v.valid_until
            expires = until.strftime("%Y-%m-%d") if until else "-"
            print(
                f"{v.identity}  {v.format} v{v.version}  {v.state:<12}  "
                f"{v.algorithm:<8}  {v.fingerprint}  {_signing(v)}  "
                f"created {v.created:%Y-%m-%d}  expires {expires}{_subkey(v)}"
            )


def run_keyring(args: argparse.Namespace, output: _Output) -> None:
    """Run one ``keyring`` action; ``output`` is cli_io.py's atomic ``open_output``."""
    from . import _keys_api
    from .keys.ring import Keyring, RotationPolicy

    ring = Keyring.open(args.dir, passphrase=_env(args.passphrase_env))
    action = args.action
    if action == "init":
        print(f"keyring {args.dir}: {len(ring.identities())} identities")
    elif action == "list":
        _show(ring, args.identity)
    elif action == "add":
        key = _keys_api.load_key(args.key, _env(args.key_passphrase_env))
        v = ring.add(args.identity, key, state=args.state)
        print(
            f"added {v.identity} {v.format} v{v.version} {v.fingerprint} "
            f"({v.state}){_subkey(v)}"
        )
    elif action == "rotate":
        v = ring.rotate(args.identity, format=args.format, kind=args.kind)
        print(
            f"rotated {v.identity}: {v.format} v{v.version} {v.fingerprint} "
            f"active{_subkey(v)}"
        )
    elif action == "due":
        policy = RotationPolicy(max_age=_max_age(args.max_age))
        for ident in ring.due(policy, _now(args.now)):
            print(ident)
    elif action in ("retire", "revoke"):
        changed = (
            ring.retire(args.identity, args.fingerprint)
            if action == "retire"
            else ring.revoke(args.identity, args.fingerprint)
        )
        for v in changed:
            print(
                f"{v.state} {v.identity} {v.format} v{v.version} {v.fingerprint}"
                f"{_subkey(v)}"
            )
    elif action == "export":
        certs = ring.recipients(args.identity, format=args.format)
        if not certs:
            raise UsageError(f"{args.identity} has no active key to export")
        with output(args.output) as dst:
            for cert in certs:
                dst.write(cert.export())
            # An X.509 X25519 identity signs with a second certificate, which
            # correspondents need to check its signatures: it follows the
            # encryption certificates, which one-certificate readers take.
            for key in ring.signing_keys(args.identity, format=args.format):
                if key.public not in certs:
                    dst.write(key.public.export())


#: The key format of each --format of ``encrypt``; None: inferred.
_KEY_FORMATS: dict[str | None, KeyFormat | None] = {
    "openpgp": "openpgp",
    "pgpmime": "openpgp",
    "cms": "x509",
    "smime": "x509",
    None: None,
}
_FORMAT_NAMES = {"x509": "X.509 ", "openpgp": "OpenPGP ", None: ""}


def _open_existing(path: str, passphrase: Callable[[], str | bytes | None]) -> Keyring:
    """Open keyring ``path`` for encrypt or decrypt: never create one, and ask for
    the passphrase (``passphrase()``) only when the keyring has one."""
    from pathlib import Path

    from .errors import PassphraseError
    from .keys.ring import Keyring
    from .keys.ringstore import Store

    if not Store(Path(path)).exists():
        raise UsageError(
            f"--keyring {path}: no keyring there "
            f"(create one with: e2ee-mail keyring --dir {path} init)"
        )
    try:
        return Keyring.open(path)
    except PassphraseError:
        secret = passphrase()
        if secret is None:
            raise PassphraseError(
                f"keyring {path} is passphrase-protected: give its passphrase "
                "(--passphrase-env, --passphrase-file or --passphrase-fd)"
            ) from None
    return Keyring.open(path, passphrase=secret)


def recipients(
    names: Sequence[str],
    keyring: str,
    mail_format: str | None,
    passphrase: Callable[[], str | bytes | None],
) -> list[Certificate]:
    """``encrypt --to NAME --keyring DIR``: a NAME that is a file is a certificate;
    any other is an address, whose active certificate in the keyring is taken.

    Args:
        names: the ``--to`` values.
        keyring: the keyring directory.
        mail_format: ``encrypt --format``: which key format an address resolves
            to (None: the identity's only active one).
        passphrase: gives a protected keyring's passphrase.

    Raises:
        UsageError: an address with no active key of that format, or with one of
            each format and no ``--format``.
    """
    from . import _keys_api

    key_format = _KEY_FORMATS.get(mail_format)
    ring: Keyring | None = None
    certs: list[Certificate] = []
    for name in names:
        if os.path.exists(name):
            certs.append(_keys_api.load_certificate(name))
            continue
        if "@" not in name:
            raise UsageError(f"--to {name}: neither a certificate file nor an address")
        if ring is None:
            ring = _open_existing(keyring, passphrase)
        found = ring.recipients(name, format=key_format)
        if not found:
            raise UsageError(
                f"--to {name}: keyring {keyring} has no active "
                f"{_FORMAT_NAMES[key_format]}key for this address"
            )
        if len(found) > 1:
            raise UsageError(
                f"--to {name} has an active X.509 and an OpenPGP key: choose one "
                "with --format"
            )
        certs += found
    return certs


def decryption_keys(
    keyring: str, include_retired: bool, passphrase: Callable[[], str | bytes | None]
) -> list[SecretKey]:
    """``decrypt --keyring DIR``: every key of the keyring that opens mail
    (active and decrypt-only; retired too with ``include_retired``)."""
    ring = _open_existing(keyring, passphrase)
    keys = ring.decryption_keys(include_retired=include_retired)
    if not keys:
        raise UsageError(f"keyring {keyring} holds no key that opens mail")
    return list(keys)


def run_rewrap_mailbox(
    args: argparse.Namespace, passphrase: bytes | None, policy: Policy
) -> None:
    """Run ``rewrap --mailbox`` with the keyring's ``passphrase`` under ``policy``:
    print the summary; fail if any message failed."""
    from .mailbox.rewrap import rewrap_mailbox

    if not args.keyring:
        raise UsageError("rewrap --mailbox needs --keyring DIR")
    if args.key or args.to or args.input or args.output:
        raise UsageError("rewrap --mailbox takes no --key, --to, -i or -o")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    summary = rewrap_mailbox(
        args.mailbox,
        args.keyring,
        passphrase=passphrase,
        identity=args.identity,
        workers=args.workers,
        progress=sys.stderr,
        policy=policy,
    )
    print(summary)
    print(f"{summary.rate:.1f} messages/s")
    if summary.failed:
        raise Error(f"{summary.failed} message(s) could not be re-wrapped (see above)")
