"""ML-KEM-768+X25519 (RFC 9980, algorithm 35): keys, PKESKs, the key combiner,
selection of a PQ subkey, rewrap to a PQ key, and refusals."""

from __future__ import annotations

import hashlib
from typing import Literal

import pytest

import e2ee_mail
from e2ee_mail import DecryptionError, NoMatchingKeyError, UsageError
from e2ee_mail.core import mlkem
from e2ee_mail.openpgp import armor, inspection, pkesk_mlkem
from e2ee_mail.openpgp.certs import OpenPGPSecretKey
from e2ee_mail.openpgp.packets import PK_MLKEM768_X25519, TAG_PKESK
from e2ee_mail.openpgp.packets.header import parse_packets, serialize_packet
from e2ee_mail.openpgp.packets.pkesk import PKESKv3, PKESKv6, parse_pkesk
from e2ee_mail.openpgp.rotate import add_encryption_subkey

BODY = b"post-quantum mail\r\n" * 50
PROFILES: tuple[Literal["rfc9580", "rfc4880"], ...] = ("rfc9580", "rfc4880")


@pytest.fixture(scope="module", params=PROFILES)
def pq_key(request: pytest.FixtureRequest) -> e2ee_mail.SecretKey:
    return e2ee_mail.generate_key(
        "PQ <pq@example.org>", kind="mlkem768-x25519", profile=request.param
    )


def _pkesks(sealed: bytes | bytearray) -> list[PKESKv3 | PKESKv6]:
    data = bytes(sealed)
    if armor.is_armored(data):
        data = armor.dearmor(data)[1]
    return [parse_pkesk(p.body) for p in parse_packets(data) if p.tag == TAG_PKESK]


def _with_pkesk_octet_flipped(sealed: bytes | bytearray, where: int) -> bytes:
    """``sealed`` (binary) with octet ``where`` of its first PKESK's fields flipped."""
    data = bytes(sealed)
    first = parse_packets(data)[0]
    body = bytearray(first.body)
    fields_at = len(body) - len(parse_pkesk(bytes(body)).material)
    body[fields_at + where] ^= 0x01
    head = serialize_packet(TAG_PKESK, bytes(body))
    return head + data[len(serialize_packet(TAG_PKESK, first.body)) :]


def test_keygen_makes_an_ed25519_key_with_a_pq_subkey(
    pq_key: e2ee_mail.SecretKey,
) -> None:
    cert = pq_key.public
    assert isinstance(pq_key, OpenPGPSecretKey)
    (sub,) = cert.encryption_keys()  # type: ignore[attr-defined]
    assert sub.packet.algorithm == PK_MLKEM768_X25519
    assert len(sub.packet.material) == mlkem.PUBLIC_SIZE


@pytest.mark.parametrize("armored", [True, False], ids=["armored", "binary"])
def test_round_trip(pq_key: e2ee_mail.SecretKey, armored: bool) -> None:
    sealed = e2ee_mail.encrypt(BODY, pq_key.public, armor=armored)
    assert e2ee_mail.decrypt(sealed, pq_key) == BODY
    (packet,) = _pkesks(sealed)
    assert packet.algorithm == PK_MLKEM768_X25519
    v6 = pq_key.public.version == 6  # type: ignore[attr-defined]
    assert isinstance(packet, PKESKv6 if v6 else PKESKv3)
    # 32 + 1088 + size octet + (v3: cipher octet) + 40-octet wrap of a 32-octet key.
    assert len(packet.material) == 32 + 1088 + 1 + (0 if v6 else 1) + 40


def test_inspect_names_the_algorithm(pq_key: e2ee_mail.SecretKey) -> None:
    sealed = e2ee_mail.encrypt(BODY, pq_key.public)
    (recipient,) = inspection.inspect(bytes(sealed)).recipients
    assert recipient.algorithm == "mlkem768-x25519"


def test_protected_export_loads_and_decrypts(pq_key: e2ee_mail.SecretKey) -> None:
    exported = pq_key.export(passphrase="correct horse")
    again = e2ee_mail.load_key(exported, "correct horse")
    sealed = e2ee_mail.encrypt(BODY, pq_key.public)
    assert e2ee_mail.decrypt(sealed, again) == BODY
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(exported, "wrong")


def test_wrong_key_is_no_matching_key(pq_key: e2ee_mail.SecretKey) -> None:
    other = e2ee_mail.generate_key(
        "Other <other@example.org>",
        kind="mlkem768-x25519",
        profile="rfc9580" if pq_key.public.version == 6 else "rfc4880",  # type: ignore[attr-defined]
    )
    sealed = e2ee_mail.encrypt(BODY, pq_key.public, armor=False)
    with pytest.raises(NoMatchingKeyError):
        e2ee_mail.decrypt(sealed, other)


