"""LibrePGP's OCB Encrypted Data packet (type 20): header codec, opening (bytes and
stream), the chunk rules shared with SEIPDv2, refusals, inspect and rewrap."""

from __future__ import annotations

import io
from typing import BinaryIO, cast

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESOCB3
from doubles import Pipe, Trickle
from ocbed_messages import AES128, AES256, EAX, OCB, literal, message, pkesk_v3, sealed

import e2ee_mail
from e2ee_mail.errors import (
    DecryptionError,
    PacketError,
    UnsupportedError,
)
from e2ee_mail.openpgp import armor, keygen, ocbed
from e2ee_mail.openpgp.certs import OpenPGPSecretKey
from e2ee_mail.openpgp.packets.header import serialize_packet
from e2ee_mail.openpgp.packets.ocbed import (
    OCBEDHeader,
    header_size,
    parse_ocbed_header,
)

CHUNK = 64
#: Plaintext sizes around the 64-octet chunk, counted with the Literal Data
#: packet's framing (8 octets below 186 octets of data) in the first chunk.
SIZES = [0, 1, CHUNK - 9, CHUNK - 8, CHUNK - 7, 2 * CHUNK - 8, 2 * CHUNK, 5 * CHUNK]


@pytest.fixture(scope="module")
def v4() -> OpenPGPSecretKey:
    return keygen.generate("Vera <v@example.org>", kind="x25519", profile="rfc4880")


@pytest.fixture(scope="module")
def other() -> OpenPGPSecretKey:
    return keygen.generate("Otto <o@example.org>", kind="x25519", profile="rfc4880")


def data_of(size: int) -> bytes:
    return bytes((7 * i + 3) % 256 for i in range(size))


def stream_open(
    msg: bytes, key: OpenPGPSecretKey, src: io.RawIOBase | None = None
) -> bytes:
    out = io.BytesIO()
    source = cast(BinaryIO, src) if src is not None else io.BytesIO(msg)
    e2ee_mail.decrypt_stream(source, out, [key])
    return out.getvalue()


# -- header codec ---------------------------------------------------------------------


def test_header_of_ocb_and_eax() -> None:
    ocb = parse_ocbed_header(bytes([1, 9, 2, 12]) + bytes(range(15)) + b"rest")
    assert ocb == OCBEDHeader(9, 2, 12, bytes(range(15)))
    assert (ocb.size, ocb.chunk_size) == (19, 1 << 18)
    eax = parse_ocbed_header(bytes([1, 7, 1, 0]) + bytes(16))
    assert (eax.aead, eax.size, eax.chunk_size) == (1, 20, 64)
    assert header_size(bytes([1, 9, 2])) == 19
    assert header_size(bytes([1, 9, 1])) == 20


@pytest.mark.parametrize(
    ("head", "error", "text"),
    [
        (b"", PacketError, "truncated"),
        (bytes([1, 9]), PacketError, "truncated"),
        (bytes([1, 9, 2]), PacketError, "truncated"),
        (bytes([1, 9, 2, 0]) + bytes(14), PacketError, "truncated"),
        (bytes([2, 9, 2, 0]) + bytes(15), UnsupportedError, "version 2"),
        (bytes([1, 9, 3, 0]) + bytes(15), UnsupportedError, "AEAD algorithm 3"),
        (bytes([1, 9, 2, 17]) + bytes(15), UnsupportedError, "2**23"),
        (bytes([1, 9, 2, 57]) + bytes(15), PacketError, "reserved"),
    ],
)
def test_header_refusals(head: bytes, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text.replace("*", r"\*")):
        parse_ocbed_header(head)


# -- the layout, pinned by hand -------------------------------------------------------


def test_nonces_and_associated_data_are_the_drafts() -> None:
    """Two chunks and the final tag, sealed here octet by octet as RFC 4880bis-10
    §5.16 spells them out, open with the library's reader."""
    key, iv = bytes(range(32)), bytes.fromhex("0f0e0d0c0b0a090807060504030201")
    plain = bytes(range(100))  # one full 64-octet chunk and 36 octets
    ocb = AESOCB3(key)
    ad = bytes.fromhex("d401090200")
    body = bytes.fromhex("01090200") + iv
    body += ocb.encrypt(iv, plain[:64], ad + bytes.fromhex("0000000000000000"))
    body += ocb.encrypt(
        bytes.fromhex("0f0e0d0c0b0a0908070605040302" + "00"),  # 01 xor 1
        plain[64:],
        ad + bytes.fromhex("0000000000000001"),
    )
    body += ocb.encrypt(
        bytes.fromhex("0f0e0d0c0b0a0908070605040302" + "03"),  # 01 xor 2
        b"",
        ad + bytes.fromhex("0000000000000002") + bytes.fromhex("0000000000000064"),
    )
    assert ocbed.open_body(body, key) == plain
    # The test writer agrees with the hand-made layout.
    assert sealed(key, plain, iv=iv) == body


