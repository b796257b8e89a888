"""core/x25519.py: both sides agree, and low-order points never yield a key."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519 as cx25519

from e2ee_mail.core import x25519
from e2ee_mail.errors import DECRYPTION_FAILED, DecryptionError, FormatError

P = 2**255 - 19


def _le(n: int) -> bytes:
    return n.to_bytes(32, "little")


# Points of order 1, 2, 4 and 8 on Curve25519 (and their non-canonical encodings,
# u + p, which RFC 7748 §5 reduces to the same point): agreement with any of them
# gives the all-zero shared secret that RFC 7748 §6.1 says to check for.
LOW_ORDER = [
    _le(0),
    _le(1),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    _le(P - 1),
    _le(P),
    _le(P + 1),
]
NON_CANONICAL = [bytes(v[:31]) + bytes([v[31] | 0x80]) for v in LOW_ORDER[:4]]

# RFC 7748 §6.1 Diffie-Hellman example.
ALICE_PRIVATE = bytes.fromhex(
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
)
BOB_PUBLIC = bytes.fromhex(
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
)
SHARED = bytes.fromhex(
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
)


def test_agree_matches_rfc7748_section_6_1() -> None:
    alice = cx25519.X25519PrivateKey.from_private_bytes(ALICE_PRIVATE)
    assert x25519.agree(alice, BOB_PUBLIC) == SHARED
    _, shared = x25519.ephemeral_agree_from_parts(BOB_PUBLIC, ALICE_PRIVATE)
    assert shared == SHARED


def test_sender_and_recipient_derive_the_same_secret() -> None:
    recipient = cx25519.X25519PrivateKey.generate()
    ephemeral_public, sent = x25519.ephemeral_agree(x25519.public_bytes(recipient))
    assert len(ephemeral_public) == len(sent) == 32
    assert x25519.agree(recipient, ephemeral_public) == sent


def test_each_ephemeral_key_is_fresh() -> None:
    recipient = x25519.public_bytes(cx25519.X25519PrivateKey.generate())
    first, second = x25519.ephemeral_agree(recipient), x25519.ephemeral_agree(recipient)
    assert first[0] != second[0] and first[1] != second[1]


@pytest.mark.parametrize("point", LOW_ORDER + NON_CANONICAL, ids=lambda p: p.hex()[:8])
def test_low_order_ephemeral_point_is_a_decryption_error(point: bytes) -> None:
    recipient = cx25519.X25519PrivateKey.generate()
    with pytest.raises(DecryptionError) as info:
        x25519.agree(recipient, point)
    assert str(info.value) == DECRYPTION_FAILED


@pytest.mark.parametrize("point", LOW_ORDER + NON_CANONICAL, ids=lambda p: p.hex()[:8])
def test_low_order_recipient_key_is_refused_by_the_sender(point: bytes) -> None:
    with pytest.raises(FormatError, match="low-order"):
        x25519.ephemeral_agree(point)
    with pytest.raises(FormatError, match="low-order"):
        x25519.ephemeral_agree_from_parts(point, ALICE_PRIVATE)


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_public_keys_of_the_wrong_length_are_format_errors(size: int) -> None:
    recipient = cx25519.X25519PrivateKey.generate()
    with pytest.raises(FormatError):
        x25519.check_public(bytes(size))
    with pytest.raises(FormatError):
        x25519.agree(recipient, b"\x09" * size)
    with pytest.raises(FormatError):
        x25519.ephemeral_agree(b"\x09" * size)


def test_public_bytes_accepts_private_and_public_keys() -> None:
    key = cx25519.X25519PrivateKey.generate()
    assert x25519.public_bytes(key) == x25519.public_bytes(key.public_key())
    assert x25519.check_public(x25519.public_bytes(key)) == key.public_key()