@pytest.mark.parametrize(
    "where",
    [5, 32 + 500, 32 + 1087, -3],
    ids=["x25519-ephemeral", "mlkem-ciphertext", "mlkem-last-octet", "wrapped-key"],
)
def test_tampered_pkesk_is_decryption_error(
    pq_key: e2ee_mail.SecretKey, where: int
) -> None:
    sealed = e2ee_mail.encrypt(BODY, pq_key.public, armor=False)
    material = _pkesks(sealed)[0].material
    altered = _with_pkesk_octet_flipped(sealed, where % len(material))
    with pytest.raises(DecryptionError):
        e2ee_mail.decrypt(altered, pq_key)


def test_truncated_pkesk_fields_are_decryption_error() -> None:
    private = mlkem.generate()
    fields = pkesk_mlkem.wrap_mlkem(bytes(32), None, private.public, 35)
    for cut in (fields[:100], fields[:-1], fields + b"\0"):
        with pytest.raises(DecryptionError):
            pkesk_mlkem.unwrap_mlkem(cut, private, 6)


def test_v3_pkesk_carries_an_aes_cipher_octet_in_the_clear() -> None:
    private = mlkem.generate()
    fields = pkesk_mlkem.wrap_mlkem(bytes(range(24)), 8, private.public, 35)
    assert fields[32 + 1088] == 1 + 32  # size octet: cipher octet + 32-octet wrap
    assert fields[32 + 1088 + 1] == 8
    assert pkesk_mlkem.unwrap_mlkem(fields, private, 3) == (8, bytes(range(24)))


def test_v3_pkesk_refuses_a_non_aes_cipher_or_a_key_of_another_size() -> None:
    private = mlkem.generate()
    with pytest.raises(e2ee_mail.UnsupportedError, match="RFC 9980"):
        pkesk_mlkem.wrap_mlkem(bytes(16), 3, private.public, 35)  # CAST5
    # A v3 PKESK whose cipher octet says AES-256 but wraps a 16-octet key: the
    # receiver must check the size (RFC 9980 §4.3.1).
    fields = bytearray(pkesk_mlkem.wrap_mlkem(bytes(16), 7, private.public, 35))
    fields[32 + 1088 + 1] = 9
    with pytest.raises(DecryptionError):
        pkesk_mlkem.unwrap_mlkem(bytes(fields), private, 3)


def test_combiner_is_sha3_256_over_the_rfc_layout() -> None:
    parts = [bytes([i]) * 32 for i in range(4)]
    expected = hashlib.sha3_256(
        b"".join(parts) + b"\x23" + b"OpenPGPCompositeKDFv1" + b"\x15"
    ).digest()
    assert mlkem.combine(parts[0], parts[1], parts[2], parts[3]) == expected


def test_encapsulate_and_decapsulate_agree() -> None:
    private = mlkem.generate()
    ecdh_ct, mlkem_ct, kek = mlkem.encapsulate(private.public)
    assert (len(ecdh_ct), len(mlkem_ct), len(kek)) == (32, 1088, 32)
    assert mlkem.decapsulate(private, ecdh_ct, mlkem_ct) == kek
    again = mlkem.private_from_bytes(private.secret_bytes())
    assert again.public == private.public
    assert repr(private) == "<CompositeKemPrivateKey mlkem768-x25519>"


def test_malformed_public_key_is_refused() -> None:
    with pytest.raises(e2ee_mail.FormatError):
        mlkem.encapsulate(bytes(mlkem.PUBLIC_SIZE - 1))
    # An encapsulation key whose coefficients are not reduced mod q (FIPS 203
    # §7.2 modulus check).
    with pytest.raises(e2ee_mail.FormatError):
        mlkem.encapsulate(bytes(32) + b"\xff" * mlkem.ENCAPSULATION_SIZE)


def test_pq_subkey_is_preferred_over_a_newer_classical_one() -> None:
    key = e2ee_mail.generate_key("Mixed <mixed@example.org>", kind="mlkem768-x25519")
    assert isinstance(key, OpenPGPSecretKey)
    created = key.public.encryption_keys()[0].packet.created
    mixed = add_encryption_subkey(key, kind="x25519", created=created + 10)
    kinds = {k.packet.algorithm for k in mixed.public.encryption_keys()}
    assert kinds == {PK_MLKEM768_X25519, 25}
    sealed = e2ee_mail.encrypt(BODY, mixed.public)
    (packet,) = _pkesks(sealed)
    assert packet.algorithm == PK_MLKEM768_X25519


@pytest.mark.parametrize("profile", PROFILES)
def test_rewrap_an_old_message_to_a_pq_key(
    pq_key: e2ee_mail.SecretKey, profile: Literal["rfc9580", "rfc4880"]
) -> None:
    old = e2ee_mail.generate_key("Old <old@example.org>", profile=profile)
    sealed = e2ee_mail.encrypt(BODY, old.public, armor=False)
    rewrapped = e2ee_mail.rewrap(sealed, old, pq_key.public)
    assert e2ee_mail.decrypt(rewrapped, pq_key) == BODY
    (packet,) = _pkesks(rewrapped)
    assert packet.algorithm == PK_MLKEM768_X25519
    # The body is copied, not re-encrypted.
    assert bytes(rewrapped).endswith(bytes(sealed)[len(bytes(sealed)) - 200 :])
    with pytest.raises(NoMatchingKeyError):
        e2ee_mail.decrypt(rewrapped, old)


