"""Attacks on OpenPGP signatures, each a named test: stripping, signer substitution,
a signature meant for another recipient, signature-type confusion, one-pass packet
mismatches, altered content, several signatures with one bad, expired and revoked
signing keys, and MD5 / SHA-1. None may ever come out "good"."""

from __future__ import annotations

import io
import zlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from openpgp_signers import signer

from e2ee_mail.core import chunked
from e2ee_mail.core.random import random_bytes
from e2ee_mail.errors import Error, UnsupportedError
from e2ee_mail.model import SignatureResult
from e2ee_mail.openpgp import certs, keygen, message, seipdv2, signing, verifying
from e2ee_mail.openpgp.document import DocumentHasher
from e2ee_mail.openpgp.keymaterial import public_material
from e2ee_mail.openpgp.packets import (
    PK_ED25519,
    TAG_COMPRESSED,
    TAG_LITERAL,
    TAG_PUBLIC_SUBKEY,
    TAG_SEIPD,
    TAG_SIGNATURE,
)
from e2ee_mail.openpgp.packets.header import (
    parse_packets,
    serialize_header,
    serialize_packet,
)
from e2ee_mail.openpgp.packets.keys import PublicKeyPacket, serialize_public_key
from e2ee_mail.openpgp.packets.onepass import parse_one_pass, serialize_one_pass
from e2ee_mail.openpgp.packets.signature import (
    SIG_KEY_REVOCATION,
    SIG_PRIMARY_BINDING,
    SIG_SUBKEY_BINDING,
    SP_EMBEDDED_SIGNATURE,
    SP_KEY_FLAGS,
    SignaturePacket,
    Subpacket,
    parse_signature,
    serialize_signature,
)
from e2ee_mail.openpgp.recipients import choose_suite, pkesk_packets, recipient_key
from e2ee_mail.openpgp.sigs import key_signature_data, make_signature
from e2ee_mail.policy import DEFAULT

BODY = b"Pay 100 EUR to account 1234.\n"
LITERAL = serialize_packet(TAG_LITERAL, b"b\0\0\0\0\0" + BODY)


def _packets(data: bytes) -> list[tuple[int, bytes]]:
    return [(p.tag, bytes(p.body)) for p in parse_packets(data)]


def _join(packets: list[tuple[int, bytes]]) -> bytes:
    return b"".join(serialize_packet(tag, body) for tag, body in packets)


def _inline(kind: str = "v6") -> list[tuple[int, bytes]]:
    return _packets(signing.sign_inline(BODY, signer(kind), armor=False))


def _statuses(results: tuple[SignatureResult, ...]) -> list[str]:
    return [r.status for r in results]


def _verify(data: bytes, kind: str = "v6") -> tuple[bytes, tuple[SignatureResult, ...]]:
    return verifying.verify_inline(data, [signer(kind).public], policy=DEFAULT)


def _seal(
    inner: bytes,
    to: certs.OpenPGPCertificate,
    chunk_size_octet: int = DEFAULT.chunk_size_octet,
) -> bytes:
    """Encrypt ready-made inner packets (as an attacker re-encrypting would)."""
    key = recipient_key(to, DEFAULT)
    cipher, aead = choose_suite([to])
    session_key = random_bytes(seipdv2.CIPHER_KEY_SIZE[cipher])
    header = seipdv2.new_header(cipher, aead, chunk_size_octet)
    size = seipdv2.sealed_body_size(header, len(inner))
    head = pkesk_packets(session_key, [key]) + serialize_header(TAG_SEIPD, size)
    out = bytearray(len(head) + size)
    out[: len(head)] = head
    seipdv2.seal_into(header, session_key, b"", inner, memoryview(out)[len(head) :])
    return bytes(out)


def _crafted(
    kind: str,
    *,
    sig_type: int = 0,
    hash_algorithm: int | None = None,
    created: int | None = None,
    data: bytes = BODY,
) -> bytes:
    """A detached signature packet with chosen fields, really made by the key."""
    doc = signing.DocumentSigner(signer(kind))
    if hash_algorithm is not None:
        doc.hash_algorithm = hash_algorithm
        doc._hasher = DocumentHasher(doc.version, hash_algorithm, doc._salt, text=False)
    doc.sig_type = sig_type
    if created is not None:
        doc._created = created
    doc.update(data)
    return doc.signature_packet()


