"""The key model shared by both formats: certificate equality, secret-key export and
saving a key file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import e2ee_mail
from e2ee_mail.openpgp import certs
from e2ee_mail.x509 import certs as x509_certs


def test_two_loads_of_an_x509_certificate_are_equal(
    xkey: x509_certs.X509SecretKey,
) -> None:
    pem = e2ee_mail.load_certificate(xkey.public.export(armor=True))
    der = e2ee_mail.load_certificate(xkey.public.export(armor=False))
    assert pem == der
    assert hash(pem) == hash(der)
    assert len({pem, der, xkey.public}) == 1


def test_two_loads_of_an_openpgp_certificate_are_equal(
    alice: certs.OpenPGPSecretKey,
) -> None:
    armored = e2ee_mail.load_certificate(alice.public.export(armor=True))
    binary = e2ee_mail.load_certificate(alice.public.export(armor=False))
    assert armored == binary
    assert hash(armored) == hash(binary)
    assert len({armored, binary, alice.public}) == 1
    assert armored in [alice.public]


def test_different_certificates_are_not_equal(
    alice: certs.OpenPGPSecretKey,
    bob: certs.OpenPGPSecretKey,
    xkey: x509_certs.X509SecretKey,
    other: x509_certs.X509SecretKey,
) -> None:
    assert alice.public != bob.public
    assert xkey.public != other.public
    assert alice.public != xkey.public
    assert xkey.public != alice.public
    assert alice.public != alice.public.fingerprint
    assert len({alice.public, bob.public, xkey.public, other.public}) == 4


@pytest.mark.parametrize("passphrase", ["correct horse", "pässwörd", b"octets"])
def test_export_takes_a_str_or_bytes_passphrase_as_load_key_does(
    xkey: x509_certs.X509SecretKey, passphrase: str | bytes
) -> None:
    data = xkey.export(passphrase=passphrase)
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(data)
    assert e2ee_mail.load_key(data, passphrase).public == xkey.public


def test_openpgp_export_takes_a_str_passphrase(alice: certs.OpenPGPSecretKey) -> None:
    data = alice.export(passphrase="pässwörd")
    assert e2ee_mail.load_key(data, "pässwörd".encode()).public == alice.public


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"passphrase": 1234}, "passphrase must be str, bytes or None"),
        ({"passphrase": bytearray(b"pw")}, "passphrase must be str, bytes or None"),
        ({"armor": "yes"}, "armor must be True or False"),
    ],
)
def test_export_refuses_bad_arguments(
    alice: certs.OpenPGPSecretKey,
    xkey: x509_certs.X509SecretKey,
    kwargs: dict[str, object],
    says: str,
) -> None:
    for key in (alice, xkey):
        with pytest.raises(e2ee_mail.UsageError, match=says):
            key.export(**kwargs)  # type: ignore[arg-type]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_save_writes_a_0600_key_file_that_loads(
    tmp_path: Path, xkey: x509_certs.X509SecretKey
) -> None:
    path = tmp_path / "x.key"
    xkey.save(path, passphrase="pw")
    assert _mode(path) == 0o600
    assert e2ee_mail.load_key(path, "pw").public == xkey.public
    xkey.save(str(tmp_path / "plain.key"))
    assert e2ee_mail.load_key(str(tmp_path / "plain.key")).public == xkey.public
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.key", "x.key"]


def test_save_replaces_a_readable_file_with_a_0600_one(
    tmp_path: Path, alice: certs.OpenPGPSecretKey
) -> None:
    path = tmp_path / "alice.key"
    path.write_bytes(b"old")
    os.chmod(path, 0o644)
    alice.save(path)
    assert _mode(path) == 0o600
    assert e2ee_mail.load_key(path).public == alice.public


def test_save_that_fails_leaves_the_file_as_it_was(
    tmp_path: Path, xkey: x509_certs.X509SecretKey
) -> None:
    path = tmp_path / "x.key"
    path.write_bytes(b"old")
    with pytest.raises(e2ee_mail.UsageError):
        xkey.save(path, passphrase=42)  # type: ignore[arg-type]
    with pytest.raises(e2ee_mail.UsageError, match="path must be"):
        xkey.save(b"x.key")  # type: ignore[arg-type]
    with pytest.raises(OSError):
        xkey.save(tmp_path / "missing" / "x.key")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.key"]


def test_verdict_types_are_public_dataclasses_loaded_on_first_use() -> None:
    import dataclasses
    import pickle

    from e2ee_mail import _verdicts, model

    for name in ("SignatureResult", "Verified", "VerifiedMessage"):
        assert getattr(model, name) is getattr(_verdicts, name)
        assert getattr(e2ee_mail, name) is getattr(_verdicts, name)
        assert dataclasses.is_dataclass(getattr(model, name))
    result = model.SignatureResult("bad", signer="a@example.org", reason="no")
    good = dataclasses.replace(result, status="good", reason="")
    assert good.good
    assert good == model.SignatureResult("good", signer="a@example.org")
    verified = model.Verified(b"data", (good,))
    assert pickle.loads(pickle.dumps(verified)) == verified
    assert repr(verified).startswith("Verified(data=b'data', signatures=(<Signature")
    with pytest.raises(AttributeError, match="no attribute 'Verifed'"):
        model.Verifed  # noqa: B018
