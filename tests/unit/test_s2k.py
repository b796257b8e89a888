"""S2K specifiers, key derivation and secret-key protection (openpgp/s2k.py,
openpgp/keyprotect.py).

Published data: RFC 9580 (July 2024) Appendix A.5 "Sample Locked Version 6 Secret Key"
and A.5.1 "Intermediate Data for Locked Primary Key",
https://www.rfc-editor.org/rfc/rfc9580#appendix-A.5 — the primary Secret Key packet
body below is the first packet of the armored key printed there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.core.kdf import hkdf_sha256
from e2ee_mail.errors import (
    PacketError,
    PassphraseError,
    PolicyError,
    UnsupportedError,
    UsageError,
)
from e2ee_mail.openpgp import armor, keyprotect, s2k
from e2ee_mail.openpgp.keyprotect import SecretKeyProtection
from e2ee_mail.openpgp.packets.wire import checksum16
from e2ee_mail.openpgp.s2k import S2K
from e2ee_mail.policy import DEFAULT

# RFC 9580 A.5: the v6 Ed25519 Secret Key packet body, locked with Argon2 + AES-256-OCB.
A5_PRIMARY_BODY = bytes.fromhex(
    "0663877fe31b00000020f94da7bb48d60a61e567706a6587d0331999bb9d891a08242ead8454"
    "3df895a3fd26090214045d6fd71c9e096d1eb6917b6e6e1eecae010415b4a8a9274fabe632f8"
    "75a70659202178258fa484d88b27f220e3d2de0203ca0f1feecb6b775381e3e2d9b1485c2233"
    "8ca551e09a263f22eb4992e9677a8058"
)
A5_PUBLIC_LEN = 1 + 4 + 1 + 4 + 32
A5_PASSPHRASE = b"correct horse battery staple"
# A.5.1 intermediate values, and the unlocked secret of A.4.
A5_S2K_DERIVED = bytes.fromhex(
    "832bd2662a5c2b251ee3fc82aec349a766ca539015880133002e5a21960b3bcf"
)
A5_AEAD_KEY = bytes.fromhex(
    "9e37cb26787f37e18db172795c4c297550d39ac82511d9af4c8706db6a77fd51"
)
A5_AAD = bytes.fromhex(
    "c50663877fe31b00000020f94da7bb48d60a61e567706a6587d0331999bb9d891a08242ead84"
    "543df895a3"
)
A4_PRIMARY_SECRET = bytes.fromhex(
    "1972817b12be707e8d5f586ce61361201d344eb266a2c82fde6835762b65b0b7"
)

SMALL_ARGON2 = S2K(
    s2k.S2K_ARGON2, salt=bytes(range(16)), passes=1, parallelism=1, memory_exponent=10
)


def _reference_iterated(
    hash_name: str, salt: bytes, pw: bytes, count: int, n: int
) -> bytes:
    """RFC 9580 §3.7.1.3 written out the slow, obvious way."""
    data = salt + pw
    stream = (data * (count // len(data) + 1))[: max(count, len(data))]
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.new(hash_name, bytes(i) + stream).digest()
        i += 1
    return out[:n]


def test_coded_count_decodes_per_rfc() -> None:
    assert S2K(s2k.S2K_ITERATED, 8, bytes(8), 0xFF).octet_count == 65011712
    assert S2K(s2k.S2K_ITERATED, 8, bytes(8), 0x60).octet_count == 65536
    assert S2K(s2k.S2K_ITERATED, 8, bytes(8), 0).octet_count == 1024


@pytest.mark.parametrize(
    ("hash_id", "name", "size"),
    [(2, "sha1", 32), (8, "sha256", 32), (8, "sha256", 16), (10, "sha512", 24)],
)
def test_iterated_s2k_matches_the_written_out_definition(
    hash_id: int, name: str, size: int
) -> None:
    spec = S2K(s2k.S2K_ITERATED, hash_id, b"saltsalt", 0x10)
    got = s2k.derive_key(spec, b"passphrase", size)
    assert got == _reference_iterated(name, b"saltsalt", b"passphrase", 2048, size)


def test_iterated_s2k_hashes_whole_input_when_count_is_smaller() -> None:
    pw = b"p" * 2000
    spec = S2K(s2k.S2K_ITERATED, 8, b"saltsalt", 0)  # 1024 < len(salt + pw)
    assert s2k.derive_key(spec, pw, 32) == hashlib.sha256(b"saltsalt" + pw).digest()


def test_simple_and_salted_s2k() -> None:
    assert s2k.derive_key(S2K(0, 8), b"pw", 32) == hashlib.sha256(b"pw").digest()
    salted = S2K(1, 8, b"12345678")
    assert s2k.derive_key(salted, b"pw", 32) == hashlib.sha256(b"12345678pw").digest()


@pytest.mark.parametrize("hash_id", [1, 3, 99])
def test_md5_ripemd_and_unknown_hashes_are_unsupported(hash_id: int) -> None:
    with pytest.raises(UnsupportedError):
        s2k.derive_key(S2K(s2k.S2K_ITERATED, hash_id, bytes(8), 0), b"pw", 16)


s2k_specs = st.one_of(
    st.builds(S2K, st.just(0), st.integers(0, 255)),
    st.builds(S2K, st.just(1), st.integers(0, 255), st.binary(min_size=8, max_size=8)),
    st.builds(
        S2K,
        st.just(3),
        st.integers(0, 255),
        st.binary(min_size=8, max_size=8),
        st.integers(0, 255),
    ),
    st.builds(
        S2K,
        st.just(4),
        salt=st.binary(min_size=16, max_size=16),
        passes=st.integers(0, 255),
        parallelism=st.integers(0, 255),
        memory_exponent=st.integers(0, 255),
    ),
    st.builds(S2K, st.just(101), st.integers(0, 255), gnu_mode=st.just(1)),
    st.builds(
        S2K,
        st.just(101),
        st.integers(0, 255),
        gnu_mode=st.just(2),
        gnu_serial=st.binary(max_size=16),
    ),
)


@given(s2k_specs, st.binary(max_size=8))
def test_s2k_codec_round_trips(spec: S2K, trailer: bytes) -> None:
    wire = s2k.serialize_s2k(spec)
    parsed, end = s2k.parse_s2k(wire + trailer, 0)
    assert parsed == spec
    assert end == len(wire)


@given(s2k_specs)
def test_truncated_s2k_is_a_packet_error(spec: S2K) -> None:
    wire = s2k.serialize_s2k(spec)
    for cut in range(len(wire)):
        with pytest.raises(PacketError):
            s2k.parse_s2k(wire[:cut], 0)


@pytest.mark.parametrize("wire", [b"\x02\x08", b"\x05", b"\x65\x02XYZ\x01"])
def test_unknown_s2k_types_are_unsupported(wire: bytes) -> None:
    with pytest.raises(UnsupportedError):
        s2k.parse_s2k(wire, 0)


def test_gnu_smartcard_stub_parses_but_cannot_derive() -> None:
    spec, end = s2k.parse_s2k(b"\x65\x02GNU\x02\x03abc", 0)
    assert spec.is_stub and spec.gnu_serial == b"abc" and end == 10
    with pytest.raises(UnsupportedError, match="smartcard"):
        s2k.derive_key(spec, b"pw", 32)


@pytest.mark.parametrize("m", [22, 31])
def test_argon2_memory_above_two_gib_is_refused_before_allocating(m: int) -> None:
    spec = S2K(
        s2k.S2K_ARGON2, salt=bytes(16), passes=1, parallelism=1, memory_exponent=m
    )
    start = time.monotonic()
    with pytest.raises(PolicyError, match="memory"):
        s2k.derive_key(spec, b"pw", 32)
    assert time.monotonic() - start < 5  # refused, not attempted (generous bound)


def test_argon2_excessive_work_is_refused() -> None:
    spec = S2K(
        s2k.S2K_ARGON2, salt=bytes(16), passes=255, parallelism=1, memory_exponent=21
    )
    with pytest.raises(PolicyError, match="work"):
        s2k.derive_key(spec, b"pw", 32)


def _a5_key(t: int, p: int, m: int) -> bytes:
    """The RFC 9580 A.5 sample locked key, both packets' Argon2 parameters set to
    (t, p, m) (the key no longer unlocks then: only the bounds are under test)."""
    from e2ee_mail import vectors

    root = vectors.default_dir()
    cases = vectors.load_file(root / "openpgp" / "rfc9580-appendix-a.json", root).cases
    locked = next(c for c in cases if c.flags == ("Rfc9580", "Argon2"))
    text = locked.text("data")
    binary = armor.dearmor(text.encode())[1]
    published = bytes((1, 4, 21))  # after each packet's 16-octet Argon2 salt
    assert binary.count(published) == 2
    return binary.replace(published, bytes((t, p, m)))


@pytest.mark.parametrize("passphrase", [A5_PASSPHRASE, b"wrong"])
def test_a_key_at_the_former_argon2_limit_is_refused_before_any_work(
    passphrase: bytes,
) -> None:
    # Four passes over 2 GiB cost 2.1 GB and seconds per unlock attempt, a wrong
    # passphrase included: now beyond the default work bound, refused up front.
    with pytest.raises(PolicyError, match="max_argon2_work_kib"):
        e2ee_mail.load_key(_a5_key(4, 4, 21), passphrase)


@pytest.mark.parametrize(
    ("t", "p", "m"),
    [(1, 4, 21), (3, 4, 16), (2, 4, 20), (4, 1, 19)],
    ids=["rfc9106-first", "rfc9106-second", "1gib-2-passes", "512mib-4-passes"],
)
def test_argon2_parameters_peers_write_are_within_the_default_bounds(
    t: int, p: int, m: int
) -> None:
    # RFC 9106 §4's first option is RFC 9580's example and its A.5 sample key;
    # its second is what OpenPGP.js and go-crypto write by default.
    spec = S2K(
        s2k.S2K_ARGON2, salt=bytes(16), passes=t, parallelism=p, memory_exponent=m
    )
    s2k._check_argon2(spec, DEFAULT)


@pytest.mark.parametrize(
    ("t", "m", "field"),
    [(1, 22, "memory"), (2, 21, "work"), (3, 20, "work"), (255, 16, "work")],
)
def test_argon2_beyond_the_default_bounds_is_refused(
    t: int, m: int, field: str
) -> None:
    spec = S2K(
        s2k.S2K_ARGON2, salt=bytes(16), passes=t, parallelism=1, memory_exponent=m
    )
    with pytest.raises(PolicyError, match=f"max_argon2_{field}_kib"):
        s2k.derive_key(spec, b"pw", 32)


def test_argon2_bounds_are_policy_fields() -> None:
    small = dataclasses.replace(
        DEFAULT, max_argon2_memory_kib=1 << 20, max_argon2_work_kib=1 << 20
    )
    # The RFC 9580 A.5 sample key (one pass over 2 GiB) is refused by a caller who
    # allows 1 GiB, before any work, whatever the passphrase.
    with pytest.raises(PolicyError, match="max_argon2_memory_kib"):
        e2ee_mail.load_key(_a5_key(1, 4, 21), A5_PASSPHRASE, policy=small)
    with pytest.raises(PolicyError, match="max_argon2_work_kib"):
        e2ee_mail.load_key(_a5_key(2, 4, 20), A5_PASSPHRASE, policy=small)
    roomy = dataclasses.replace(DEFAULT, max_argon2_work_kib=4 << 21)
    spec = S2K(
        s2k.S2K_ARGON2, salt=bytes(16), passes=4, parallelism=4, memory_exponent=21
    )
    s2k._check_argon2(spec, roomy)


@pytest.mark.parametrize(
    ("t", "p", "m"), [(0, 1, 10), (1, 0, 10), (1, 4, 4), (1, 1, 2), (1, 1, 32)]
)
def test_argon2_parameters_the_rfc_forbids_are_malformed(
    t: int, p: int, m: int
) -> None:
    spec = S2K(
        s2k.S2K_ARGON2, salt=bytes(16), passes=t, parallelism=p, memory_exponent=m
    )
    with pytest.raises(PacketError):
        s2k.derive_key(spec, b"pw", 32)


def test_argon2_is_deterministic_and_salted() -> None:
    a = s2k.derive_key(SMALL_ARGON2, b"pw", 32)
    assert a == s2k.derive_key(SMALL_ARGON2, b"pw", 32)
    other = S2K(
        s2k.S2K_ARGON2, salt=bytes(16), passes=1, parallelism=1, memory_exponent=10
    )
    assert a != s2k.derive_key(other, b"pw", 32)


def test_rfc9580_a5_protection_fields_parse_and_reserialize() -> None:
    prot, end = keyprotect.parse_protection(A5_PRIMARY_BODY, A5_PUBLIC_LEN, version=6)
    assert (prot.usage, prot.cipher_algo, prot.aead_algo) == (253, 9, 2)
    assert prot.s2k is not None
    assert (prot.s2k.passes, prot.s2k.parallelism, prot.s2k.memory_exponent) == (
        1,
        4,
        21,
    )
    assert len(prot.iv) == 15
    assert (
        keyprotect.serialize_protection(prot, version=6)
        == A5_PRIMARY_BODY[A5_PUBLIC_LEN:end]
    )
    assert len(A5_PRIMARY_BODY) - end == 32 + 16


def test_rfc9580_a5_hkdf_step_matches_published_intermediate() -> None:
    # RFC 9580 §5.5.3: info = 0xC5 (Secret Key packet), version 6, AES-256, OCB.
    info = bytes((0xC5, 6, 9, 2))
    assert hkdf_sha256(A5_S2K_DERIVED, salt=None, info=info, length=32) == A5_AEAD_KEY
    assert bytes((0xC5,)) + A5_PRIMARY_BODY[:A5_PUBLIC_LEN] == A5_AAD


@pytest.mark.slow
def test_rfc9580_a5_locked_key_unlocks_with_argon2() -> None:
    """Runs Argon2 with the published 2 GiB parameters (about 6 s)."""
    prot, end = keyprotect.parse_protection(A5_PRIMARY_BODY, A5_PUBLIC_LEN, version=6)
    assert prot.s2k is not None
    assert s2k.derive_key(prot.s2k, A5_PASSPHRASE, 32) == A5_S2K_DERIVED
    secret = keyprotect.unprotect(
        prot,
        A5_PRIMARY_BODY[end:],
        A5_PASSPHRASE,
        version=6,
        packet_tag=5,
        public_body=A5_PRIMARY_BODY[:A5_PUBLIC_LEN],
    )
    assert secret == A4_PRIMARY_SECRET


PUBLIC_BODY = b"\x04\x60\x00\x00\x00\x16" + bytes(40)
MATERIAL = b"\x00\xffsecret-material-mpi" * 3


@pytest.mark.parametrize(
    ("version", "usage", "aead", "spec"),
    [
        (6, 253, 2, SMALL_ARGON2),
        (6, 253, 3, SMALL_ARGON2),
        (4, 253, 2, SMALL_ARGON2),
        (4, 254, 0, S2K(3, 8, b"saltsalt", 0x10)),
        (6, 254, 0, S2K(3, 10, b"saltsalt", 0x10)),
    ],
)
def test_protect_then_unprotect_round_trips(
    version: int, usage: int, aead: int, spec: S2K
) -> None:
    prot, sealed = keyprotect.protect(
        MATERIAL,
        b"pw",
        version=version,
        packet_tag=7,
        public_body=PUBLIC_BODY,
        usage=usage,
        s2k=spec,
        aead_algo=aead or 2,
    )
    wire = keyprotect.serialize_protection(prot, version=version)
    parsed, _end = keyprotect.parse_protection(wire + sealed, 0, version=version)
    assert parsed == prot
    kwargs = {"version": version, "packet_tag": 7, "public_body": PUBLIC_BODY}
    assert keyprotect.unprotect(parsed, sealed, b"pw", **kwargs) == MATERIAL
    with pytest.raises(PassphraseError, match="wrong passphrase"):
        keyprotect.unprotect(parsed, sealed, b"wrong", **kwargs)
    with pytest.raises(PassphraseError, match="required"):
        keyprotect.unprotect(parsed, sealed, None, **kwargs)
    tampered = bytearray(sealed)
    tampered[len(tampered) // 2] ^= 1
    with pytest.raises(PassphraseError):
        keyprotect.unprotect(parsed, bytes(tampered), b"pw", **kwargs)


def test_aead_protection_binds_the_public_key_and_packet_type() -> None:
    prot, sealed = keyprotect.protect(
        MATERIAL,
        b"pw",
        version=6,
        packet_tag=5,
        public_body=PUBLIC_BODY,
        s2k=SMALL_ARGON2,
    )
    with pytest.raises(PassphraseError):
        keyprotect.unprotect(
            prot, sealed, b"pw", version=6, packet_tag=7, public_body=PUBLIC_BODY
        )
    with pytest.raises(PassphraseError):
        keyprotect.unprotect(
            prot, sealed, b"pw", version=6, packet_tag=5, public_body=PUBLIC_BODY + b"x"
        )


def test_unprotected_v4_material_carries_a_checked_checksum() -> None:
    prot, data = keyprotect.protect(
        MATERIAL, None, version=4, packet_tag=5, public_body=PUBLIC_BODY
    )
    assert prot.usage == 0 and data[-2:] == checksum16(MATERIAL)
    assert keyprotect.serialize_protection(prot, version=4) == b"\x00"
    kwargs = {"version": 4, "packet_tag": 5, "public_body": PUBLIC_BODY}
    assert keyprotect.unprotect(prot, data, None, **kwargs) == MATERIAL
    with pytest.raises(PacketError, match="checksum"):
        keyprotect.unprotect(prot, data[:-1] + b"\x00", None, **kwargs)


def test_unprotected_v6_material_has_no_checksum() -> None:
    prot, data = keyprotect.protect(
        MATERIAL, None, version=6, packet_tag=5, public_body=PUBLIC_BODY
    )
    assert data == MATERIAL
    assert (
        keyprotect.unprotect(
            prot, data, None, version=6, packet_tag=5, public_body=PUBLIC_BODY
        )
        == MATERIAL
    )


def test_v6_malleable_cfb_is_malformed() -> None:
    wire = b"\xff\x0c\x09\x03\x08saltsalt\x10" + bytes(16)
    with pytest.raises(PacketError):
        keyprotect.parse_protection(wire, 0, version=6)


def test_argon2_without_aead_is_malformed() -> None:
    spec = s2k.serialize_s2k(SMALL_ARGON2)
    wire = bytes((254, 9)) + spec + bytes(16)
    with pytest.raises(PacketError, match="Argon2"):
        keyprotect.parse_protection(wire, 0, version=4)


def test_legacy_cfb_usage_is_unsupported() -> None:
    with pytest.raises(UnsupportedError, match="LegacyCFB"):
        keyprotect.parse_protection(b"\x09" + bytes(16), 0, version=4)


def test_gnu_stub_protection_parses_and_refuses_to_unlock() -> None:
    wire = b"\xfe\x07\x65\x02GNU\x01"
    prot, end = keyprotect.parse_protection(wire, 0, version=4)
    assert prot.is_stub and end == len(wire) and prot.iv == b""
    with pytest.raises(UnsupportedError, match="smartcard"):
        keyprotect.unprotect(
            prot, b"", b"pw", version=4, packet_tag=5, public_body=PUBLIC_BODY
        )


@given(st.binary(max_size=64), st.sampled_from([4, 6]))
def test_parse_protection_never_raises_outside_the_error_hierarchy(
    data: bytes, version: int
) -> None:
    with contextlib.suppress(PacketError, UnsupportedError):
        keyprotect.parse_protection(data, 0, version=version)


def test_protect_refuses_argon2_with_cfb() -> None:
    with pytest.raises(UsageError):
        keyprotect.protect(
            MATERIAL,
            b"pw",
            version=4,
            packet_tag=5,
            public_body=PUBLIC_BODY,
            usage=254,
            s2k=SMALL_ARGON2,
        )


def test_protection_repr_never_shows_material() -> None:
    prot = SecretKeyProtection()
    assert "secret" not in repr(prot)


@pytest.mark.parametrize(
    ("algo", "size", "block"),
    [(1, 16, 8), (2, 24, 8), (3, 16, 8), (4, 16, 8), (11, 16, 16), (13, 32, 16)],
)
def test_gnupg1_era_ciphers_unlock_read_only(algo: int, size: int, block: int) -> None:
    """Keys GnuPG 1.x protected with CAST5 (its default), 3DES, IDEA, Blowfish or
    Camellia still load; the sealed form is built here with the decrepit cipher."""
    from cryptography.hazmat.decrepit.ciphers import algorithms as old
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
    from cryptography.hazmat.primitives.ciphers import Cipher

    cls = {1: old.IDEA, 2: old.TripleDES, 3: old.CAST5, 4: old.Blowfish}.get(
        algo, old.Camellia
    )
    spec = S2K(s2k.S2K_ITERATED, 2, b"saltsalt", 0x60)
    iv = bytes(range(block))
    enc = Cipher(cls(s2k.derive_key(spec, b"pw", size)), CFB(iv)).encryptor()
    sealed = enc.update(MATERIAL + hashlib.sha1(MATERIAL).digest()) + enc.finalize()
    prot = SecretKeyProtection(254, algo, 0, spec, iv)
    wire = keyprotect.serialize_protection(prot, version=4)
    parsed, _ = keyprotect.parse_protection(wire, 0, version=4)
    kwargs = {"version": 4, "packet_tag": 7, "public_body": PUBLIC_BODY}
    assert keyprotect.unprotect(parsed, sealed, b"pw", **kwargs) == MATERIAL
    with pytest.raises(PassphraseError):
        keyprotect.unprotect(parsed, sealed, b"wrong", **kwargs)


@pytest.mark.parametrize(("algo", "size"), [(1, 16), (3, 16), (4, 16), (11, 16)])
def test_whole_key_protected_with_a_gnupg1_era_cipher_loads(
    algo: int, size: int
) -> None:
    """The key packet codec and the protection codec read the same ciphers: a whole
    v4 key sealed with IDEA, CAST5, Blowfish or Camellia loads and decrypts."""
    from cryptography.hazmat.decrepit.ciphers import algorithms as old
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
    from cryptography.hazmat.primitives.ciphers import Cipher

    from e2ee_mail.openpgp import keygen_v4
    from e2ee_mail.openpgp.packets.header import parse_packets, serialize_packet
    from e2ee_mail.openpgp.packets.keys import parse_secret_key, serialize_public_key

    key = keygen_v4.generate_v4("old@example.org", kind="x25519", now=1_600_000_000)
    cls = {1: old.IDEA, 3: old.CAST5, 4: old.Blowfish}.get(algo, old.Camellia)
    block = 16 if algo == 11 else 8
    spec = S2K(s2k.S2K_ITERATED, 8, b"saltsalt", 0x60)
    out = bytearray()
    for packet in parse_packets(key.export(armor=False)):
        body = packet.body
        if packet.tag in (5, 7):  # secret key, secret subkey: unprotected (usage 0)
            public = serialize_public_key(parse_secret_key(body).public)
            plain = body[len(public) + 1 : -2]  # the material, less its checksum
            iv = bytes(range(block))
            seal = Cipher(cls(s2k.derive_key(spec, b"pw", size)), CFB(iv)).encryptor()
            sealed = seal.update(plain + hashlib.sha1(plain).digest()) + seal.finalize()
            prot = SecretKeyProtection(254, algo, 0, spec, iv)
            body = public + keyprotect.serialize_protection(prot, version=4) + sealed
        out += serialize_packet(packet.tag, body)
    loaded = e2ee_mail.load_key(bytes(out), passphrase=b"pw")
    sealed_message = e2ee_mail.encrypt(b"archive", [key.public])
    assert e2ee_mail.decrypt(sealed_message, loaded) == b"archive"