# -- stripping -----------------------------------------------------------------------


def test_stripping_the_signature_leaves_a_bad_result() -> None:
    packets = _inline()
    stripped = _join(packets[:2])
    content, results = _verify(stripped)
    assert content == BODY
    assert _statuses(results) == ["bad"]
    assert "missing" in results[0].reason


def test_stripping_all_signature_packets_leaves_nothing_good() -> None:
    packets = _inline()
    content, results = _verify(_join(packets[1:2]))
    assert content == BODY and results == ()


def test_stripping_inside_an_encrypted_message() -> None:
    key = signer("v6")
    sealed = signing.encrypt_signed(
        BODY, [key.public], key, armor=False, policy=DEFAULT
    )
    inner, _ = message.open_parsed(message.ParsedMessage(sealed, DEFAULT), [key])
    packets = _packets(bytes(inner))
    forged = _seal(_join(packets[:2]), key.public)
    _, results = verifying.decrypt_verified(forged, [key], [key.public], policy=DEFAULT)
    assert _statuses(results) == ["bad"]


def _forgeries(key: certs.OpenPGPSecretKey) -> dict[str, bytes]:
    """Rearranged inner packets of a signed message with a body of several
    256-octet chunks."""
    ops, literal, sig = _packets(
        bytes(signing.sign_inline(BODY * 100, key, armor=False))
    )
    compressed = (TAG_COMPRESSED, b"\x02" + zlib.compress(_join([literal])))
    return {
        "stripped": _join([ops, literal]),
        "two literals": _join([ops, literal, literal, sig]),
        "signature first": _join([sig, literal]),
        "marker and padding": _join([(10, b"PGP"), ops, (21, bytes(9)), literal, sig]),
        "trailing packet": _join([ops, literal, sig, (21, bytes(9))]),
        "after the data": _join([literal, ops, sig]),
        "compressed": _join([ops, compressed, sig]),
    }


def _outcome(sealed: bytes, key: certs.OpenPGPSecretKey) -> object:
    try:
        plain, results = verifying.decrypt_verified(
            sealed, [key], [key.public], policy=DEFAULT
        )
    except Error as exc:
        return type(exc).__name__
    return plain, [(r.status, r.reason) for r in results]


def test_hashing_as_it_opens_judges_forgeries_as_hashing_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The literal data is hashed chunk by chunk as large SEIPDv2 bodies open
    # (verifying._EarlyHash); whatever the packets around it, the verdict must
    # be the one of hashing the authenticated packets afterwards.
    key = signer("v6")
    for name, inner in _forgeries(key).items():
        sealed = _seal(inner, key.public, chunk_size_octet=2)
        after = _outcome(sealed, key)
        with monkeypatch.context() as patch:
            patch.setattr(chunked, "PARALLEL_MIN_BYTES", 1)
            assert _outcome(sealed, key) == after, name


# -- signer substitution -------------------------------------------------------------


def test_signer_substitution_by_another_key_is_not_good() -> None:
    mallory = signer("v4")
    forged = signing.sign_inline(BODY, mallory, armor=False)
    _, results = verifying.verify_inline(forged, [signer("v6").public], policy=DEFAULT)
    assert _statuses(results) == ["unknown-signer"]
    assert results[0].fingerprint is None


def test_issuer_rewritten_to_another_certificate_is_bad() -> None:
    alice, mallory = (
        signer("v6"),
        keygen.generate("Mallory <m@example.org>", kind="x25519", profile="rfc9580"),
    )
    packets = _packets(signing.sign_inline(BODY, mallory, armor=False))
    sig = parse_signature(packets[2][1])
    fake_fpr = alice.public.primary.fingerprint
    hashed = sig.hashed_area.replace(mallory.public.primary.fingerprint, fake_fpr)
    forged_sig = SignaturePacket(
        sig.version,
        sig.sig_type,
        sig.pk_algorithm,
        sig.hash_algorithm,
        hashed,
        sig.unhashed_area,
        sig.left16,
        sig.salt,
        sig.material,
    )
    ops = parse_one_pass(packets[0][1])
    forged_ops = serialize_one_pass(
        type(ops)(
            ops.version,
            ops.sig_type,
            ops.hash_algorithm,
            ops.pk_algorithm,
            fake_fpr,
            ops.salt,
            ops.nested,
        )
    )
    forged = _join(
        [(4, forged_ops), packets[1], (TAG_SIGNATURE, serialize_signature(forged_sig))]
    )
    _, results = verifying.verify_inline(forged, [alice.public], policy=DEFAULT)
    assert _statuses(results) == ["bad"]


