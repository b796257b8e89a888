"""mime/wire.py: the fast paths give exactly what the ``email`` generator and parser
give."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail.mime import wire


def _simple(body: str = "line one\nline two\n") -> EmailMessage:
    msg = EmailMessage(policy=policy.default)
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "Bob <bob@example.org>"
    msg["Subject"] = "A subject long enough " * 5
    msg.set_content(body)
    return msg


def _shapes() -> list[EmailMessage]:
    utf8 = _simple("Grüße aus Köln\r\nzweite Zeile\r")
    qp = EmailMessage(policy=policy.default)
    qp.set_content("é" * 200 + "\n", cte="quoted-printable")
    mixed = _simple()
    mixed.add_attachment(
        bytes(range(256)) * 50,
        maintype="application",
        subtype="octet-stream",
        filename="blob.bin",
    )
    mixed.add_attachment("a text attachment\n", filename="note.txt")
    mixed.preamble = "This is a MIME message.\n"
    mixed.epilogue = "epilogue\n"
    alternative = _simple()
    alternative.add_alternative("<p>html</p>\n", subtype="html")
    nested = _simple()
    nested.add_attachment(_simple("inner message\n"))  # message/rfc822: generator
    empty = EmailMessage(policy=policy.default)
    empty["Subject"] = "no body"
    return [_simple(), utf8, qp, mixed, alternative, nested, empty]


@pytest.mark.parametrize("index", range(7))
def test_to_bytes_equals_the_generator(index: int) -> None:
    msg = _shapes()[index]
    assert wire.to_bytes(msg) == msg.as_bytes(policy=policy.SMTP)


@given(st.text(alphabet=st.sampled_from("ab \r\n\t.é"), max_size=200))
def test_to_bytes_equals_the_generator_for_any_text(text: str) -> None:
    msg = _simple(text + "\n")
    assert wire.to_bytes(msg) == msg.as_bytes(policy=policy.SMTP)


def _structure(msg: object) -> list[object]:
    out: list[object] = []
    for part in msg.walk():  # type: ignore[attr-defined]
        out.append(
            (
                list(part.items()),
                part.get_content_type(),
                part.preamble,
                part.epilogue,
                None if part.is_multipart() else part.get_payload(),
                # Before the defects: decoding records its own (a held base64 body
                # decodes from its bytes, mime/bodybytes.py, and must agree).
                None if part.is_multipart() else part.get_payload(decode=True),
                [type(d).__name__ for d in part.defects],
            )
        )
    return out


def _assert_same_parse(data: bytes) -> None:
    slow = BytesParser(policy=policy.default).parsebytes(data)
    expected = slow.as_bytes(policy=policy.SMTP)
    # keep_raw: bodies held as bytes until read (mime/bodybytes.py) read the same.
    for keep_raw in (False, True):
        fast = wire.from_bytes(data, keep_raw=keep_raw)
        assert fast.as_bytes(policy=policy.SMTP) == expected
        assert _structure(fast) == _structure(slow)


@pytest.mark.parametrize("index", range(7))
@pytest.mark.parametrize("linesep", ["\r\n", "\n"])
def test_from_bytes_equals_the_parser(index: int, linesep: str) -> None:
    msg = _shapes()[index]
    _assert_same_parse(msg.as_bytes(policy=policy.SMTP.clone(linesep=linesep)))


RAW_CASES = [
    b"Subject: x\nContent-Type: text/plain\n\nbody\nmore\n",
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--bX\r\n"
    b"--b  \t\r\nContent-Type: text/html\r\n\r\n<p>\r\n--b--",
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n\r\n--b\r\n\r\nx\r\n"
    b"--b--\r\n\r\nepi\r\n",
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nno close\r\n",
    b"Content-Type: multipart/mixed\r\n\r\n--b\r\n\r\nno boundary\r\n--b--\r\n",
    b"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/"
    b"alternative; boundary=i\r\n\r\n--i\r\n\r\na\r\n--i--\r\nie\r\n--o--\r\n",
    b"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/"
    b"alternative; boundary=i\r\n\r\n--i\r\n\r\na\r\n--i--\r\n--o--",
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
    b"Content-Type: text/plain\r\n\r\n\r\n--b--\r\n",
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\rheaderless\r--b--",
    b"no header block at all",
    b"Subject: headers only",
]


@pytest.mark.parametrize("data", RAW_CASES)
def test_from_bytes_equals_the_parser_on_raw_input(data: bytes) -> None:
    _assert_same_parse(data)


@given(
    texts=st.lists(
        st.text(alphabet=st.sampled_from("ab-\r\n \t"), max_size=30),
        min_size=1,
        max_size=4,
    ),
    preamble=st.none() | st.text(alphabet=st.sampled_from("p\r\n"), max_size=6),
    epilogue=st.none() | st.text(alphabet=st.sampled_from("e\r\n"), max_size=6),
)
def test_from_bytes_equals_the_parser_on_random_multiparts(
    texts: list[str], preamble: str | None, epilogue: str | None
) -> None:
    msg = _simple()
    for text in texts:
        msg.add_attachment(text, filename="t.txt")
    msg.preamble = preamble
    msg.epilogue = epilogue
    _assert_same_parse(msg.as_bytes(policy=policy.SMTP))


@given(st.binary(max_size=300))
def test_from_bytes_equals_the_parser_on_random_bytes(data: bytes) -> None:
    prefix = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
    _assert_same_parse(prefix + data)


@given(
    st.sampled_from(
        [
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n",
            b"Content-Type: multipart/mixed; boundary=b\n\n--b\n",
            b"Content-Type: text/plain\r\n\r\n",
            b"",
        ]
    ),
    st.lists(
        st.sampled_from(
            [
                b"--b",
                b"--b--",
                b"\r\n",
                b"\n",
                b"\r",
                b"x",
                b" ",
                b":",
                b"A: b",
                b"Content-Type: multipart/alternative; boundary=c\r\n\r\n",
                b"--c",
                b"--c--",
                b"Content-Type: message/rfc822\r\n\r\n",
                b"\r\n\r\n--b\r\n",
            ]
        ),
        max_size=25,
    ),
)
def test_from_bytes_equals_the_parser_on_boundary_soup(
    prefix: bytes, pieces: list[bytes]
) -> None:
    _assert_same_parse(prefix + b"".join(pieces))


def test_raw_body_is_the_payload_bytes_until_replaced() -> None:
    data = (
        b"Content-Type: multipart/encrypted; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: application/octet-stream\r\n\r\nline one\r\nline\xff two\r\n"
        b"--b--\r\n"
    )
    msg = wire.from_bytes(data, keep_raw=True)
    part = msg.get_payload(0)
    raw = wire.raw_body(part)
    assert raw is not None
    assert bytes(raw) == part._payload.encode("ascii", "surrogateescape")
    part.set_payload("new\r\n")
    assert wire.raw_body(part) is None
    assert wire.raw_body(wire.from_bytes(data).get_payload(0)) is None


def test_messages_parsed_with_raw_bodies_stay_copyable() -> None:
    import copy
    import pickle

    data = b"Content-Type: text/plain\r\n\r\nbody\r\n"
    msg = wire.from_bytes(data, keep_raw=True)
    for clone in (copy.deepcopy(msg), pickle.loads(pickle.dumps(msg))):
        raw = wire.raw_body(clone)
        assert raw is not None and bytes(raw) == b"body\r\n"


@pytest.mark.parametrize(
    "body",
    [
        "x" * 75 + "\n",  # the slices of a large LF body
        "x" * 75 + "\r\n",  # CR in it: converted whole
        "é" * 75 + "\n",  # not ASCII: converted whole
    ],
)
def test_large_bodies_convert_as_the_generator_does(body: str) -> None:
    msg = _simple(body * 15000)  # over 1 MiB: the sliced path
    expected = msg.as_bytes(policy=policy.SMTP)
    assert wire.to_bytes(msg) == expected
    assert b"".join(wire.to_pieces(msg)) == expected


def test_large_attachment_pieces_are_the_generator_bytes() -> None:
    msg = _simple()
    msg.add_attachment(
        bytes(range(256)) * 8192,
        maintype="application",
        subtype="octet-stream",
        filename="big.bin",
    )
    msg.set_boundary("=-b1")  # else the generator picks one when writing
    pieces = wire.to_pieces(msg)
    assert len(pieces) > 2 and max(map(len, pieces)) < 2 << 20
    assert b"".join(pieces) == msg.as_bytes(policy=policy.SMTP)


@pytest.mark.parametrize("dashes", [3, 70, 200])
def test_delimiters_are_found_past_dashes(dashes: int) -> None:
    """Bodies with many "-" (text, an armor) before the delimiter: the "-" probe
    gives way to the substring search and finds the same parts."""
    armor = "-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----\n"
    msg = _simple("-\n" * dashes + "--=not the boundary\n")
    msg.add_attachment(armor, filename="a.asc")
    msg.add_attachment("- -- --- ----\n" * dashes, filename="b.txt")
    for linesep in ("\r\n", "\n"):
        _assert_same_parse(msg.as_bytes(policy=policy.default.clone(linesep=linesep)))
