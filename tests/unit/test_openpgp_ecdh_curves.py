"""OpenPGP ECDH over the NIST and brainpool curves (RFC 9580 §5.1.5, §11.5) and X448
(§5.1.7), both directions, with keys built in tests/pgp_curve_keys.py.

Each known-answer check recomputes the key-encryption key independently here, with
`cryptography`'s ECDH/X448, ConcatKDF or HKDF and AES key unwrap, from the PKESK the
library wrote and the recipient's private key.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap
from pgp_curve_keys import OIDS, PRIME, build_key, ecdh_subkey, x448_subkey

import e2ee_mail
from e2ee_mail.errors import DecryptionError, Error, UnsupportedError
from e2ee_mail.openpgp import curves
from e2ee_mail.openpgp.packets import TAG_PKESK
from e2ee_mail.openpgp.packets.header import parse_packets, serialize_packet
from e2ee_mail.openpgp.packets.keys import PublicKeyPacket
from e2ee_mail.openpgp.packets.pkesk import PKESKv3, PKESKv6, parse_pkesk
from e2ee_mail.openpgp.packets.wire import Reader, encode_mpi

BODY = b"quarterly numbers\r\n" * 40
HASHES: dict[int, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    8: hashes.SHA256,
    9: hashes.SHA384,
    10: hashes.SHA512,
}
KEK = {7: 16, 8: 24, 9: 32}


def _pkesk(message: bytes | bytearray) -> PKESKv3 | PKESKv6:
    packets = [p for p in parse_packets(bytes(message)) if p.tag == TAG_PKESK]
    assert len(packets) == 1
    return parse_pkesk(packets[0].body)


def _replace_pkesk(message: bytes | bytearray, body: bytes) -> bytes:
    out = b""
    for p in parse_packets(bytes(message)):
        out += serialize_packet(p.tag, body if p.tag == TAG_PKESK else bytes(p.body))
    return out


def _ecdh_kek_payload(
    fields: bytes,
    private: ec.EllipticCurvePrivateKey,
    curve: str,
    kdf: tuple[int, int],
    fingerprint: bytes,
) -> bytes:
    """The unwrapped, still padded block, computed without the library."""
    reader = Reader(fields, "test")
    point = reader.mpi()[2:]
    wrapped = reader.take(reader.u8())
    assert point[0] == 4  # SEC1 uncompressed (RFC 9580 §11.2.1)
    peer = ec.EllipticCurvePublicKey.from_encoded_point(private.curve, point)
    shared = private.exchange(ec.ECDH(), peer)
    oid = OIDS[curve]
    param = (
        bytes((len(oid),))
        + oid
        + bytes((18, 3, 1, *kdf))
        + b"Anonymous Sender    "
        + fingerprint
    )
    kek = ConcatKDFHash(HASHES[kdf[0]](), KEK[kdf[1]], param).derive(shared)
    return aes_key_unwrap(kek, wrapped)


@pytest.mark.parametrize("curve", PRIME)
def test_v4_round_trip_and_known_answer(curve: str) -> None:
    public, secret, private = ecdh_subkey(curve)
    key = e2ee_mail.load_key(build_key(public, secret))
    cert = key.public
    assert cert.algorithm == f"ecdh-{curve}"
    sealed = e2ee_mail.encrypt(BODY, cert, format="openpgp")
    pkesk = _pkesk(sealed)
    assert isinstance(pkesk, PKESKv3) and pkesk.algorithm == 18
    assert e2ee_mail.decrypt(sealed, key) == BODY
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(bytes(sealed)), out, key)
    assert out.getvalue() == BODY
    info = cert.encryption_keys()[0]  # type: ignore[attr-defined]
    block = _ecdh_kek_payload(
        pkesk.material, private, curve, curves.DEFAULT_KDF[curve], info.fingerprint
    )
    # cipher octet || session key || checksum, PKCS#5 padded to 8 (RFC 9580 §11.5).
    pad = block[-1]
    assert 1 <= pad <= 8 and block[-pad:] == bytes((pad,)) * pad
    sizes = {7: 16, 9: 32}  # AES-128 (no preferences on the key) or AES-256
    assert len(block) % 8 == 0 and len(block) - pad == 1 + sizes[block[0]] + 2


@pytest.mark.parametrize(
    ("curve", "kdf"),
    [("nistp256", (10, 9)), ("nistp521", (8, 7)), ("brainpoolP384r1", (10, 8))],
)
def test_the_key_s_own_kdf_parameters_are_used(
    curve: str, kdf: tuple[int, int]
) -> None:
    public, secret, private = ecdh_subkey(curve, kdf)
    key = e2ee_mail.load_key(build_key(public, secret))
    sealed = e2ee_mail.encrypt(BODY, key.public, format="openpgp")
    info = key.public.encryption_keys()[0]  # type: ignore[attr-defined]
    block = _ecdh_kek_payload(
        _pkesk(sealed).material, private, curve, kdf, info.fingerprint
    )
    assert block[0] in (7, 9)
    assert e2ee_mail.decrypt(sealed, key) == BODY


@pytest.mark.parametrize("curve", ["nistp384", "brainpoolP256r1"])
def test_v6_key_with_an_ecdh_subkey_gets_a_v6_pkesk(curve: str) -> None:
    public, secret, private = ecdh_subkey(curve, version=6)
    key = e2ee_mail.load_key(build_key(public, secret))
    sealed = e2ee_mail.encrypt(BODY, key.public, format="openpgp")
    pkesk = _pkesk(sealed)
    assert isinstance(pkesk, PKESKv6) and pkesk.algorithm == 18
    info = key.public.encryption_keys()[0]  # type: ignore[attr-defined]
    assert len(info.fingerprint) == 32
    block = _ecdh_kek_payload(
        pkesk.material, private, curve, curves.DEFAULT_KDF[curve], info.fingerprint
    )
    # No cipher octet in a v6 PKESK: session key || checksum, padded.
    assert len(block) - block[-1] in (16 + 2, 32 + 2)
    assert e2ee_mail.decrypt(sealed, key) == BODY


def _x448_payload(
    fields: bytes, private: object, recipient: bytes, version: int
) -> tuple[int | None, bytes]:
    from cryptography.hazmat.primitives.asymmetric import x448

    assert isinstance(private, x448.X448PrivateKey)
    ephemeral, size = fields[:56], fields[56]
    rest = fields[57:]
    assert len(rest) == size
    cipher = None
    if version == 3:
        cipher, rest = rest[0], rest[1:]
    shared = private.exchange(x448.X448PublicKey.from_public_bytes(ephemeral))
    kek = HKDF(hashes.SHA512(), 32, None, b"OpenPGP X448").derive(
        ephemeral + recipient + shared
    )
    return cipher, aes_key_unwrap(kek, rest)


@pytest.mark.parametrize("version", [6, 4])
def test_x448_round_trip_and_known_answer(version: int) -> None:
    public, secret, private = x448_subkey(version)
    key = e2ee_mail.load_key(build_key(public, secret))
    assert key.public.algorithm == "x448"
    sealed = e2ee_mail.encrypt(BODY, key.public, format="openpgp")
    pkesk = _pkesk(sealed)
    assert pkesk.algorithm == 26
    pkesk_version = 6 if isinstance(pkesk, PKESKv6) else 3
    assert pkesk_version == (6 if version == 6 else 3)
    cipher, session_key = _x448_payload(
        pkesk.material, private, public.material, pkesk_version
    )
    # Neither checksum nor padding (RFC 9580 §5.1.7); v3 keeps the clear cipher octet.
    assert len(session_key) in (16, 32)
    assert cipher in ((None,) if version == 6 else (7, 9))
    assert e2ee_mail.decrypt(sealed, key) == BODY
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(bytes(sealed)), out, key)
    assert out.getvalue() == BODY


def test_x448_low_order_ephemeral_is_refused() -> None:
    public, secret, _ = x448_subkey(6)
    key = e2ee_mail.load_key(build_key(public, secret))
    sealed = e2ee_mail.encrypt(BODY, key.public, format="openpgp")
    pkesk = _pkesk(sealed)
    assert isinstance(pkesk, PKESKv6)
    bad = bytes(56) + pkesk.material[56:]
    body = b"\x06" + bytes((33, 6)) + pkesk.fingerprint + b"\x1a" + bad
    with pytest.raises(DecryptionError):
        e2ee_mail.decrypt(_replace_pkesk(sealed, body), key)


@pytest.mark.parametrize("curve", ["nistp256", "brainpoolP512r1"])
def test_an_ephemeral_point_off_the_curve_is_refused(curve: str) -> None:
    public, secret, _ = ecdh_subkey(curve)
    key = e2ee_mail.load_key(build_key(public, secret))
    sealed = e2ee_mail.encrypt(BODY, key.public, format="openpgp")
    pkesk = _pkesk(sealed)
    assert isinstance(pkesk, PKESKv3)
    reader = Reader(pkesk.material, "test")
    point = bytearray(reader.mpi()[2:])
    tail = reader.rest()
    point[-1] ^= 1  # y no longer matches x: an invalid-curve point
    for bad in (bytes(point), b"\x02" + bytes(point[1 : 1 + len(point) // 2])):
        body = b"\x03" + pkesk.key_id + b"\x12" + encode_mpi(bad) + tail
        with pytest.raises(DecryptionError):
            e2ee_mail.decrypt(_replace_pkesk(sealed, body), key)


def test_a_key_of_another_curve_does_not_open_the_message() -> None:
    public, secret, _ = ecdh_subkey("nistp256")
    key = e2ee_mail.load_key(build_key(public, secret))
    other_pub, other_sec, _ = ecdh_subkey("brainpoolP256r1")
    other = e2ee_mail.load_key(build_key(other_pub, other_sec))
    sealed = e2ee_mail.encrypt(BODY, key.public, format="openpgp")
    with pytest.raises(Error):
        e2ee_mail.decrypt(sealed, other)


def test_kdf_parameters_outside_the_allowed_set_are_refused() -> None:
    public, _, _ = ecdh_subkey("nistp256", (2, 7))  # SHA-1
    with pytest.raises(UnsupportedError, match="KDF hash 2"):
        curves.decode_ecdh_key(public)
    public, _, _ = ecdh_subkey("nistp256", (8, 3))  # CAST5
    with pytest.raises(UnsupportedError, match="key wrap 3"):
        curves.decode_ecdh_key(public)


def test_unknown_curve_is_named_by_its_oid() -> None:
    public, _, _ = ecdh_subkey("nistp256")
    secp256k1 = bytes.fromhex("2b8104000a")
    material = bytes((len(secp256k1),)) + secp256k1 + public.material[9:]

    odd = public.replace(material=material)
    with pytest.raises(UnsupportedError, match=r"1\.3\.132\.0\.10"):
        curves.decode_ecdh_key(odd)
    assert curves.ecdh_name(odd) == "ecdh"


def test_a_public_point_off_the_curve_is_malformed() -> None:

    from e2ee_mail.errors import FormatError

    public, _, _ = ecdh_subkey("nistp384")
    material = bytearray(public.material)
    material[-5] ^= 1  # the last octet of y (before the 4 KDF octets)
    with pytest.raises(FormatError, match="not on the curve"):
        curves.decode_ecdh_key(public.replace(material=bytes(material)))


def test_secret_scalar_that_does_not_match_is_refused() -> None:
    from e2ee_mail.errors import KeyLoadError

    public, _, _ = ecdh_subkey("nistp256")
    _, other_secret, _ = ecdh_subkey("nistp256")
    with pytest.raises(KeyLoadError):
        e2ee_mail.load_key(build_key(public, other_secret))


@pytest.mark.parametrize(
    "make",
    [
        lambda: ecdh_subkey("nistp521"),
        lambda: ecdh_subkey("brainpoolP256r1"),
        lambda: ecdh_subkey("nistp256", version=6),
        lambda: x448_subkey(6),
    ],
    ids=["nistp521-v4", "brainpoolP256r1-v4", "nistp256-v6", "x448-v6"],
)
def test_protected_secret_keys_reload_and_decrypt(
    make: Callable[[], tuple[PublicKeyPacket, bytes, object]],
) -> None:
    public, secret, _ = make()
    key = e2ee_mail.load_key(build_key(public, secret))
    sealed = e2ee_mail.encrypt(BODY, key.public, format="openpgp")
    exported = key.export(passphrase=b"curve pw")
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(exported)
    again = e2ee_mail.load_key(exported, passphrase="curve pw")
    assert e2ee_mail.decrypt(sealed, again) == BODY


@pytest.mark.parametrize("version", [3, 6])
def test_x448_fields_split_after_56_octets(version: int) -> None:
    from e2ee_mail.errors import PacketError
    from e2ee_mail.openpgp.packets.pkesk import (
        X25519Fields,
        serialize_x25519_fields,
        split_x25519_fields,
    )

    cipher = 9 if version == 3 else None
    fields = X25519Fields(bytes(range(56)), cipher, bytes(40))
    raw = serialize_x25519_fields(fields, point_size=56)
    assert len(raw) == 56 + 1 + (version == 3) + 40
    assert split_x25519_fields(raw, version=version, point_size=56) == (
        bytes(range(56)),
        cipher,
        bytes(40),
    )
    for bad in (raw[:-1], raw + b"\x00", raw[:56]):
        with pytest.raises(PacketError):
            split_x25519_fields(bad, version=version, point_size=56)
    with pytest.raises(PacketError):
        serialize_x25519_fields(fields)  # a 56-octet point is not an X25519 one


def test_ephemeral_keys_come_from_core_random(monkeypatch: pytest.MonkeyPatch) -> None:
    """Randomness has one source: the prime-curve and X448 senders draw their
    ephemeral secrets through core.random.random_bytes."""
    from cryptography.hazmat.primitives.asymmetric import x448 as x448_keys

    from e2ee_mail.core import ecdh_prime, x448

    draws: list[int] = []

    def fake(n: int) -> bytes:
        draws.append(n)
        return bytes(range(1, n + 1))

    monkeypatch.setattr(ecdh_prime, "random_bytes", fake)
    monkeypatch.setattr(x448, "random_bytes", fake)
    recipient = ec.generate_private_key(ec.SECP256R1())
    first = ecdh_prime.ephemeral_agree(recipient.public_key())
    assert ecdh_prime.ephemeral_agree(recipient.public_key()) == first
    assert draws == [40, 40]  # 256 + 64 bits (FIPS 186-5 A.2.1)
    p256 = ecdh_prime.CURVES["p256"]
    peer_point = ecdh_prime.decode_point(p256, first[0])
    assert ecdh_prime.agree(recipient, peer_point) == first[1]
    peer = x448_keys.X448PrivateKey.generate()
    eph, shared = x448.ephemeral_agree(x448.public_bytes(peer))
    assert draws[-1] == 56
    assert x448.agree(peer, eph) == shared
