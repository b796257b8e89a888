"""The options of each ``e2ee-mail`` command: one ``configure_*`` per sub-parser.

Only the chosen command's function runs at start-up (the entry point builds that
sub-parser alone); ``--help`` without a command runs them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import argparse

__all__ = [
    "configure_decrypt",
    "configure_demo",
    "configure_encrypt",
    "configure_inspect",
    "configure_keygen",
    "configure_keyring",
    "configure_rewrap",
    "configure_sign",
    "configure_vectors",
    "configure_verify",
]


#: One ``add_argument`` call as data: the name or flags, and the keywords.
_Arg = tuple[tuple[str, ...], dict[str, Any]]


def _arg(*flags: str, **options: Any) -> _Arg:
    return flags, options


def _add(p: argparse.ArgumentParser, *args: _Arg) -> None:
    for flags, options in args:
        p.add_argument(*flags, **options)


_INPUT: Final = _arg(
    "-i", dest="input", metavar="IN", help="read from IN (default: stdin)"
)
_OUTPUT: Final = _arg(
    "-o",
    dest="output",
    metavar="OUT",
    help="write to OUT, which appears only once the command succeeded (default: "
    "stdout; binary data goes to a terminal only with -o -)",
)
# model.KEY_KINDS, written out: importing the model here would load the library
# for `--help` (a test keeps the two equal).
_KINDS: Final = [
    "x25519",
    "rsa3072",
    "rsa4096",
    "mlkem768-x25519",
    "mldsa65-ed25519",
    "mlkem768",
    "mlkem1024",
]
_KEY_FORMATS: Final = ["x509", "openpgp"]
_IDENTITY: Final = _arg("identity", help="the identity (mail address)")
_VERSION_HELP: Final = (
    "the version's fingerprint, or for OpenPGP a 16-hex-digit key ID or the "
    "encryption subkey's fingerprint or key ID"
)
_MAX_AGE_HELP: Final = (
    "rotate keys at this age: a number of h (hours), d (days, the default), "
    "w (weeks), m (months of 30 days) or y (years of 365 days), e.g. 90d, 6m, 1y"
)


def _keyring_actions() -> tuple[tuple[str, str, tuple[_Arg, ...]], ...]:
    """The actions of ``keyring``: name, help and arguments (built when the keyring
    parser is, which imports argparse anyway, for the hidden ``--now``)."""
    import argparse

    return (
        ("init", "create the keyring (no-op when it exists)", ()),
        (
            "list",
            "list identities and their key versions",
            (_arg("identity", nargs="?", help="only this identity (default: all)"),),
        ),
        (
            "add",
            "add an existing secret key file",
            (
                _arg("identity", help="the identity (mail address) the key belongs to"),
                _arg("--key", required=True, metavar="KEYFILE", help="secret key file"),
                _arg(
                    "--key-passphrase-env",
                    metavar="VAR",
                    help="the key file's passphrase is in $VAR",
                ),
                _arg(
                    "--state",
                    choices=["active", "decrypt-only", "retired"],
                    default="active",
                    help="state of the added version (default: active)",
                ),
            ),
        ),
        (
            "rotate",
            "make a new active key version",
            (
                _arg("identity", help="the identity (mail address) to rotate"),
                _arg(
                    "--format",
                    choices=_KEY_FORMATS,
                    help="the format to rotate (default: the identity's current one)",
                ),
                _arg(
                    "--kind",
                    choices=_KINDS,
                    help="key algorithm of the new version "
                    "(default: the current one's)",
                ),
            ),
        ),
        (
            "due",
            "identities whose active key is too old",
            (
                _arg("--max-age", required=True, metavar="AGE", help=_MAX_AGE_HELP),
                _arg("--now", metavar="ISO8601", help=argparse.SUPPRESS),
            ),
        ),
        (
            "retire",
            "retire a version (default: every decrypt-only one): it then opens mail "
            "only when asked for (decrypt --include-retired, rewrap --mailbox)",
            (
                _IDENTITY,
                _arg("fingerprint", nargs="?", metavar="KEY", help=_VERSION_HELP),
            ),
        ),
        (
            "revoke",
            "revoke a version: never used again",
            (_IDENTITY, _arg("fingerprint", metavar="KEY", help=_VERSION_HELP)),
        ),
        (
            "export",
            "write the active public certificates",
            (
                _IDENTITY,
                _arg(
                    "--format",
                    choices=_KEY_FORMATS,
                    help="only this format (default: every active certificate)",
                ),
                _arg(
                    "-o",
                    dest="output",
                    metavar="OUT",
                    help="write to OUT, which appears only once complete "
                    "(default: stdout)",
                ),
            ),
        ),
    )


def _passphrase_options(p: argparse.ArgumentParser, use: str, note: str = "") -> None:
    """--passphrase-env, --passphrase-file, --passphrase-fd (one at most): "``use``
    from ..." says what the passphrase is for; ``note`` ends the last help text."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help=f"{use} from environment variable VAR",
    )
    group.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help=f"{use} from the first line of FILE",
    )
    group.add_argument(
        "--passphrase-fd",
        type=_descriptor,
        metavar="N",
        help=f"{use} from the first line read from file descriptor N{note}",
    )