# -- opening --------------------------------------------------------------------------


@pytest.mark.parametrize("aead", [OCB, EAX])
@pytest.mark.parametrize("cipher", [AES128, AES256])
@pytest.mark.parametrize("size", SIZES)
def test_opens_bytes_and_stream(
    v4: OpenPGPSecretKey, aead: int, cipher: int, size: int
) -> None:
    plain = data_of(size)
    msg = message(v4.public, plain, aead=aead, cipher=cipher)
    assert e2ee_mail.decrypt(msg, [v4]) == plain
    assert stream_open(msg, v4) == plain
    assert stream_open(msg, v4, Trickle(msg, [1, 5, 17, 64])) == plain


def test_opens_armored_and_from_a_pipe(v4: OpenPGPSecretKey) -> None:
    plain = data_of(1000)
    msg = message(v4.public, plain, chunk_size_octet=2)
    armored = armor.enarmor(msg)
    assert e2ee_mail.decrypt(bytes(armored), [v4]) == plain
    assert stream_open(bytes(armored), v4) == plain
    assert stream_open(msg, v4, Pipe(msg)) == plain


def test_partial_body_lengths(v4: OpenPGPSecretKey) -> None:
    """The type 20 packet framed in partial body lengths, as rnp writes it."""
    plain = data_of(3000)
    key = bytes(range(32))
    body = sealed(key, literal(plain), chunk_size_octet=3)
    framed = bytearray(b"\xd4")
    rest = memoryview(body)
    while len(rest) > 512:
        framed += b"\xe9" + bytes(rest[:512])  # 2**9 octets
        rest = rest[512:]
    framed += (
        bytes([len(rest)])
        if len(rest) < 192
        else bytes([((len(rest) - 192) >> 8) + 192, (len(rest) - 192) & 0xFF])
    )
    framed += rest
    msg = pkesk_v3(v4.public, key, AES256) + bytes(framed)
    assert e2ee_mail.decrypt(msg, [v4]) == plain
    assert stream_open(msg, v4) == plain


# -- the chunk rules ------------------------------------------------------------------


def _refused(msg: bytes, key: OpenPGPSecretKey, plain: bytes) -> None:
    with pytest.raises(DecryptionError):
        e2ee_mail.decrypt(msg, [key])
    out = io.BytesIO()
    with pytest.raises(DecryptionError):
        e2ee_mail.decrypt_stream(io.BytesIO(msg), out, [key])
    assert plain.startswith(out.getvalue())


@pytest.mark.parametrize("aead", [OCB, EAX])
def test_truncation_reordering_and_extension_fail(
    v4: OpenPGPSecretKey, aead: int
) -> None:
    plain = data_of(3 * CHUNK)
    key = bytes(range(32))
    body = sealed(key, literal(plain), aead=aead)
    msg = pkesk_v3(v4.public, key, AES256) + serialize_packet(20, body)
    assert e2ee_mail.decrypt(msg, [v4]) == plain
    head = 4 + (16 if aead == EAX else 15)
    chunks = body[head:-16]
    full = CHUNK + 16
    pieces = [chunks[i : i + full] for i in range(0, len(chunks), full)]
    final = body[-16:]
    variants = {
        "no final tag": body[:-16],
        "final tag cut short": body[:-1],
        "last chunk cut": body[: head + 2 * full + 5],
        "a chunk dropped": body[:head] + pieces[0] + b"".join(pieces[2:]) + final,
        "chunks swapped": body[:head]
        + pieces[1]
        + pieces[0]
        + b"".join(pieces[2:])
        + final,
        "a chunk repeated": body[:head] + pieces[0] + b"".join(pieces) + final,
        "data appended": body + bytes(16),
        "final tag flipped": body[:-1] + bytes([body[-1] ^ 1]),
        "ciphertext flipped": body[: head + 3]
        + bytes([body[head + 3] ^ 0x80])
        + body[head + 4 :],
        "header chunk size changed": body[:3] + b"\x01" + body[4:],
        "header cipher changed": body[:1] + bytes([AES128]) + body[2:],
        "iv changed": body[:4] + bytes([body[4] ^ 1]) + body[5:],
    }
    for name, variant in variants.items():
        damaged = pkesk_v3(v4.public, key, AES256) + serialize_packet(20, variant)
        try:
            _refused(damaged, v4, plain)
        except (pytest.fail.Exception, AssertionError):
            raise AssertionError(f"{name}: not refused") from None


