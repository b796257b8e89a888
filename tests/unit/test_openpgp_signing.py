"""OpenPGP document signatures: one-pass packets, text canonicalization, signing-key
selection, and round trips (v6 Ed25519, v4 EdDSALegacy, v4 RSA) inline, detached,
streamed and inside SEIPDv2 / SEIPDv1."""

from __future__ import annotations

import io

import pytest
from openpgp_signers import KINDS, signer

from e2ee_mail.errors import PacketError, UnsupportedError, UsageError
from e2ee_mail.openpgp import armor, keygen, message, signing, verifying
from e2ee_mail.openpgp.document import DocumentHasher
from e2ee_mail.openpgp.packets import TAG_ONE_PASS_SIG, TAG_SIGNATURE
from e2ee_mail.openpgp.packets.header import parse_packets
from e2ee_mail.openpgp.packets.onepass import (
    OnePassSignature,
    parse_one_pass,
    serialize_one_pass,
)
from e2ee_mail.openpgp.packets.signature import SALT_SIZE, parse_signature
from e2ee_mail.policy import DEFAULT

BODY = b"Dear Bob,\nthe meeting moved to Tuesday.\r\nAlice\n"


def test_one_pass_v3_and_v6_round_trip() -> None:
    v3 = OnePassSignature(3, 0, 10, 22, b"\x01" * 8)
    v6 = OnePassSignature(6, 1, 10, 27, b"\x02" * 32, b"\x03" * 32, 0)
    for packet in (v3, v6):
        assert parse_one_pass(serialize_one_pass(packet)) == packet


def test_one_pass_refuses_other_versions_and_trailing_octets() -> None:
    body = serialize_one_pass(OnePassSignature(3, 0, 10, 22, b"\x01" * 8))
    with pytest.raises(UnsupportedError):
        parse_one_pass(b"\x04" + body[1:])
    with pytest.raises(PacketError):
        parse_one_pass(body + b"\0")
    with pytest.raises(PacketError):
        parse_one_pass(body[:-2])
    with pytest.raises(PacketError):
        serialize_one_pass(OnePassSignature(6, 0, 10, 27, b"\x01" * 8))


@pytest.mark.parametrize("split", range(1, 12))
def test_text_hash_is_canonical_across_piece_boundaries(split: int) -> None:
    text = b"a\r\nb\nc\r\n\nd\r"
    whole = DocumentHasher(4, 10, b"", text=True)
    whole.update(text[:split])
    whole.update(text[split:])
    canonical = DocumentHasher(4, 10, b"", text=False)
    canonical.update(b"a\r\nb\r\nc\r\n\r\nd\r")
    sig = parse_signature(
        parse_packets(signing.sign_detached(b"", signer("v4"), armor=False))[0].body
    )
    assert whole.digest(sig) == canonical.digest(sig)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("text", [False, True])
def test_inline_round_trip(kind: str, text: bool) -> None:
    key = signer(kind)
    signed = signing.sign_inline(BODY, key, text=text)
    content, results = verifying.verify_inline(signed, [key.public], policy=DEFAULT)
    assert content == BODY
    assert [r.status for r in results] == ["good"]
    assert results[0].fingerprint == key.public.fingerprint
    assert results[0].signer == key.public.emails[0]
    assert results[0].signing_time is not None


@pytest.mark.parametrize("kind", KINDS)
def test_detached_round_trip_and_armor_label(kind: str) -> None:
    key = signer(kind)
    sig = signing.sign_detached(BODY, key)
    assert sig.startswith(b"-----BEGIN PGP SIGNATURE-----")
    (result,) = verifying.verify_detached(BODY, sig, [key.public], policy=DEFAULT)
    assert result.good
    (result,) = verifying.verify_detached_stream(
        io.BytesIO(BODY), sig, [key.public], policy=DEFAULT
    )
    assert result.good


def test_text_signature_survives_line_ending_changes() -> None:
    key = signer("v6")
    sig = signing.sign_detached(b"one\ntwo\n", key, text=True)
    (result,) = verifying.verify_detached(
        b"one\r\ntwo\r\n", sig, [key.public], policy=DEFAULT
    )
    assert result.good


def test_v6_signature_is_salted_per_hash_and_announced() -> None:
    key = signer("v6")
    packets = parse_packets(signing.sign_inline(BODY, key, armor=False))
    assert [p.tag for p in packets] == [TAG_ONE_PASS_SIG, 11, TAG_SIGNATURE]
    ops = parse_one_pass(packets[0].body)
    sig = parse_signature(packets[2].body)
    assert ops.version == 6 and sig.version == 6
    assert len(sig.salt) == SALT_SIZE[sig.hash_algorithm]
    assert ops.salt == sig.salt
    assert ops.issuer == key.public.primary.fingerprint
    # Two signatures of the same data differ: the salt is fresh each time.
    again = parse_signature(
        parse_packets(signing.sign_detached(BODY, key, armor=False))[0].body
    )
    assert again.salt != sig.salt


def test_v4_one_pass_names_key_id() -> None:
    key = signer("v4")
    packets = parse_packets(signing.sign_inline(BODY, key, armor=False))
    ops = parse_one_pass(packets[0].body)
    assert ops.version == 3
    assert ops.issuer == key.public.primary.key_id


