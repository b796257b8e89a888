"""Valid envelopes of every format for the fuzz and attack suites.

Keys are generated once per process (never stored); messages are made through the
public API, plus hand-built OpenPGP messages (SEIPDv2 over arbitrary inner packets,
OCB, SEIPDv1 with or without MDC, SED) sealed with the library's own primitives so
that only the content is the attacker's. Mails (S/MIME, PGP/MIME) and key exports of
every kind complete the set.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import zlib
from email.message import EmailMessage
from typing import Any

import e2ee_mail
from e2ee_mail.policy import DEFAULT

PLAINTEXT = b"Attack at dawn. The vault code is 7-4-1-9.\n" * 3
SUBJECT = "Quarterly numbers"
BODY_TEXT = "The numbers are in: 42 and 17.\n"
V15 = dataclasses.replace(DEFAULT, allow_rsa_pkcs1v15_encrypt=True)
SMALL_CHUNKS = dataclasses.replace(DEFAULT, chunk_size_octet=0)  # 64-byte chunks


# --------------------------------------------------------------------------- keys


@dataclasses.dataclass(frozen=True)
class Keys:
    x509_x25519: e2ee_mail.SecretKey
    x509_rsa: e2ee_mail.SecretKey
    pgp6_x25519: e2ee_mail.SecretKey
    pgp6_rsa: e2ee_mail.SecretKey
    pgp4_ecdh: e2ee_mail.SecretKey
    pgp4_rsa: e2ee_mail.SecretKey
    other_x509: e2ee_mail.SecretKey
    other_pgp6: e2ee_mail.SecretKey


@functools.cache
def keys() -> Keys:
    """One key of every kind (generated once per process)."""
    g = e2ee_mail.generate_key
    return Keys(
        x509_x25519=g("Xa <xa@example.org>", format="x509", kind="x25519"),
        x509_rsa=g("Xr <xr@example.org>", format="x509", kind="rsa3072"),
        pgp6_x25519=g("Pa <pa@example.org>"),
        pgp6_rsa=g("Pr <pr@example.org>", kind="rsa3072"),
        pgp4_ecdh=g("Qa <qa@example.org>", profile="rfc4880"),
        pgp4_rsa=g("Qr <qr@example.org>", kind="rsa3072", profile="rfc4880"),
        other_x509=g("O <o@example.org>", format="x509", kind="x25519"),
        other_pgp6=g("P <p@example.org>"),
    )


# ------------------------------------------------------------------- envelopes


@dataclasses.dataclass(frozen=True)
class Envelope:
    """A valid envelope: ``binary`` (DER / binary packets) and how it is encoded."""

    name: str
    family: str  # "cms" | "openpgp"
    binary: bytes
    armored: bool
    key: e2ee_mail.SecretKey
    plaintext: bytes = PLAINTEXT
    policy: e2ee_mail.Policy = DEFAULT

    def encode(self, binary: bytes) -> bytes:
        if not self.armored:
            return binary
        if self.family == "cms":
            from e2ee_mail.cms import pem

            return bytes(pem.armor(binary))
        from e2ee_mail.openpgp import armor

        return bytes(armor.enarmor(binary))

    @property
    def data(self) -> bytes:
        return self.encode(self.binary)

    def open(self, data: bytes) -> bytes:
        return bytes(e2ee_mail.decrypt(data, self.key, policy=self.policy))


def _dearmor(family: str, data: bytes) -> bytes:
    if family == "cms":
        from e2ee_mail.cms import pem

        return pem.dearmor(data)
    from e2ee_mail.openpgp import armor

    return armor.dearmor(data)[1]


@functools.cache
def envelopes() -> tuple[Envelope, ...]:
    k = keys()
    out: list[Envelope] = []

    def add(name: str, family: str, key: e2ee_mail.SecretKey, **kw: Any) -> None:
        armor = kw.pop("armor", False)
        policy = kw.pop("policy", DEFAULT)
        fmt = "cms" if family == "cms" else "openpgp"
        data = bytes(
            e2ee_mail.encrypt(
                PLAINTEXT, key.public, format=fmt, armor=armor, policy=policy, **kw
            )
        )
        binary = _dearmor(family, data) if armor else data
        out.append(Envelope(name, family, binary, armor, key))

    add("cms-rsa-oaep-der", "cms", k.x509_rsa)
    add("cms-rsa-oaep-pem", "cms", k.x509_rsa, armor=True)
    add("cms-rsa-v15-der", "cms", k.x509_rsa, policy=V15)
    add("cms-x25519-der", "cms", k.x509_x25519)
    add("cms-x25519-pem", "cms", k.x509_x25519, armor=True)
    add("pgp6-x25519-gcm", "openpgp", k.pgp6_x25519)
    add("pgp6-x25519-gcm-armor", "openpgp", k.pgp6_x25519, armor=True)
    add("pgp6-rsa-gcm", "openpgp", k.pgp6_rsa)
    add("pgp6-x25519-gcm-64B-chunks", "openpgp", k.pgp6_x25519, policy=SMALL_CHUNKS)
    out.append(
        Envelope(
            "pgp6-x25519-ocb",
            "openpgp",
            build_seipdv2(k.pgp6_x25519, literal_packet(PLAINTEXT), aead=2),
            False,
            k.pgp6_x25519,
        )
    )
    out.append(
        Envelope(
            "pgp6-rsa-ocb-64B-chunks",
            "openpgp",
            build_seipdv2(k.pgp6_rsa, literal_packet(PLAINTEXT), aead=2, chunk=0),
            False,
            k.pgp6_rsa,
        )
    )
    add("pgp4-ecdh-seipdv1", "openpgp", k.pgp4_ecdh)
    add("pgp4-ecdh-seipdv1-armor", "openpgp", k.pgp4_ecdh, armor=True)
    add("pgp4-rsa-seipdv1", "openpgp", k.pgp4_rsa)
    return tuple(out)


def envelope(name: str) -> Envelope:
    return next(e for e in envelopes() if e.name == name)


# ------------------------------------------------- hand-built OpenPGP messages


def pgp_packet(tag: int, body: bytes) -> bytes:
    """A new-format packet with a definite length (RFC 9580 §4.2.1)."""
    n = len(body)
    if n < 192:
        length = bytes([n])
    elif n < 8384:
        n -= 192
        length = bytes([(n >> 8) + 192, n & 0xFF])
    else:
        length = b"\xff" + len(body).to_bytes(4, "big")
    return bytes([0xC0 | tag]) + length + body


def literal_packet(data: bytes, fmt: bytes = b"b") -> bytes:
    return pgp_packet(11, fmt + b"\x00" + bytes(4) + data)


def compressed_packet(inner: bytes, algo: int = 1) -> bytes:
    """Compressed Data (RFC 9580 §5.6): 1 ZIP (raw deflate), 2 ZLIB."""
    if algo == 1:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        body = c.compress(inner) + c.flush()
    else:
        body = zlib.compress(inner, 9)
    return pgp_packet(8, bytes([algo]) + body)


def deflate_zeros(n: int, algo: int = 1) -> bytes:
    """A Compressed Data body that inflates to a literal packet of ``n`` zero bytes,
    built without holding ``n`` bytes in memory."""
    head = b"b\x00" + bytes(4)
    total = len(head) + n
    header = b"\xcb\xff" + total.to_bytes(4, "big")
    c = (
        zlib.compressobj(9, zlib.DEFLATED, -15)
        if algo == 1
        else zlib.compressobj(9, zlib.DEFLATED, 15)
    )
    parts = [c.compress(header + head)]
    block = bytes(1 << 20)
    left = n
    while left:
        step = min(left, len(block))
        parts.append(c.compress(block[:step]))
        left -= step
    parts.append(c.flush())
    return pgp_packet(8, bytes([algo]) + b"".join(parts))


def build_seipdv2(
    key: e2ee_mail.SecretKey,
    inner: bytes,
    *,
    aead: int = 3,
    chunk: int = 16,
    session_key: bytes | None = None,
) -> bytes:
    """PKESKv6 + SEIPDv2 over arbitrary inner packets, through the library's own
    sealing code (so the crypto is right and only the content is ours)."""
    from e2ee_mail.core.random import random_bytes
    from e2ee_mail.openpgp import seipdv2
    from e2ee_mail.openpgp.recipients import pkesk_packets, recipient_key

    sk = session_key or random_bytes(32)
    header = seipdv2.new_header(9, aead, chunk)
    size = seipdv2.sealed_body_size(header, len(inner))
    out = bytearray(size)
    seipdv2.seal_into(header, sk, b"", inner, memoryview(out))
    wraps = pkesk_packets(sk, [recipient_key(key.public, DEFAULT)])  # type: ignore[arg-type]
    return bytes(wraps) + pgp_packet(18, bytes(out))


def v3_pkesk(key: e2ee_mail.SecretKey, session_key: bytes, cipher: int = 9) -> bytes:
    from e2ee_mail.openpgp import pkesk
    from e2ee_mail.openpgp.packets.pkesk import serialize_pkesk
    from e2ee_mail.openpgp.recipients import recipient_key

    info = recipient_key(key.public, DEFAULT)  # type: ignore[arg-type]
    return pgp_packet(1, serialize_pkesk(pkesk.wrap_v3(session_key, cipher, info)))


def cfb_encrypt(session_key: bytes, plaintext: bytes, *, mdc: bool) -> bytes:
    """OpenPGP CFB as SEIPDv1 uses it (RFC 9580 §5.13.1): zero IV, a random block
    plus its last two octets repeated, then the data, then (optionally) the MDC."""
    import hashlib
    import os

    from cryptography.hazmat.decrepit.ciphers.modes import CFB
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

    prefix = os.urandom(16)
    prefix += prefix[-2:]
    data = prefix + plaintext
    if mdc:
        data += b"\xd3\x14"
        data += hashlib.sha1(data).digest()
    enc = Cipher(algorithms.AES(session_key), CFB(bytes(16))).encryptor()
    return enc.update(data) + enc.finalize()


def build_seipdv1(
    key: e2ee_mail.SecretKey, inner: bytes, *, mdc: bool = True, sed: bool = False
) -> bytes:
    """v3 PKESK + SEIPDv1 (or, with ``sed``, a Symmetrically Encrypted Data packet)."""
    import os

    sk = os.urandom(32)
    body = cfb_encrypt(sk, inner, mdc=mdc)
    packet = pgp_packet(9, body) if sed else pgp_packet(18, b"\x01" + body)
    return v3_pkesk(key, sk) + packet


# -------------------------------------------------------------------- mail


def sample_mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "Bob <bob@example.org>"
    msg["Subject"] = SUBJECT
    msg.set_content(BODY_TEXT)
    return msg


def mail_body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    # The decrypted entity keeps its canonical CRLF line ends (RFC 3156 §3).
    return content.replace("\r\n", "\n")


@functools.cache
def mails() -> dict[str, tuple[bytes, e2ee_mail.SecretKey]]:
    from e2ee_mail.mime.detect import serialize

    k = keys()
    smime = e2ee_mail.encrypt_message(sample_mail(), k.x509_x25519.public)
    smime_rsa = e2ee_mail.encrypt_message(sample_mail(), k.x509_rsa.public)
    pgp = e2ee_mail.encrypt_message(
        sample_mail(), k.pgp6_x25519.public, format="pgpmime"
    )
    pgp4 = e2ee_mail.encrypt_message(
        sample_mail(), k.pgp4_ecdh.public, format="pgpmime"
    )
    return {
        "smime-x25519": (serialize(smime), k.x509_x25519),
        "smime-rsa": (serialize(smime_rsa), k.x509_rsa),
        "pgpmime-v6": (serialize(pgp), k.pgp6_x25519),
        "pgpmime-v4": (serialize(pgp4), k.pgp4_ecdh),
    }


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data)


# ------------------------------------------------------------- key material

PASSPHRASE = b"correct horse"


@functools.cache
def key_exports() -> dict[str, tuple[str, bytes, bytes | None, str]]:
    """name -> (kind "cert"|"key", binary, passphrase, family "der"|"pgp")."""
    from e2ee_mail.cms import pem
    from e2ee_mail.openpgp import armor

    k = keys()
    out: dict[str, tuple[str, bytes, bytes | None, str]] = {}
    for name in (
        "x509_x25519",
        "x509_rsa",
        "pgp6_x25519",
        "pgp6_rsa",
        "pgp4_ecdh",
        "pgp4_rsa",
    ):
        key: e2ee_mail.SecretKey = getattr(k, name)
        family = "der" if name.startswith("x509") else "pgp"
        for kind, blob, pw in (
            ("cert", key.public.export(armor=False), None),
            ("key", key.export(armor=False), None),
            ("key", key.export(armor=False, passphrase=PASSPHRASE), PASSPHRASE),
        ):
            binary = bytes(blob)
            if binary.startswith(b"-----"):
                binary = (
                    pem.dearmor(binary) if family == "der" else armor.dearmor(binary)[1]
                )
            out[f"{name}-{kind}{'-protected' if pw else ''}"] = (
                kind,
                binary,
                pw,
                family,
            )
    return out


def load_key_or_cert(kind: str, data: bytes, pw: bytes | None) -> object:
    if kind == "cert":
        return e2ee_mail.load_certificate(data)
    return e2ee_mail.load_key(data, passphrase=pw)