def test_stream_holds_back_a_damaged_chunk(v4: OpenPGPSecretKey) -> None:
    """Chunks before the damaged one are released (authenticated), nothing of it."""
    plain = data_of(4 * CHUNK)
    key = bytes(range(32))
    body = bytearray(sealed(key, literal(plain)))
    third = 19 + 2 * (CHUNK + 16)
    body[third + 10] ^= 1
    msg = pkesk_v3(v4.public, key, AES256) + serialize_packet(20, bytes(body))
    out = io.BytesIO()
    with pytest.raises(DecryptionError):
        e2ee_mail.decrypt_stream(io.BytesIO(msg), out, [v4])
    # Two chunks authenticated: 128 octets of packets, the first of them the
    # Literal Data packet's framing.
    frame = len(literal(plain)) - len(plain)
    assert out.getvalue() == plain[: 2 * CHUNK - frame]


def test_stream_holds_back_the_last_chunk_until_the_final_tag(
    v4: OpenPGPSecretKey,
) -> None:
    plain = data_of(2 * CHUNK)
    key = bytes(range(32))
    body = bytearray(sealed(key, literal(plain)))
    body[-1] ^= 1
    msg = pkesk_v3(v4.public, key, AES256) + serialize_packet(20, bytes(body))
    out = io.BytesIO()
    with pytest.raises(DecryptionError):
        e2ee_mail.decrypt_stream(io.BytesIO(msg), out, [v4])
    # The first two chunks verified; the third (the last) waits for the final tag.
    frame = len(literal(plain)) - len(plain)
    assert out.getvalue() == plain[: 2 * CHUNK - frame]


# -- keys and refusals ----------------------------------------------------------------


def test_pkesk_naming_another_cipher_is_a_decryption_failure(
    v4: OpenPGPSecretKey,
) -> None:
    msg = message(v4.public, b"hello", cipher=AES256, pkesk_cipher=AES128)
    with pytest.raises(DecryptionError):
        e2ee_mail.decrypt(msg, [v4])
    with pytest.raises(DecryptionError):
        stream_open(msg, v4)


def test_wrong_key_is_no_matching_key(
    v4: OpenPGPSecretKey, other: OpenPGPSecretKey
) -> None:
    msg = message(v4.public, b"hello")
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(msg, [other])


def test_a_second_pkesk_opens_when_the_first_is_not_ours(
    v4: OpenPGPSecretKey, other: OpenPGPSecretKey
) -> None:
    key = bytes(range(32))
    body = sealed(key, literal(b"two recipients"))
    msg = (
        pkesk_v3(other.public, key, AES256)
        + pkesk_v3(v4.public, key, AES256)
        + serialize_packet(20, body)
    )
    assert e2ee_mail.decrypt(msg, [v4]) == b"two recipients"
    assert stream_open(msg, v4) == b"two recipients"


@pytest.mark.parametrize(
    ("header", "text"),
    [
        (bytes([1, 10, 2, 0]), "cipher 10"),
        (bytes([1, 9, 2, 20]), r"2\*\*26"),
        (bytes([1, 9, 3, 0]), "AEAD algorithm 3"),
        (bytes([5, 9, 2, 0]), "version 5"),
    ],
)
def test_unsupported_packets_say_what(
    v4: OpenPGPSecretKey, header: bytes, text: str
) -> None:
    body = header + bytes(15) + bytes(16)
    msg = pkesk_v3(v4.public, bytes(32), AES256) + serialize_packet(20, body)
    with pytest.raises(UnsupportedError, match=text):
        e2ee_mail.decrypt(msg, [v4])
    with pytest.raises(UnsupportedError, match=text):
        stream_open(msg, v4)