# -- intended recipient --------------------------------------------------------------


def test_intended_recipient_mismatch_after_re_encryption() -> None:
    alice, mallory = signer("v6"), signer("v4")
    bob = keygen.generate("Bob <bob@example.org>", kind="x25519", profile="rfc9580")
    to_mallory = signing.encrypt_signed(
        BODY, [mallory.public], alice, armor=False, policy=DEFAULT
    )
    inner, _ = message.open_parsed(
        message.ParsedMessage(to_mallory, DEFAULT), [mallory]
    )
    forwarded = _seal(bytes(inner), bob.public)
    plain, results = verifying.decrypt_verified(
        forwarded, [bob], [alice.public], policy=DEFAULT
    )
    assert plain == BODY
    assert _statuses(results) == ["bad"]
    assert "other recipients" in results[0].reason
    # The same message read by its real recipient is good.
    _, results = verifying.decrypt_verified(
        to_mallory, [mallory], [alice.public], policy=DEFAULT
    )
    assert _statuses(results) == ["good"]


# -- signature-type confusion --------------------------------------------------------


@pytest.mark.parametrize(
    "sig_type", [0x10, 0x11, 0x12, 0x13, 0x18, 0x19, 0x1F, 0x20, 0x28, 0x30, 0x02, 0x40]
)
def test_signature_type_confusion(sig_type: int) -> None:
    sig = _crafted("v6", sig_type=sig_type)
    (result,) = verifying.verify_detached(
        BODY, sig, [signer("v6").public], policy=DEFAULT
    )
    assert result.status == "bad"
    assert "not a document signature" in result.reason


def test_real_self_signature_passed_off_as_document_signature() -> None:
    key = signer("v4")
    primary = key.public.primary.packet
    private = key.private_key(key.public.primary.fingerprint)
    data = key_signature_data(primary, user_id=b"Sig Four <four@example.org>")
    cert_sig = make_signature(private, primary, 0x13, data, [], created=1_700_000_000)  # type: ignore[arg-type]
    detached = serialize_packet(TAG_SIGNATURE, serialize_signature(cert_sig))
    (result,) = verifying.verify_detached(data, detached, [key.public], policy=DEFAULT)
    assert result.status == "bad"


def test_text_binary_mismatch_with_one_pass_packet() -> None:
    packets = _inline()
    ops = parse_one_pass(packets[0][1])
    lied = serialize_one_pass(
        type(ops)(
            ops.version,
            1,
            ops.hash_algorithm,
            ops.pk_algorithm,
            ops.issuer,
            ops.salt,
            ops.nested,
        )
    )
    _, results = _verify(_join([(4, lied), *packets[1:]]))
    assert _statuses(results) == ["bad"]
    assert "type" in results[0].reason


def test_binary_signature_does_not_cover_converted_line_endings() -> None:
    sig = signing.sign_detached(b"a\nb\n", signer("v6"), armor=False)
    (result,) = verifying.verify_detached(
        b"a\r\nb\r\n", sig, [signer("v6").public], policy=DEFAULT
    )
    assert result.status == "bad"


@pytest.mark.parametrize("field", ["hash", "issuer", "salt", "pk"])
def test_one_pass_packet_mismatch(field: str) -> None:
    packets = _inline("v6")
    ops = parse_one_pass(packets[0][1])
    values = {
        "hash": (
            ops.version,
            ops.sig_type,
            8,
            ops.pk_algorithm,
            ops.issuer,
            ops.salt[:16],
            1,
        ),
        "issuer": (
            ops.version,
            ops.sig_type,
            ops.hash_algorithm,
            ops.pk_algorithm,
            b"\x55" * 32,
            ops.salt,
            1,
        ),
        "salt": (
            ops.version,
            ops.sig_type,
            ops.hash_algorithm,
            ops.pk_algorithm,
            ops.issuer,
            b"\x01" * 32,
            1,
        ),
        "pk": (
            ops.version,
            ops.sig_type,
            ops.hash_algorithm,
            22,
            ops.issuer,
            ops.salt,
            1,
        ),
    }[field]
    lied = serialize_one_pass(type(ops)(*values))
    _, results = _verify(_join([(4, lied), *packets[1:]]))
    assert _statuses(results) == ["bad"]