@pytest.mark.parametrize("kind", KINDS)
def test_streamed_inline_matches_bytes_verification(kind: str) -> None:
    key = signer(kind)
    body = bytes(range(256)) * 5000
    out = io.BytesIO()
    signing.sign_inline_stream(io.BytesIO(body), out, key)
    content, results = verifying.verify_inline(
        out.getvalue(), [key.public], policy=DEFAULT
    )
    assert content == body and results[0].good
    sink = io.BytesIO()
    results = verifying.verify_inline_stream(
        io.BytesIO(out.getvalue()), sink, [key.public], policy=DEFAULT
    )
    assert sink.getvalue() == body and results[0].good


@pytest.mark.parametrize("kind", ["v6", "v4"])
def test_sign_then_encrypt_round_trip(kind: str) -> None:
    key = signer(kind)
    sealed = signing.encrypt_signed(BODY, [key.public], key, armor=True, policy=DEFAULT)
    plain, results = verifying.decrypt_verified(
        sealed, [key], [key.public], policy=DEFAULT
    )
    assert plain == BODY and [r.status for r in results] == ["good"]
    # A plain decrypt still reads the message (the signature packets are skipped).
    assert message.decrypt(sealed, [key], policy=DEFAULT) == BODY
    out = io.BytesIO()
    results = verifying.decrypt_verified_stream(
        io.BytesIO(sealed), out, [key], [key.public], policy=DEFAULT
    )
    assert out.getvalue() == BODY and results[0].good


def test_container_follows_recipients() -> None:
    v6, v4 = signer("v6"), signer("v4")
    for recipient, version in ((v6, 2), (v4, 1)):
        sealed = signing.encrypt_signed(
            BODY, [recipient.public], v6, armor=False, policy=DEFAULT
        )
        parsed = message.ParsedMessage(sealed, DEFAULT)
        assert parsed.version == version
        plain, results = verifying.decrypt_verified(
            sealed, [recipient], [v6.public], policy=DEFAULT
        )
        assert plain == BODY and results[0].good


def test_intended_recipients_are_named() -> None:
    key, other = signer("v6"), signer("v4")
    sealed = signing.encrypt_signed(
        BODY, [key.public, other.public], key, armor=False, policy=DEFAULT
    )
    packets, _ = message.open_parsed(message.ParsedMessage(sealed, DEFAULT), [other])
    sig = parse_signature(parse_packets(packets)[-1].body)
    named = {s.body[1:] for s in sig.hashed if s.type == 35}
    assert named == {key.public.primary.fingerprint, other.public.primary.fingerprint}


def test_unsigned_message_has_no_results() -> None:
    key = signer("v6")
    sealed = message.encrypt(BODY, [key.public], armor=False, policy=DEFAULT)
    plain, results = verifying.decrypt_verified(
        sealed, [key], [key.public], policy=DEFAULT
    )
    assert plain == BODY and results == ()


def test_signing_needs_an_openpgp_key(rkey: object) -> None:
    with pytest.raises(UsageError):
        signing.signing_key(rkey)  # type: ignore[arg-type]


def test_signing_key_is_primary_with_sign_flag() -> None:
    key = signer("v6")
    info, _ = signing.signing_key(key)
    assert info.fingerprint == key.public.primary.fingerprint
    assert info.flags & signing.FLAG_SIGN


def test_expired_key_cannot_sign_but_its_old_signatures_stay_good() -> None:
    key = keygen.generate_v6(
        "Old <old@example.org>", kind="x25519", now=1_700_000_000, expires_in=1000
    )
    sig = signing.sign_detached(BODY, key, now=1_700_000_500)
    (result,) = verifying.verify_detached(BODY, sig, [key.public], policy=DEFAULT)
    assert result.good
    with pytest.raises(UnsupportedError):
        signing.signing_key(key, 1_700_002_000)


def test_detached_armor_uses_signature_block() -> None:
    sig = signing.sign_detached(BODY, signer("v4"))
    label, _ = armor.dearmor(sig)
    assert label == "SIGNATURE"


class _Pipe:
    """A readable stream that cannot seek (its size is unknown up front)."""

    def __init__(self, data: bytes) -> None:
        self._src = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._src.read(n)


@pytest.mark.parametrize("recipient", ["v6", "v4"])
@pytest.mark.parametrize("seekable", [True, False])
def test_streamed_sign_then_encrypt(recipient: str, seekable: bool) -> None:
    key, to = signer("v6"), signer(recipient)
    body = bytes(range(256)) * 9000
    src = io.BytesIO(body) if seekable else _Pipe(body)
    out = io.BytesIO()
    signing.encrypt_signed_stream(
        src,  # type: ignore[arg-type]
        out,
        [to.public],
        key,
        armor=not seekable,
        policy=DEFAULT,
    )
    plain, results = verifying.decrypt_verified(
        out.getvalue(), [to], [key.public], policy=DEFAULT
    )
    assert plain == body and [r.status for r in results] == ["good"]


def test_streamed_inline_signing_from_a_pipe() -> None:
    key = signer("v4")
    out = io.BytesIO()
    signing.sign_inline_stream(_Pipe(BODY), out, key, text=True)  # type: ignore[arg-type]
    content, results = verifying.verify_inline(
        out.getvalue(), [key.public], policy=DEFAULT
    )
    assert content == BODY and results[0].good


@pytest.mark.parametrize("kind", KINDS)
def test_micalg_names_the_hash_signed_with(kind: str) -> None:
    key = signer(kind)
    doc = signing.DocumentSigner(key)
    assert signing.micalg(key) == doc.micalg == "pgp-sha512"
