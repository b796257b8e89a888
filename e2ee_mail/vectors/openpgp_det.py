"""Vector runner for kind ``openpgp-deterministic`` (data/openpgp/
deterministic-v6.json and deterministic-v4.json): our own OpenPGP messages made
with pinned randomness, checked both ways.

Decrypting goes through :func:`message.decrypt` with each secret key the case lists.
Re-encrypting goes through the private seams the shipping ``encrypt`` functions hand
their random parts to: :func:`message._encrypt_from_parts` (SEIPDv2: session key,
header with its salt, PKESK packets) and :func:`seipdv1._encrypt_from_parts` (session
key, PKESK packets, CFB random prefix). X25519 PKESKs (v6) and ECDH PKESKs (v3) are
made again from their recorded ephemeral secrets; RSA PKESKs cannot be (padding
randomness) and are injected as recorded. The result must be the message, byte for
byte. Imported by :mod:`.loader` on first use.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..openpgp import certs, message, pkesk, pkesk_ecdh, seipdv1
from ..openpgp.certs import OpenPGPCertificate
from ..openpgp.packets import TAG_PKESK
from ..openpgp.packets.header import serialize_packet
from ..openpgp.packets.pkesk import PKESKv3, serialize_pkesk
from ..openpgp.packets.seipd import SEIPDv2Header
from ..openpgp.recipients import recipient_key
from ..policy import Policy
from .case import Case, Mismatch, expect_good_signature

__all__: list[str] = []


def compose(
    data: bytes,
    recipients: Sequence[OpenPGPCertificate],
    *,
    container: str,
    session_key: bytes,
    ephemeral_secrets: Sequence[bytes | None],
    pkesk_packets: Sequence[bytes | None],
    armor: bool,
    policy: Policy,
    header: SEIPDv2Header | None = None,
    cipher: int = 9,
    random_block: bytes | None = None,
) -> bytes:
    """A message from its recorded parts (also used by vectors/gen/det_openpgp.py).

    For each recipient, an ephemeral secret (X25519 / ECDH) makes its PKESK again;
    otherwise the recorded PKESK packet (RSA) is used as it is.
    """
    packets = b""
    for cert, eph, recorded in zip(
        recipients, ephemeral_secrets, pkesk_packets, strict=True
    ):
        if eph is None:
            if recorded is None:
                raise Mismatch("a recipient has neither an ephemeral key nor a PKESK")
            packets += recorded
            continue
        key = recipient_key(cert, policy)
        if container == "seipdv2":
            body = serialize_pkesk(
                pkesk.wrap_v6_from_parts(session_key, key, ephemeral_secret=eph)
            )
        else:
            fields = pkesk_ecdh.wrap_ecdh(
                session_key, cipher, key, 3, _ephemeral_secret=eph
            )
            body = serialize_pkesk(PKESKv3(key.key_id, key.packet.algorithm, fields))
        packets += serialize_packet(TAG_PKESK, body)
    if container == "seipdv2":
        if header is None:
            raise Mismatch("a SEIPDv2 case needs its header")
        out = message._encrypt_from_parts(
            data, header, session_key, packets, armor=armor
        )
    else:
        out = seipdv1._encrypt_from_parts(
            data, session_key, packets, random_block, armor=armor
        )
    return bytes(out)


def run_deterministic(case: Case, policy: Policy) -> None:
    plain = case.plaintext_to_reencrypt(
        lambda data, key, secret: message.decrypt(
            data, [certs.load_key(key, secret)], policy=policy
        )
    )
    if plain is None:
        return
    container = case.text("container")
    recipients = [
        certs.load_certificate(p.read_bytes()) for p in case.paths("recipients")
    ]
    header = None
    random_block = None
    if container == "seipdv2":
        header = SEIPDv2Header(
            case.integer("cipher"),
            case.integer("aead"),
            case.integer("chunk_size_octet"),
            case.hex("salt"),
        )
    else:
        random_block = case.hex("random_block")
    out = compose(
        plain,
        recipients,
        container=container,
        session_key=case.hex("session_key"),
        ephemeral_secrets=case.optional_hexes("ephemeral_secrets"),
        pkesk_packets=case.optional_hexes("pkesk_packets"),
        armor=case.value("armor") is True,
        policy=policy,
        header=header,
        cipher=case.integer("cipher"),
        random_block=random_block,
    )
    if out != case.message():
        raise Mismatch("re-encrypting with the recorded randomness gives other bytes")


def run_signature(case: Case, policy: Policy) -> None:
    """Kind ``openpgp-signatures-deterministic``: an Ed25519 signature (v6 with
    its salt, v4 EdDSALegacy) made at a recorded time. Input ``signature``
    (armored) or ``signature_b64`` must verify through the public ``verify``
    against ``cert`` (a good signature by ``expected.fingerprint`` over ``data``);
    op ``sign`` also signs ``data`` again with ``key`` through
    ``signing.sign_detached`` / ``sign_inline`` and compares the bytes."""
    from .._api import verify
    from ..openpgp import signing

    signature = case.message_or_b64("signature")
    data = case.hex("data")
    cert = certs.load_certificate((case.directory / case.text("cert")).read_bytes())
    inline = case.text("form") == "inline"
    if inline:
        verified = verify(signature, cert, policy=policy)
    else:
        verified = verify(data, cert, signature=signature, policy=policy)
    expect_good_signature(verified, data, case)
    if case.text("op") != "sign":
        return
    key = certs.load_key((case.directory / case.text("key")).read_bytes(), None)
    make = signing.sign_inline if inline else signing.sign_detached
    salt = case.hex("salt") if "salt" in case.inputs else None
    again = make(
        data,
        key,
        text=case.value("text") is True,
        armor=case.value("armor") is True,
        now=case.integer("created"),
        _salt=salt,
    )
    if again != signature:
        raise Mismatch(
            "signing again with the recorded salt and time gives other bytes"
        )
