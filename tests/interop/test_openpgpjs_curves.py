"""X448 and NIST/brainpool ECDH with OpenPGP.js v6, both directions.

The keys are built by tests/pgp_curve_keys.py (an Ed25519 primary with an X448 or
ECDH subkey, as v6 and v4 keys); OpenPGP.js encrypts to their certificates and we
decrypt, and it decrypts what we encrypt to them with their secret keys, which also
shows it reads the key material and binding signatures we wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from peers import openpgpjs
from pgp_curve_keys import build_key, ecdh_subkey, x448_subkey

import e2ee_mail

pytestmark = pytest.mark.interop
BODY = b"curve interop \x00\xff" * 200

KEYS = {
    "x448-v6": lambda: x448_subkey(6),
    "x448-v4": lambda: x448_subkey(4),
    "nistp256-v4": lambda: ecdh_subkey("nistp256"),
    "nistp521-v4": lambda: ecdh_subkey("nistp521"),
    "brainpoolP384r1-v4": lambda: ecdh_subkey("brainpoolP384r1"),
    "nistp384-v6": lambda: ecdh_subkey("nistp384", version=6),
}


def _key(tmp_path: Path, kind: str) -> tuple[e2ee_mail.SecretKey, Path, Path]:
    public, secret, _ = KEYS[kind]()
    key = e2ee_mail.load_key(build_key(public, secret))
    pub, sec = tmp_path / "k.pub", tmp_path / "k.key"
    pub.write_bytes(key.public.export())
    sec.write_bytes(key.export())
    return key, pub, sec


@pytest.mark.parametrize("kind", list(KEYS))
def test_openpgpjs_encrypts_we_decrypt(tmp_path: Path, kind: str) -> None:
    key, pub, _ = _key(tmp_path, kind)
    (tmp_path / "plain").write_bytes(BODY)
    openpgpjs(
        tmp_path,
        op="encrypt",
        certs=[str(pub)],
        input=str(tmp_path / "plain"),
        output=str(tmp_path / "sealed"),
        armor=False,
        aead="default",
    )
    sealed = (tmp_path / "sealed").read_bytes()
    assert e2ee_mail.decrypt(sealed, key) == BODY


@pytest.mark.parametrize("kind", list(KEYS))
def test_we_encrypt_openpgpjs_decrypts(tmp_path: Path, kind: str) -> None:
    key, _, sec = _key(tmp_path, kind)
    (tmp_path / "sealed").write_bytes(bytes(e2ee_mail.encrypt(BODY, key.public)))
    openpgpjs(
        tmp_path,
        op="decrypt",
        keys=[str(sec)],
        input=str(tmp_path / "sealed"),
        output=str(tmp_path / "opened"),
    )
    assert (tmp_path / "opened").read_bytes() == BODY