def _descriptor(text: str) -> int:
    """``--passphrase-fd``: a file descriptor number."""
    if not text.isdigit():
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not a file descriptor number")
    return int(text)


def _key_options(p: argparse.ArgumentParser, use: str) -> None:
    """--key (optional: a keyring may give the keys) and its passphrase options."""
    p.add_argument(
        "--key",
        action="append",
        metavar="KEY",
        help="secret key file (PKCS#8 or OpenPGP); repeat for several keys",
    )
    _passphrase_options(
        p,
        use,
        "; with none of these, a protected key asks for its passphrase on the "
        "terminal (when stdin is a terminal)",
    )


def configure_keygen(p: argparse.ArgumentParser) -> None:
    _add(
        p,
        _arg(
            "--format",
            choices=["openpgp", "x509"],
            default="openpgp",
            help="OpenPGP key or X.509 certificate and key (default: openpgp)",
        ),
        _arg(
            "--kind",
            choices=_KINDS,
            default="x25519",
            help="key algorithm (default: x25519)",
        ),
        _arg(
            "--profile",
            choices=["rfc9580", "rfc4880"],
            help="OpenPGP key version: v6 (rfc9580, the default) or v4 for GnuPG 2.2",
        ),
        _arg("--uid", required=True, help='user ID: "Name <addr>" or a bare address'),
        _arg(
            "--out",
            required=True,
            metavar="PREFIX",
            help="write PREFIX.pub (certificate) and PREFIX.key (secret key, 0600)",
        ),
    )
    _passphrase_options(p, "protect PREFIX.key with the passphrase")


_REQUIRE_PQ: Final = _arg(
    "--require-pq",
    action="store_true",
    help="refuse unless every recipient has a post-quantum (ML-KEM) key, naming "
    "those without one; nothing is written (default: a recipient with one gets a "
    "post-quantum wrap, the others a classic one)",
)


def configure_encrypt(p: argparse.ArgumentParser) -> None:
    _add(
        p,
        _arg(
            "--format",
            choices=["openpgp", "cms", "pgpmime", "smime"],
            help="openpgp or cms encrypt IN as it is; pgpmime or smime take a whole "
            "mail (RFC 5322) and write the encrypted mail (default: cms for X.509 "
            "certificates, openpgp for OpenPGP ones)",
        ),
        _arg(
            "--to",
            action="append",
            required=True,
            metavar="CERT",
            help="recipient certificate file (X.509 for cms/smime, OpenPGP for "
            "openpgp/pgpmime), or with --keyring an address; repeat for several "
            "recipients",
        ),
        _arg(
            "--armor",
            action="store_true",
            help="ASCII armor (openpgp) or PEM (cms) instead of binary",
        ),
        _arg(
            "--profile",
            choices=["auto", "rfc9580", "rfc4880"],
            help="OpenPGP container: auto picks SEIPDv2 (rfc9580) when every "
            "recipient supports it, else SEIPDv1 (rfc4880) (default: auto)",
        ),
        _arg(
            "--cipher",
            choices=["aes-256-gcm", "aes-256-cbc"],
            default="aes-256-gcm",
            help="aes-256-cbc writes legacy, unauthenticated CMS EnvelopedData for "
            "old S/MIME clients (cms/smime only; default: aes-256-gcm)",
        ),
        _arg(
            "--hcp",
            choices=["baseline", "minimal", "shy", "no-confidentiality"],
            help="smime/pgpmime: which header fields the outer mail shows (RFC 9788 "
            "header confidentiality policy; default baseline: Subject [...], "
            "Keywords and Comments left out, every other field as it is)",
        ),
        _REQUIRE_PQ,
        _INPUT,
        _OUTPUT,
        _arg(
            "--keyring",
            metavar="DIR",
            help="--to may name recipients by address: their active certificate in "
            "this keyring (of the format --format asks for)",
        ),
        _arg(
            "--sign-with",
            action="append",
            metavar="KEY",
            help="sign, then encrypt, with this secret key file (X.509 for "
            "cms/smime, repeatable for several signers; one OpenPGP key for "
            "openpgp/pgpmime)",
        ),
    )
    _passphrase_options(
        p, "unlock a protected --keyring or --sign-with key with the passphrase"
    )


