"""Write the TEST-ONLY keys under e2ee_mail/vectors/data/keys/ that the deterministic
vectors use.

Run once: ``python vectors/gen/test_keys.py`` (from the source tree). Key generation
draws fresh randomness, so this script is NOT deterministic; it refuses to overwrite
keys that exist (the deterministic vectors are bound to them). Pass ``--force`` to
regenerate, then regenerate every ``deterministic*.json``, smime.json and pgpmime.json.

Every key is written in every encoding e2ee_mail accepts:

- X.509 (CMS, S/MIME): ``<name>.key.pem`` (PKCS#8 PEM followed by the certificate, as
  ``e2ee-mail keygen`` writes), ``<name>.key.der`` (PKCS#8 DER),
  ``<name>.crt.pem`` and ``<name>.crt.der``;
- OpenPGP: ``<name>.sec.asc`` / ``<name>.sec.pgp`` (unprotected secret key, armored /
  binary) and ``<name>.pub.asc`` / ``<name>.pub.pgp`` (certificate);
- protected with the passphrase :data:`PASSPHRASE`: ``<name>.key.protected.pem`` and
  ``<name>.sec.protected.asc`` (see :func:`protected`).

These keys are public knowledge: never use them for anything but tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

from e2ee_mail.openpgp import certs, keygen
from e2ee_mail.x509 import certs as x509
from e2ee_mail.x509 import keygen as x509gen

KEYS = Path(__file__).resolve().parents[2] / "e2ee_mail" / "vectors" / "data" / "keys"
#: (file stem, uid, kind) for X.509 and OpenPGP (profile) keys.
X509 = (
    ("cms-rsa3072", "CMS RSA test key (TEST ONLY) <cms-rsa@test.invalid>", "rsa3072"),
    (
        "cms-x25519",
        "CMS X25519 test key (TEST ONLY) <cms-x25519@test.invalid>",
        "x25519",
    ),
)
#: (file stem, uid) of X.509 Ed25519 signing keys (RFC 8419): the signing key
#: that keygen makes beside an X25519 key, written alone.
X509_SIGNING = (
    (
        "cms-ed25519",
        "CMS Ed25519 signing test key (TEST ONLY) <cms-ed25519@test.invalid>",
    ),
)
OPENPGP = (
    (
        "pgp6-x25519",
        "v6 X25519 (TEST ONLY) <v6-x25519@test.invalid>",
        "x25519",
        "rfc9580",
    ),
    ("pgp6-rsa3072", "v6 RSA (TEST ONLY) <v6-rsa@test.invalid>", "rsa3072", "rfc9580"),
    ("pgp4-cv25519", "v4 ECDH (TEST ONLY) <v4-ecdh@test.invalid>", "x25519", "rfc4880"),
    ("pgp4-rsa3072", "v4 RSA (TEST ONLY) <v4-rsa@test.invalid>", "rsa3072", "rfc4880"),
)


def main(force: bool) -> None:
    KEYS.mkdir(exist_ok=True)
    for stem, uid, kind in X509:
        if (KEYS / f"{stem}.key.pem").exists() and not force:
            continue
        key = x509gen.generate(uid, kind=kind)  # type: ignore[arg-type]
        (KEYS / f"{stem}.key.pem").write_bytes(key.export(armor=True))
        (KEYS / f"{stem}.key.der").write_bytes(key.export(armor=False))
        (KEYS / f"{stem}.crt.pem").write_bytes(key.public.export(armor=True))
        (KEYS / f"{stem}.crt.der").write_bytes(key.public.export(armor=False))
    for stem, uid in X509_SIGNING:
        if (KEYS / f"{stem}.key.pem").exists() and not force:
            continue
        signer = x509gen.generate(uid, kind="x25519").signing_key
        (KEYS / f"{stem}.key.pem").write_bytes(signer.export(armor=True))
        (KEYS / f"{stem}.key.der").write_bytes(signer.export(armor=False))
        (KEYS / f"{stem}.crt.pem").write_bytes(signer.public.export(armor=True))
        (KEYS / f"{stem}.crt.der").write_bytes(signer.public.export(armor=False))
    for stem, uid, kind, profile in OPENPGP:
        if (KEYS / f"{stem}.sec.asc").exists() and not force:
            continue
        pgp = keygen.generate(uid, kind=kind, profile=profile)
        (KEYS / f"{stem}.sec.asc").write_bytes(pgp.export(armor=True))
        (KEYS / f"{stem}.sec.pgp").write_bytes(pgp.export(armor=False))
        (KEYS / f"{stem}.pub.asc").write_bytes(pgp.public.export(armor=True))
        (KEYS / f"{stem}.pub.pgp").write_bytes(pgp.public.export(armor=False))


#: The passphrase of the protected copies (TEST ONLY, given in the README.md of KEYS).
PASSPHRASE = b"test-only passphrase"


def protected(force: bool) -> None:
    """Passphrase-protected copies of the keys above: ``<stem>.key.protected.pem``
    (encrypted PKCS#8 + certificate) and ``<stem>.sec.protected.asc`` (OpenPGP S2K:
    Argon2 + AES-OCB for v6, iterated+salted SHA-256 for v4). Salts are random, so
    these too are written once."""
    for stem, _uid, _kind in X509:
        out = KEYS / f"{stem}.key.protected.pem"
        if out.exists() and not force:
            continue
        key = x509.load_key((KEYS / f"{stem}.key.pem").read_bytes(), None)
        out.write_bytes(key.export(passphrase=PASSPHRASE, armor=True))
    for stem, _uid, _kind, _profile in OPENPGP:
        out = KEYS / f"{stem}.sec.protected.asc"
        if out.exists() and not force:
            continue
        pgp = certs.load_key((KEYS / f"{stem}.sec.asc").read_bytes(), None)
        out.write_bytes(pgp.export(passphrase=PASSPHRASE, armor=True))


if __name__ == "__main__":
    main("--force" in sys.argv[1:])
    protected("--force" in sys.argv[1:])