# -- content -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["v6", "v4", "rsa"])
def test_altered_content_is_bad(kind: str) -> None:
    packets = _inline(kind)
    altered = serialize_packet(
        TAG_LITERAL, b"b\0\0\0\0\0" + BODY.replace(b"100", b"900")
    )
    content, results = _verify(
        _join([packets[0], (TAG_LITERAL, altered[2:]), packets[2]]), kind
    )
    assert b"900" in content
    assert _statuses(results) == ["bad"]


def test_several_signatures_one_bad_each_reported() -> None:
    six, four = signer("v6"), signer("v4")
    first = signing.DocumentSigner(six)
    second = signing.DocumentSigner(four)
    for doc in (first, second):
        doc.update(BODY)
    sig_four = parse_packets(second.signature_packet())[0].body
    broken = bytearray(sig_four)
    broken[-5] ^= 1
    message_bytes = (
        first.one_pass(last=False)
        + second.one_pass()
        + LITERAL
        + serialize_packet(TAG_SIGNATURE, bytes(broken))
        + first.signature_packet()
    )
    content, results = verifying.verify_inline(
        message_bytes, [six.public, four.public], policy=DEFAULT
    )
    assert content == BODY
    assert sorted(_statuses(results)) == ["bad", "good"]
    good = next(r for r in results if r.good)
    assert good.fingerprint == six.public.fingerprint


# -- keys ----------------------------------------------------------------------------


def test_signature_after_key_expiry_is_expired_key() -> None:
    key = keygen.generate_v6(
        "Old <old@example.org>", kind="x25519", now=1_700_000_000, expires_in=1000
    )
    doc = signing.DocumentSigner(key, now=1_700_000_500)
    doc._created = 1_700_005_000
    doc.update(BODY)
    (result,) = verifying.verify_detached(
        BODY, doc.signature_packet(), [key.public], policy=DEFAULT
    )
    assert result.status == "expired-key"


def test_revoked_signing_key() -> None:
    key = keygen.generate("Rev <rev@example.org>", kind="x25519", profile="rfc9580")
    sig = signing.sign_detached(BODY, key)
    primary = key.public.primary
    revocation = make_signature(
        key.private_key(primary.fingerprint),  # type: ignore[arg-type]
        primary.packet,
        SIG_KEY_REVOCATION,
        key_signature_data(primary.packet),
        [],
        created=primary.packet.created + 1,
    )
    exported = key.public.export(armor=False)
    parts = parse_packets(exported)
    revoked_bytes = (
        serialize_packet(parts[0].tag, parts[0].body)
        + serialize_packet(TAG_SIGNATURE, serialize_signature(revocation))
        + b"".join(serialize_packet(p.tag, p.body) for p in parts[1:])
    )
    revoked = certs.load_certificate(revoked_bytes)
    assert revoked.revoked
    (result,) = verifying.verify_detached(BODY, sig, [revoked], policy=DEFAULT)
    assert result.status == "revoked-key"


# -- hashes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hash_id", "name"), [(1, "MD5"), (2, "SHA1"), (3, "RIPEMD160")]
)
def test_broken_hashes_are_refused(hash_id: int, name: str) -> None:
    sig = _crafted("v4", hash_algorithm=hash_id)
    (result,) = verifying.verify_detached(
        BODY, sig, [signer("v4").public], policy=DEFAULT
    )
    assert result.status == "policy-refused"
    assert not result.good


# -- old and compressed forms --------------------------------------------------------


