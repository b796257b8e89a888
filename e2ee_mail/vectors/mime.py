"""Vector runners for kinds ``smime-deterministic`` and ``pgpmime-deterministic``
(data/mime/smime.json, data/mime/pgpmime.json): whole mails encrypted with
pinned randomness, checked both ways.

Decrypting goes through the public :func:`e2ee_mail.decrypt_message`; the inner entity
it returns (protected Subject restored, RFC 9788) must serialize to the expected bytes.
Re-encrypting builds the inner entity as ``encrypt_message`` does, encrypts it through
the format's ``*_from_parts`` seam (``cms.build.encrypt_bytes_from_parts`` or
``vectors.openpgp_det.compose``) and wraps it with the MIME module's
``message_from_parts``; the outer mail must be the recorded one, byte for byte.
Imported by :mod:`.loader` on first use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from .._mail_api import decrypt_message
from ..cms import build
from ..mime import headers, pgpmime, smime
from ..mime.wire import to_bytes
from ..openpgp import certs
from ..openpgp.packets.seipd import SEIPDv2Header
from ..policy import Policy
from ..x509 import certs as x509
from . import openpgp_det as _vectors_det
from .case import Case, Mismatch

__all__ = ["parse_mail", "pgpmime_compose", "smime_compose"]


def parse_mail(data: bytes) -> EmailMessage:
    """A mail as the ``email`` package reads it (policy.default)."""
    msg = BytesParser(policy=email_policy.default).parsebytes(data)
    assert isinstance(msg, EmailMessage)
    return msg


def _hexes(inputs: Mapping[str, object], name: str) -> list[bytes | None]:
    value = inputs.get(name)
    if not isinstance(value, list):
        raise Mismatch(f"input {name!r} is not a list")
    try:
        return [None if v is None else bytes.fromhex(v) for v in value]
    except (TypeError, ValueError):
        raise Mismatch(f"input {name!r} holds a value that is not hex") from None


def _str(inputs: Mapping[str, object], name: str) -> str:
    value = inputs.get(name)
    if not isinstance(value, str):
        raise Mismatch(f"input {name!r} is not a string")
    return value


def _int(inputs: Mapping[str, object], name: str) -> int:
    value = inputs.get(name)
    if not isinstance(value, int):
        raise Mismatch(f"input {name!r} is not an integer")
    return value


def _paths(inputs: Mapping[str, object], name: str, directory: Path) -> list[Path]:
    value = inputs.get(name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Mismatch(f"input {name!r} is not a list of file names")
    return [directory / v for v in value]


def smime_compose(
    mail: EmailMessage, inputs: Mapping[str, object], directory: Path, policy: Policy
) -> bytes:
    """The S/MIME mail of ``mail`` from the recorded parts in ``inputs``."""
    cipher = _str(inputs, "cipher")
    data = smime.canonical_bytes(headers.build_inner(mail))
    der = build.encrypt_bytes_from_parts(
        data,
        [
            x509.load_certificate(p.read_bytes())
            for p in _paths(inputs, "recipients", directory)
        ],
        cek=bytes.fromhex(_str(inputs, "cek")),
        nonce=bytes.fromhex(_str(inputs, "nonce")),
        ephemeral_secrets=_hexes(inputs, "ephemeral_secrets"),
        encrypted_keys=_hexes(inputs, "encrypted_keys"),
        authenticated=cipher == "aes-256-gcm",
        policy=dataclasses.replace(
            policy,
            allow_rsa_pkcs1v15_encrypt=_str(inputs, "key_transport") == "pkcs1v15",
        ),
    )
    return to_bytes(smime.message_from_parts(mail, der, cipher))


def pgpmime_compose(
    mail: EmailMessage, inputs: Mapping[str, object], directory: Path, policy: Policy
) -> bytes:
    """The PGP/MIME mail of ``mail`` from the recorded parts in ``inputs``."""
    data = to_bytes(headers.build_inner(mail))
    armored = _vectors_det.compose(
        data,
        [
            certs.load_certificate(p.read_bytes())
            for p in _paths(inputs, "recipients", directory)
        ],
        container="seipdv2",
        session_key=bytes.fromhex(_str(inputs, "session_key")),
        ephemeral_secrets=_hexes(inputs, "ephemeral_secrets"),
        pkesk_packets=_hexes(inputs, "pkesk_packets"),
        armor=True,
        policy=policy,
        header=SEIPDv2Header(
            _int(inputs, "cipher"),
            _int(inputs, "aead"),
            _int(inputs, "chunk_size_octet"),
            bytes.fromhex(_str(inputs, "salt")),
        ),
    )
    return to_bytes(pgpmime.message_from_parts(mail, armored, _str(inputs, "boundary")))


def _run(case: Case, policy: Policy, load: str) -> None:
    data = case.b64("message_b64")
    for path in _paths(case.inputs, "keys", case.directory):
        raw = path.read_bytes()
        key = x509.load_key(raw, None) if load == "x509" else certs.load_key(raw, None)
        inner = decrypt_message(data, [key], policy=policy)
        if to_bytes(inner) != case.expected_b64("inner_b64"):
            raise Mismatch(f"{path.name} gives another inner entity")
        if str(inner.get("subject", "")) != case.expected.get("subject"):
            raise Mismatch(f"{path.name}: the protected Subject is not restored")
    op = case.text("op")
    if op == "decrypt":
        return
    if op != "encrypt":
        raise Mismatch(f"unknown op {op!r}")
    mail = parse_mail(case.b64("mail_b64"))
    compose = smime_compose if load == "x509" else pgpmime_compose
    if compose(mail, case.inputs, case.directory, policy) != data:
        raise Mismatch("re-encrypting with the recorded randomness gives other bytes")


def run_smime(case: Case, policy: Policy) -> None:
    _run(case, policy, "x509")


def run_pgpmime(case: Case, policy: Policy) -> None:
    _run(case, policy, "openpgp")