def configure_decrypt(p: argparse.ArgumentParser) -> None:
    _key_options(
        p, "unlock the --key files (and a protected --keyring) with the passphrase"
    )
    _add(
        p,
        _arg(
            "--allow-unauthenticated",
            action="store_true",
            help="also open legacy CMS EnvelopedData (AES-CBC, 3DES-CBC; no integrity)",
        ),
        _INPUT,
        _OUTPUT,
        _arg(
            "--mode",
            type=_file_mode,
            metavar="OCTAL",
            help="permissions of OUT, exactly (default: 0600 less the umask)",
        ),
        _arg(
            "--keyring",
            metavar="DIR",
            help="also try this keyring's keys: active and decrypt-only versions",
        ),
        _arg(
            "--include-retired",
            action="store_true",
            help="with --keyring: retired versions too",
        ),
        _arg(
            "--verify-with",
            action="append",
            metavar="CERT",
            help="require a good signature by this certificate inside the "
            "encryption (repeatable: any one of them): exit 6 and write nothing "
            "otherwise; a 'good signature from ...' line on stderr",
        ),
    )


def configure_sign(p: argparse.ArgumentParser) -> None:
    _key_options(p, "unlock the --key files with the passphrase")
    _add(
        p,
        _arg(
            "--format",
            choices=["cms", "smime", "openpgp", "pgpmime"],
            help="cms or openpgp sign IN as it is; smime or pgpmime take a whole "
            "mail (RFC 5322) and write the signed mail (default: cms for X.509 "
            "keys, openpgp for OpenPGP ones)",
        ),
        _arg(
            "--detached",
            action="store_true",
            help="cms/openpgp: write only the signature; smime: multipart/signed "
            "(default for smime without it: opaque signed-data); pgpmime: "
            "multipart/signed either way",
        ),
        _arg(
            "--armor",
            action="store_true",
            help="ASCII armor (openpgp) or PEM (cms) instead of binary",
        ),
        _INPUT,
        _OUTPUT,
    )


def configure_verify(p: argparse.ArgumentParser) -> None:
    _add(
        p,
        _arg(
            "--cert",
            action="append",
            required=True,
            metavar="CERT",
            help="a signer's certificate whose signature counts as good; repeat "
            "for several",
        ),
        _arg(
            "--signature",
            metavar="SIG",
            help="a detached signature over IN (IN is then the signed content)",
        ),
        _INPUT,
        _arg(
            "-o",
            "--output",
            metavar="OUT",
            help="write the signed content here (default: nothing is written; "
            "- for stdout)",
        ),
    )


def _file_mode(text: str) -> int:
    """``--mode``: permission bits in octal, as chmod(1) takes them."""
    try:
        mode = int(text, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o777:
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not an octal mode (0 to 777)")
    return mode


def configure_inspect(p: argparse.ArgumentParser) -> None:
    _add(p, _INPUT)


def configure_rewrap(p: argparse.ArgumentParser) -> None:
    _key_options(p, "unlock the --key files (or the --keyring) with the passphrase")
    _add(
        p,
        _arg(
            "--to",
            action="append",
            metavar="CERT",
            help="new recipient certificate file; repeat for several recipients",
        ),
        _arg(
            "-i",
            dest="input",
            metavar="IN",
            help="read the message (CMS, OpenPGP, S/MIME or PGP/MIME mail) from IN "
            "(default: stdin)",
        ),
        _OUTPUT,
        _REQUIRE_PQ,
        # ``rewrap --mailbox``: cli_keyring.py runs it.
        _arg("--mailbox", metavar="PATH", help="an mbox file or a Maildir"),
        _arg("--keyring", metavar="DIR", help="keyring for --mailbox"),
        _arg("--identity", metavar="ADDR", help="only this identity's mail"),
        _arg(
            "--workers",
            type=int,
            metavar="N",
            help="worker processes (default: all cores; one for fewer than 300 "
            "messages)",
        ),
    )


def configure_keyring(p: argparse.ArgumentParser) -> None:
    """The keyring's directory and passphrase, then one sub-parser an action
    (cli_keyring.py runs them)."""
    _add(
        p,
        _arg("--dir", required=True, metavar="DIR", help="keyring directory"),
        _arg(
            "--passphrase-env", metavar="VAR", help="the keyring passphrase is in $VAR"
        ),
    )
    actions = p.add_subparsers(dest="action", required=True, parser_class=type(p))
    for name, help, args in _keyring_actions():
        _add(actions.add_parser(name, help=help), *args)


def configure_vectors(p: argparse.ArgumentParser) -> None:
    _add(
        p,
        _arg("action", choices=["verify"], help="run every test vector"),
        _arg(
            "dir",
            nargs="?",
            default=None,
            metavar="DIR",
            help="the vectors directory (default: the one next to the package)",
        ),
    )


def configure_demo(p: argparse.ArgumentParser) -> None:
    """``demo`` takes no options."""