def _both(data: bytes, kind: str) -> list[tuple[bytes, list[str]]]:
    """The verdicts of the bytes and the stream reader, which must agree."""
    content, results = _verify(data, kind)
    out = io.BytesIO()
    streamed = verifying.verify_inline_stream(
        io.BytesIO(data), out, [signer(kind).public], policy=DEFAULT
    )
    return [(content, _statuses(results)), (out.getvalue(), _statuses(streamed))]


def test_signature_first_form_is_read() -> None:
    sig = signing.sign_detached(BODY, signer("v4"), armor=False)
    assert _both(sig + LITERAL, "v4") == [(BODY, ["good"])] * 2


def test_compressed_signed_message_is_read() -> None:
    inner = signing.sign_inline(BODY, signer("v6"), armor=False)
    packed = serialize_packet(TAG_COMPRESSED, b"\x02" + zlib.compress(inner))
    assert _both(packed, "v6") == [(BODY, ["good"])] * 2


def test_stream_reader_reports_stripping_too() -> None:
    stripped = _join(_inline()[:2])
    assert _both(stripped, "v6") == [(BODY, ["bad"])] * 2


# -- a signing subkey without its back-signature -----------------------------------


def _cert_with_signing_subkey(
    back_signature: bool,
) -> tuple[certs.OpenPGPCertificate, certs.OpenPGPSecretKey, ed25519.Ed25519PrivateKey]:
    """Our v6 key plus an Ed25519 signing subkey bound by the primary, with or
    without the embedded primary key binding signature (0x19) RFC 9580 §5.2.1.9
    requires."""
    key = keygen.generate("Sub <sub@example.org>", kind="x25519", profile="rfc9580")
    primary = key.public.primary
    private = key.private_key(primary.fingerprint)
    sub_private = ed25519.Ed25519PrivateKey.generate()
    sub = PublicKeyPacket(
        6, primary.packet.created, PK_ED25519, public_material(sub_private)
    )
    data = key_signature_data(primary.packet, subkey=sub)
    subpackets = [Subpacket(SP_KEY_FLAGS, b"\x02", critical=True)]
    if back_signature:
        back = make_signature(
            sub_private, sub, SIG_PRIMARY_BINDING, data, [], created=sub.created
        )
        subpackets.append(Subpacket(SP_EMBEDDED_SIGNATURE, serialize_signature(back)))
    binding = make_signature(
        private,  # type: ignore[arg-type]
        primary.packet,
        SIG_SUBKEY_BINDING,
        data,
        subpackets,
        created=sub.created,
    )
    extra = serialize_packet(
        TAG_PUBLIC_SUBKEY, serialize_public_key(sub)
    ) + serialize_packet(TAG_SIGNATURE, serialize_signature(binding))
    cert = certs.load_certificate(key.public.export(armor=False) + extra)
    return cert, key, sub_private


def _signed_by_subkey(
    cert: certs.OpenPGPCertificate, key: certs.OpenPGPSecretKey, sub_private: object
) -> bytes:
    doc = signing.DocumentSigner(key)
    (info,) = [k for k in cert.subkeys if k.packet.algorithm == PK_ED25519]
    doc._info = info
    doc._private = sub_private
    doc.update(BODY)
    return doc.signature_packet()


@pytest.mark.parametrize("back_signature", [True, False])
def test_signing_subkey_needs_its_back_signature(back_signature: bool) -> None:
    cert, key, sub_private = _cert_with_signing_subkey(back_signature)
    sig = _signed_by_subkey(cert, key, sub_private)
    (result,) = verifying.verify_detached(BODY, sig, [cert], policy=DEFAULT)
    if back_signature:
        assert result.good
    else:
        assert result.status == "bad"
        assert "back-signature" in result.reason


@pytest.mark.parametrize("back_signature", [True, False])
def test_signing_key_choice_checks_the_back_signature(back_signature: bool) -> None:
    cert, _, sub_private = _cert_with_signing_subkey(back_signature)
    (info,) = [k for k in cert.subkeys if k.packet.algorithm == PK_ED25519]
    only_subkey = certs.OpenPGPSecretKey(cert, {info.fingerprint: sub_private}, [])
    if back_signature:
        chosen, _ = signing.signing_key(only_subkey)
        assert chosen.fingerprint == info.fingerprint
    else:
        with pytest.raises(UnsupportedError):
            signing.signing_key(only_subkey)