def test_only_padding_may_follow(v4: OpenPGPSecretKey) -> None:
    msg = message(v4.public, b"x") + serialize_packet(11, b"b\x00\x00\x00\x00\x00x")
    with pytest.raises(PacketError, match="after the encrypted data"):
        e2ee_mail.decrypt(msg, [v4])
    with pytest.raises(PacketError, match="after the encrypted data"):
        stream_open(msg, v4)


# -- inspect and rewrap ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("aead", "cipher", "content", "packet"),
    [
        (
            OCB,
            AES256,
            "librepgp-aes256-ocb",
            "LibrePGP OCB encrypted data, AES-256, OCB",
        ),
        (
            EAX,
            AES128,
            "librepgp-aes128-eax",
            "LibrePGP OCB encrypted data, AES-128, EAX",
        ),
    ],
)
def test_inspect_names_the_packet(
    v4: OpenPGPSecretKey, aead: int, cipher: int, content: str, packet: str
) -> None:
    msg = message(v4.public, data_of(100), aead=aead, cipher=cipher)
    for found in (
        e2ee_mail.inspect(msg),
        ocbed_inspect_in_memory(msg),
    ):
        assert found.content_algorithm == content
        details = dict(found.details)
        assert details["packet"] == packet
        assert details["chunk size"] == "64"
        assert [r.type for r in found.recipients] == ["PKESKv3"]


def ocbed_inspect_in_memory(msg: bytes) -> e2ee_mail.Inspection:
    from e2ee_mail.openpgp import inspection

    return inspection.inspect(msg)


@pytest.mark.parametrize("aead", [OCB, EAX])
def test_rewrap_keeps_the_packet_and_wraps_v3(
    v4: OpenPGPSecretKey,
    other: OpenPGPSecretKey,
    alice: OpenPGPSecretKey,
    aead: int,
) -> None:
    plain = data_of(300)
    msg = message(v4.public, plain, aead=aead)
    packet = msg[msg[1] + 2 :]
    out = e2ee_mail.rewrap(msg, [v4], [other.public, alice.public])
    assert bytes(out).endswith(packet)
    assert [r.type for r in e2ee_mail.inspect(out).recipients] == ["PKESKv3"] * 2
    assert e2ee_mail.decrypt(out, [other]) == plain
    assert e2ee_mail.decrypt(out, [alice]) == plain
    dst = io.BytesIO()
    e2ee_mail.rewrap_stream(io.BytesIO(msg), dst, [v4], [other.public])
    assert dst.getvalue().endswith(packet)
    assert e2ee_mail.decrypt(dst.getvalue(), [other]) == plain


def test_rewrap_refuses_a_wrong_final_tag(
    v4: OpenPGPSecretKey, other: OpenPGPSecretKey
) -> None:
    msg = bytearray(message(v4.public, data_of(300)))
    msg[-1] ^= 1
    with pytest.raises(DecryptionError):
        e2ee_mail.rewrap(bytes(msg), [v4], [other.public])
    with pytest.raises(DecryptionError):
        e2ee_mail.rewrap_stream(
            io.BytesIO(bytes(msg)), io.BytesIO(), [v4], [other.public]
        )


# -- around the packet ----------------------------------------------------------------


def test_password_only_message_is_unsupported(v4: OpenPGPSecretKey) -> None:
    """A v5 SKESK (what `gpg -c` writes before type 20) is not read."""
    skesk = serialize_packet(3, bytes([5, 9, 2, 3, 8]) + bytes(8) + bytes(31))
    body = sealed(bytes(32), literal(b"x"))
    msg = skesk + serialize_packet(20, body)
    with pytest.raises(UnsupportedError, match="password"):
        e2ee_mail.decrypt(msg, [v4])
    with pytest.raises(UnsupportedError, match="password"):
        stream_open(msg, v4)


def test_pgp_mime_mail_with_the_packet_opens(v4: OpenPGPSecretKey) -> None:
    """The mail GnuPG users keep: PGP/MIME around an armored type 20 message."""
    inner = b"Content-Type: text/plain; charset=utf-8\r\n\r\nhello from LibrePGP\r\n"
    blob = bytes(armor.enarmor(message(v4.public, inner, chunk_size_octet=1)))
    mail = (
        b"From: a@example.org\r\nTo: v@example.org\r\nSubject: ocb\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";'
        b' boundary="b"\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\n'
        b"Version: 1\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n"
        + blob
        + b"\r\n--b--\r\n"
    )
    opened = e2ee_mail.decrypt_message(mail, [v4])
    assert opened.get_content() == "hello from LibrePGP\n"
