"""Finding encrypted blobs in stored mail, byte-exactly, without any key."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.mime import scan as mailscan

# A syntactically plausible CMS AuthEnvelopedData prefix (the OID is what counts).
CMS_BLOB = bytes.fromhex("30820113060b2a864886f70d0109100117a0820104") + bytes(200)
PGP_BINARY = b"\xc1\x0e\x06" + bytes(60)
ARMOR = (
    b"-----BEGIN PGP MESSAGE-----\r\n\r\nwV4DAAAAAAAAAAASAQdA\r\nAAAA\r\n=AAAA\r\n"
    b"-----END PGP MESSAGE-----"
)


def _b64(blob: bytes, width: int = 76, eol: bytes = b"\r\n") -> bytes:
    text = base64.b64encode(blob)
    return eol.join(text[i : i + width] for i in range(0, len(text), width))


def smime(blob: bytes = CMS_BLOB, eol: bytes = b"\r\n") -> bytes:
    head = eol.join(
        [
            b"From: alice@example.org",
            b"Subject: ...",
            b"MIME-Version: 1.0",
            b"Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data;",
            b' name="smime.p7m"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b"",
        ]
    )
    return head + _b64(blob, eol=eol) + eol


def pgpmime(armor: bytes = ARMOR) -> bytes:
    return (
        b"From: alice@example.org\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\r\n'
        b' boundary="b1"\r\n\r\nThis is an OpenPGP/MIME encrypted message\r\n'
        b"--b1\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n"
        b"--b1\r\nContent-Type: application/octet-stream; name=encrypted.asc\r\n\r\n"
        + armor
        + b"\r\n\r\n--b1--\r\n"
    )


def mixed_with_attachments() -> bytes:
    return (
        b"From: bob@example.org\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="==x=="\n\n'
        b"--==x==\nContent-Type: text/plain\n\nsee attached\n"
        b"--==x==\nContent-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="report.pdf.p7m"\n'
        b"Content-Transfer-Encoding: base64\n\n" + _b64(CMS_BLOB, 64, b"\n") + b"\n"
        b"--==x==\nContent-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="notes.gpg"\n'
        b"Content-Transfer-Encoding: base64\n\n" + _b64(PGP_BINARY, 76, b"\n") + b"\n"
        b"--==x==\nContent-Type: image/jpeg; name=cat.jpg\n"
        b"Content-Transfer-Encoding: base64\n\n" + _b64(b"\xff\xd8" + bytes(90)) + b"\n"
        b"--==x==--\n"
    )


def test_smime_body_is_found_with_its_encoding() -> None:
    msg = smime()
    (part,) = mailscan.find_encrypted(msg)
    assert (part.kind, part.transfer, part.eol, part.line_length) == (
        "cms",
        "base64",
        b"\r\n",
        76,
    )
    assert part.where == "S/MIME body"
    assert mailscan.extract(msg, part) == CMS_BLOB


def test_pgpmime_body_is_the_armor_block_only() -> None:
    msg = pgpmime()
    (part,) = mailscan.find_encrypted(msg)
    assert (part.kind, part.transfer, part.where) == ("openpgp", "raw", "PGP/MIME body")
    assert msg[part.start : part.end] == ARMOR


def test_attachments_are_found_and_other_parts_ignored() -> None:
    msg = mixed_with_attachments()
    parts = mailscan.find_encrypted(msg)
    assert [(p.kind, p.where) for p in parts] == [
        ("cms", "attachment 'report.pdf.p7m'"),
        ("openpgp", "attachment 'notes.gpg'"),
    ]
    assert mailscan.extract(msg, parts[0]) == CMS_BLOB
    assert mailscan.extract(msg, parts[1]) == PGP_BINARY
    assert parts[0].line_length == 64 and parts[0].eol == b"\n"


def test_inline_pgp_in_a_text_body_is_found() -> None:
    msg = b"From: a@b.example\r\nSubject: hi\r\n\r\nHello,\r\n" + ARMOR + b"\r\nbye\r\n"
    (part,) = mailscan.find_encrypted(msg)
    assert msg[part.start : part.end] == ARMOR
    assert part.where == "inline PGP message"


@pytest.mark.parametrize(
    "msg",
    [
        b"From: a@b.example\r\nSubject: plain\r\n\r\nnothing secret\r\n",
        b"From: a@b.example\r\nContent-Type: application/pkcs7-mime; "
        b"smime-type=signed-data\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _b64(b"\x30\x03\x02\x01\x00")
        + b"\r\n",
        b"no headers at all",
    ],
)
def test_unencrypted_messages_have_no_parts(msg: bytes) -> None:
    assert mailscan.find_encrypted(msg) == ()


def test_encrypted_part_under_quoted_printable_is_reported() -> None:
    msg = (
        b"From: a@b.example\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        + ARMOR
        + b"\r\n"
    )
    with pytest.raises(e2ee_mail.UnsupportedError):
        mailscan.find_encrypted(msg)


def test_splice_keeps_every_other_byte() -> None:
    msg = mixed_with_attachments()
    parts = mailscan.find_encrypted(msg)
    new_blob = CMS_BLOB[:-3] + b"new"
    out = mailscan.splice(msg, [(parts[0], mailscan.encode(parts[0], new_blob))])
    assert out[: parts[0].start] == msg[: parts[0].start]
    assert out.endswith(msg[parts[0].end :])
    again = mailscan.find_encrypted(out)
    assert mailscan.extract(out, again[0]) == new_blob
    assert mailscan.extract(out, again[1]) == PGP_BINARY


def test_encode_reproduces_line_length_and_endings() -> None:
    msg = smime(eol=b"\r\n")
    (part,) = mailscan.find_encrypted(msg)
    assert mailscan.encode(part, CMS_BLOB) == msg[part.start : part.end]


def test_encode_armor_uses_the_original_line_ending() -> None:
    msg = pgpmime()
    (part,) = mailscan.find_encrypted(msg)
    text = mailscan.encode(
        part, b"-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----\n"
    )
    assert (
        text == b"-----BEGIN PGP MESSAGE-----\r\n\r\nAAAA\r\n-----END PGP MESSAGE-----"
    )


def test_deep_nesting_is_refused() -> None:
    depth = mailscan.MAX_DEPTH + 2
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    with pytest.raises(e2ee_mail.MIMEError):
        mailscan.find_encrypted(head + b"\r\nx\r\n")


def test_multipart_without_boundary_is_refused() -> None:
    msg = b"Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nbody\r\n--x--\r\n"
    with pytest.raises(e2ee_mail.MIMEError):
        mailscan.find_encrypted(msg)


@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_raise_anything_but_error(data: bytes) -> None:
    with contextlib.suppress(e2ee_mail.Error):
        mailscan.find_encrypted(data)


@given(st.binary(max_size=400), st.integers(min_value=0, max_value=2000))
def test_mutated_smime_never_raises_anything_but_error(junk: bytes, at: int) -> None:
    msg = smime()
    pos = at % len(msg)
    with contextlib.suppress(e2ee_mail.Error):
        mailscan.find_encrypted(msg[:pos] + junk + msg[pos + len(junk) :])


@given(
    st.binary(min_size=1, max_size=700),
    st.binary(min_size=1, max_size=700),
    st.sampled_from([b"\r\n", b"\n"]),
    st.integers(min_value=4, max_value=120),
)
def test_splicing_a_new_blob_round_trips_and_keeps_the_rest(
    old_tail: bytes, new_tail: bytes, eol: bytes, width: int
) -> None:
    old_blob, new_blob = CMS_BLOB + old_tail, CMS_BLOB + new_tail
    text = base64.b64encode(old_blob)
    body = eol.join(text[i : i + width] for i in range(0, len(text), width))
    msg = (
        b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data"
        + eol
        + b"Content-Transfer-Encoding: base64"
        + eol * 2
        + body
        + eol
    )
    (part,) = mailscan.find_encrypted(msg)
    assert mailscan.extract(msg, part) == old_blob
    out = mailscan.splice(msg, [(part, mailscan.encode(part, new_blob))])
    (again,) = mailscan.find_encrypted(out)
    assert mailscan.extract(out, again) == new_blob
    assert out[: part.start] == msg[: part.start]
    assert out[again.end :] == msg[part.end :]
    if len(text) > width:
        assert out[again.start :].split(eol, 1)[0] == text[:width]


@given(
    st.binary(max_size=600),
    st.sampled_from([4, 64, 72, 76, 30]),
    st.sampled_from([b"\n", b"\r\n"]),
)
def test_encode_matches_the_line_split_of_the_base64(
    blob: bytes, width: int, eol: bytes
) -> None:
    part = mailscan.EncryptedPart("cms", 0, 0, "base64", eol, width, "body")
    assert mailscan.encode(part, blob) == _b64(blob, width, eol)


def test_only_the_content_fields_are_read_and_folding_is_kept() -> None:
    msg = (
        b"Received: from a\r\n  content-type: text/plain\r\n"
        b"X-Note: content-type: text/plain\r\n"
        b"CONTENT-TYPE: application/pkcs7-mime;\r\n"
        b"\tsmime-type=enveloped-data\r\n"
        b"X-After: folded\r\n smime-type=signed-data\r\n"
        b"Content-Type: text/plain\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + _b64(CMS_BLOB)
    )
    (part,) = mailscan.find_encrypted(msg)
    assert (part.kind, part.transfer) == ("cms", "base64")
    assert mailscan.extract(msg, part) == CMS_BLOB
