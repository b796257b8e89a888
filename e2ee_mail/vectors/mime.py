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


def smime_compose(
    mail: EmailMessage, inputs: Mapping[str, object], directory: Path, policy: Policy
) -> bytes:
    """The S/MIME mail of ``mail`` from the recorded parts in ``inputs``."""
    case = Case.of_inputs(inputs, directory)
    cipher = case.text("cipher")
    data = smime.canonical_bytes(headers.build_inner(mail))
    der = build.encrypt_bytes_from_parts(
        data,
        [x509.load_certificate(p.read_bytes()) for p in case.paths("recipients")],
        cek=case.hex("cek"),
        nonce=case.hex("nonce"),
        ephemeral_secrets=case.optional_hexes("ephemeral_secrets"),
        encrypted_keys=case.optional_hexes("encrypted_keys"),
        authenticated=cipher == "aes-256-gcm",
        policy=dataclasses.replace(
            policy,
            allow_rsa_pkcs1v15_encrypt=case.text("key_transport") == "pkcs1v15",
        ),
    )
    return to_bytes(smime.message_from_parts(mail, der, cipher))


def pgpmime_compose(
    mail: EmailMessage, inputs: Mapping[str, object], directory: Path, policy: Policy
) -> bytes:
    """The PGP/MIME mail of ``mail`` from the recorded parts in ``inputs``."""
    case = Case.of_inputs(inputs, directory)
    data = to_bytes(headers.build_inner(mail))
    armored = _vectors_det.compose(
        data,
        [certs.load_certificate(p.read_bytes()) for p in case.paths("recipients")],
        container="seipdv2",
        session_key=case.hex("session_key"),
        ephemeral_secrets=case.optional_hexes("ephemeral_secrets"),
        pkesk_packets=case.optional_hexes("pkesk_packets"),
        armor=True,
        policy=policy,
        header=SEIPDv2Header(
            case.integer("cipher"),
            case.integer("aead"),
            case.integer("chunk_size_octet"),
            case.hex("salt"),
        ),
    )
    return to_bytes(pgpmime.message_from_parts(mail, armored, case.text("boundary")))


def _run(case: Case, policy: Policy, load: str) -> None:
    data = case.b64("message_b64")
    for path in case.paths("keys"):
        raw = path.read_bytes()
        key = x509.load_key(raw, None) if load == "x509" else certs.load_key(raw, None)
        inner = decrypt_message(data, [key], policy=policy)
        if to_bytes(inner) != case.expected_b64("inner_b64"):
            raise Mismatch(f"{path.name} gives another inner entity")
        if str(inner.get("subject", "")) != case.expected.get("subject"):
            raise Mismatch(f"{path.name}: the protected Subject is not restored")
    if not case.reencrypts():
        return
    mail = parse_mail(case.b64("mail_b64"))
    compose = smime_compose if load == "x509" else pgpmime_compose
    if compose(mail, case.inputs, case.directory, policy) != data:
        raise Mismatch("re-encrypting with the recorded randomness gives other bytes")


def run_smime(case: Case, policy: Policy) -> None:
    _run(case, policy, "x509")


def run_pgpmime(case: Case, policy: Policy) -> None:
    _run(case, policy, "openpgp")