def test_x509_refuses_the_kind() -> None:
    with pytest.raises(UsageError, match="openpgp only"):
        e2ee_mail.generate_key(
            "PQ <pq@example.org>", format="x509", kind="mlkem768-x25519"
        )


class _Cert:
    """A certificate stand-in: preferences, and a PQ key or not."""

    def __init__(self, symmetric: bytes, aead: tuple[tuple[int, int], ...], pq: bool):
        self.symmetric_preferences = symmetric
        self.aead_preferences = aead
        self._pq = pq

    def encryption_keys(self) -> list[object]:
        class _Key:
            class packet:
                algorithm = PK_MLKEM768_X25519

        return [_Key()] if self._pq else []


@pytest.mark.parametrize("pq", [True, False], ids=["pq", "classical"])
def test_a_pq_certificate_implies_aes256_and_aes256_ocb(pq: bool) -> None:
    from e2ee_mail.openpgp.recipients import choose_suite
    from e2ee_mail.openpgp.seipdv1 import choose_cipher

    cert = _Cert(b"\x07", ((7, 2),), pq)
    assert choose_cipher([cert]) == (9 if pq else 7)  # type: ignore[list-item]
    assert choose_suite([cert]) == ((9, 2) if pq else (7, 2))  # type: ignore[list-item]


def test_a_sha1_binding_does_not_bind_a_pq_subkey() -> None:
    from e2ee_mail.openpgp.certs import load_certificate
    from e2ee_mail.openpgp.packets import TAG_SIGNATURE
    from e2ee_mail.openpgp.packets.signature import (
        SIG_SUBKEY_BINDING,
        SP_KEY_FLAGS,
        Subpacket,
        serialize_signature,
    )
    from e2ee_mail.openpgp.sigs import key_signature_data, make_signature

    key = e2ee_mail.generate_key(
        "PQ <pq@example.org>", kind="mlkem768-x25519", profile="rfc4880"
    )
    assert isinstance(key, OpenPGPSecretKey)
    cert = key.public
    primary = cert.primary.packet
    (sub,) = cert.encryption_keys()
    signer = key.private_key(cert.primary.fingerprint)
    binding = make_signature(
        signer,  # type: ignore[arg-type]
        primary,
        SIG_SUBKEY_BINDING,
        key_signature_data(primary, subkey=sub.packet),
        [Subpacket(SP_KEY_FLAGS, bytes((0x0C,)))],
        created=sub.packet.created,
        hash_algorithm=2,  # SHA-1
    )
    packets = parse_packets(cert.export(armor=False))
    packets[-1] = type(packets[-1])(TAG_SIGNATURE, serialize_signature(binding))
    data = b"".join(serialize_packet(p.tag, p.body) for p in packets)
    assert load_certificate(data).encryption_keys() == []


def test_mlkem1024_x448_round_trip_and_sizes() -> None:
    private = mlkem.generate(36)
    assert len(private.public) == 56 + 1568
    again = mlkem.private_from_bytes(private.secret_bytes(), 36)
    assert again.public == private.public
    fields = pkesk_mlkem.wrap_mlkem(bytes(range(32)), None, private.public, 36)
    # 56 + 1568 + size octet + 40-octet wrap of a 32-octet key.
    assert len(fields) == 56 + 1568 + 1 + 40
    assert pkesk_mlkem.unwrap_mlkem(fields, private, 6) == (None, bytes(range(32)))
    altered = bytearray(fields)
    altered[56 + 700] ^= 1
    with pytest.raises(DecryptionError):
        pkesk_mlkem.unwrap_mlkem(bytes(altered), private, 6)
    # A key of the other suite does not open it.
    with pytest.raises(DecryptionError):
        pkesk_mlkem.unwrap_mlkem(fields, mlkem.generate(35), 6)


def test_mlkem1024_x448_is_refused_in_a_v4_key() -> None:
    from e2ee_mail.openpgp.packets.keys import parse_public_key

    body = b"\x04" + bytes(4) + b"\x24" + bytes(56 + 1568)
    with pytest.raises(e2ee_mail.FormatError):
        parse_public_key(body)


def test_a_malformed_pq_key_is_reported_as_a_problem() -> None:
    from e2ee_mail.openpgp.packets.keys import PublicKeyPacket
    from e2ee_mail.openpgp.tpk import algorithm_problem

    good = PublicKeyPacket(6, 0, PK_MLKEM768_X25519, mlkem.generate().public)
    assert algorithm_problem(good) is None
    # Coefficients not reduced mod q: the FIPS 203 §7.2 check fails.
    bad = PublicKeyPacket(6, 0, PK_MLKEM768_X25519, bytes(32) + b"\xff" * 1184)
    assert algorithm_problem(bad) == "malformed ML-KEM-768+X25519 key material"
