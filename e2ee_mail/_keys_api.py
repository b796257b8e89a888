"""The public functions on keys: load a certificate or a secret key, X.509 or
OpenPGP, and generate a key pair.

Format packages are imported lazily, as for the message functions in _api.py.
"""

from __future__ import annotations

from typing import Literal

from . import _args
from ._io import DataOrPath, read_input
from .errors import UsageError
from .model import (
    KEY_KINDS,
    OPENPGP_ONLY_KINDS,
    X509_ONLY_KINDS,
    Certificate,
    KeyKind,
    Passphrase,
    SecretKey,
    passphrase_bytes,
)
from .policy import DEFAULT, Policy

__all__ = ["generate_key", "load_certificate", "load_key"]

_OPENPGP_KEY_ARMOR = (
    b"-----BEGIN PGP PUBLIC KEY BLOCK-----",
    b"-----BEGIN PGP PRIVATE KEY BLOCK-----",
)


def _is_openpgp_key(data: bytes) -> bool:
    stripped = data.lstrip()
    return stripped.startswith(_OPENPGP_KEY_ARMOR) or bool(data and data[0] & 0x80)


def load_certificate(data_or_path: DataOrPath) -> Certificate:
    """Load a recipient certificate: X.509 (PEM/DER) or OpenPGP (armored/binary).

    Raises:
        KeyLoadError: unreadable file.
        FormatError: not a certificate we can parse.
    """
    _args.not_loaded(data_or_path, "certificate")
    data = read_input(data_or_path, what="certificate")
    if _is_openpgp_key(data):
        from .openpgp import certs

        return certs.load_certificate(data)
    from .x509 import certs as x509

    return x509.load_certificate(data)


def load_key(
    data_or_path: DataOrPath,
    passphrase: Passphrase = None,
    *,
    policy: Policy = DEFAULT,
) -> SecretKey:
    """Load a secret key: PKCS#8 (PEM/DER) or an OpenPGP secret key.

    Args:
        policy: bounds what unlocking a protected OpenPGP key may cost (Argon2
            memory and work, checked before any work: a wrong passphrase costs
            the same as the right one).

    Raises:
        PassphraseError: the key is protected and the passphrase is missing or wrong.
        PolicyError: its Argon2 parameters are beyond the policy's bounds.
        KeyLoadError, FormatError: not a key we can use.
    """
    _args.not_loaded(data_or_path, "key")
    secret = passphrase_bytes(passphrase)
    data = read_input(data_or_path, what="key")
    if _is_openpgp_key(data):
        from .openpgp import certs

        return certs.load_key(data, secret, policy)
    from .x509 import certs as x509

    return x509.load_key(data, secret)


def generate_key(
    uid: str,
    *,
    format: Literal["openpgp", "x509"] = "openpgp",
    kind: KeyKind = "x25519",
    profile: Literal["rfc9580", "rfc4880"] = "rfc9580",
) -> SecretKey:
    """Generate a new key pair for ``uid``: "Name <addr>" or a bare address.

    Args:
        uid: the user ID; X.509 needs an address in it (it goes into the SAN).
        format: "openpgp" or "x509".
        kind: "x25519", "rsa3072", "rsa4096"; for OpenPGP also
            "mlkem768-x25519": an Ed25519 primary key with an ML-KEM-768+X25519
            encryption subkey (RFC 9980, post-quantum), or "mldsa65-ed25519": the
            same subkey under an ML-DSA-65+Ed25519 primary key, whose signatures
            are post-quantum too (RFC 9980, v6 only); for X.509 also "mlkem768"
            or "mlkem1024" (ML-KEM certificates, RFC 9935).
        profile: for OpenPGP, "rfc9580" (a v6 key) or "rfc4880" (a v4 key, for
            GnuPG 2.2 and other RFC 4880 implementations).

    Every key made signs as well as decrypts: an OpenPGP primary key certifies
    and signs; an X.509 RSA key signs with its own certificate; an X.509 X25519
    key, which cannot sign, comes with an Ed25519 signing key and certificate
    (which issued the X25519 certificate), exported in the same key file.

    Returns:
        The secret key; ``key.public`` is its (encryption) certificate and
        ``key.signing_key`` the key that signs.

    Raises:
        UsageError: an empty uid, or one without an address for X.509; an unknown
            format, kind or profile.
    """
    if not isinstance(uid, str):
        raise UsageError(
            f'uid must be a str such as "Alice <alice@example.org>", not '
            f"{type(uid).__name__}"
        )
    chosen = _args.choice(format, "key format", ("openpgp", "x509"))
    checked_kind = _args.choice(kind, "key kind", KEY_KINDS)
    checked_profile = _args.choice(profile, "profile", ("rfc9580", "rfc4880"))
    if chosen == "x509":
        if checked_profile != "rfc9580":
            raise UsageError("profile applies to format openpgp only")
        if checked_kind in OPENPGP_ONLY_KINDS:
            raise UsageError(f"kind {checked_kind} applies to format openpgp only")
        from .x509 import keygen as x509_keygen

        return x509_keygen.generate(uid, kind=checked_kind)
    if checked_kind in X509_ONLY_KINDS:
        raise UsageError(
            f"key kind {checked_kind} is for format x509 only (RFC 9935 certificates)"
        )
    from .openpgp import keygen

    return keygen.generate(uid, kind=checked_kind, profile=checked_profile)
