"""Mistakes a new user makes with the public API: each one ends in an
``e2ee_mail.Error`` (a UsageError for a wrong argument) that says what to pass
instead, never in an exception from the code underneath (AttributeError, TypeError,
a ValueError from ``cryptography``).

Each probe is one call with one mistake in it; the table names the error class and,
where the message has to point somewhere, a fragment of it.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

import e2ee_mail
from e2ee_mail.openpgp import certs
from e2ee_mail.x509 import certs as x509_certs

BODY = b"The body.\n"
U = e2ee_mail.UsageError


@dataclasses.dataclass(frozen=True)
class Ctx:
    """What the probes work with: keys of both formats, messages, file paths."""

    pgp: e2ee_mail.SecretKey
    x509: e2ee_mail.SecretKey
    blob: bytes  # OpenPGP, to pgp
    cms: bytes  # CMS, to x509
    mail: EmailMessage
    smail: bytes  # S/MIME, to x509
    tmp: Path

    @property
    def certs(self) -> list[e2ee_mail.Certificate]:
        return [self.pgp.public]

    @property
    def x509s(self) -> list[e2ee_mail.Certificate]:
        return [self.x509.public]

    @property
    def pub_bytes(self) -> bytes:
        return self.pgp.public.export()

    @property
    def key_bytes(self) -> bytes:
        return self.pgp.export()

    def text_out(self) -> io.TextIOWrapper:
        """What sys.stdout is: a text layer over a binary buffer."""
        return io.TextIOWrapper(io.BytesIO(), encoding="utf-8")


@pytest.fixture(scope="module")
def ctx(
    alice: certs.OpenPGPSecretKey,
    xkey: x509_certs.X509SecretKey,
    tmp_path_factory: pytest.TempPathFactory,
) -> Ctx:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "a@example.org", "b@example.org", "Hi"
    mail.set_content("Hello.\n")
    sealed = e2ee_mail.encrypt_message(mail, [xkey.public], format="smime")
    tmp = tmp_path_factory.mktemp("mistakes")
    (tmp / "file.bin").write_bytes(b"x")
    return Ctx(
        pgp=alice,
        x509=xkey,
        blob=bytes(e2ee_mail.encrypt(BODY, [alice.public], format="openpgp")),
        cms=bytes(e2ee_mail.encrypt(BODY, [xkey.public], format="cms")),
        mail=mail,
        smail=sealed.as_bytes(),
        tmp=tmp,
    )


Probe = Callable[["Ctx"], object]


def _closed() -> io.BytesIO:
    stream = io.BytesIO(b"x")
    stream.close()
    return stream


def _in_file(c: Ctx, mode: str, call: Callable[[Any], object]) -> object:
    """``call`` with a file of ``c.tmp`` opened in ``mode``, closed afterwards."""
    with open(c.tmp / "file.bin", mode) as fh:
        return call(fh)


def P(name: str, call: Probe, error: type[e2ee_mail.Error] = U, says: str = "") -> Any:
    return pytest.param(call, error, says, id=name)


enc, dec = e2ee_mail.encrypt, e2ee_mail.decrypt
enc_s, dec_s = e2ee_mail.encrypt_stream, e2ee_mail.decrypt_stream
enc_m, dec_m = e2ee_mail.encrypt_message, e2ee_mail.decrypt_message
gen, insp = e2ee_mail.generate_key, e2ee_mail.inspect
load_c, load_k = e2ee_mail.load_certificate, e2ee_mail.load_key
B = io.BytesIO
FormatE, MIMEE, LoadE = (
    e2ee_mail.FormatError,
    e2ee_mail.MIMEError,
    e2ee_mail.KeyLoadError,
)

# One row per mistake: P(id, call, expected error, a fragment of its message).
PROBES = [
    # encrypt: the body
    P("encrypt-str", lambda c: enc("text", c.certs), U, "encode"),
    P("encrypt-path", lambda c: enc(Path("f"), c.certs), U, "read_bytes"),
    P("encrypt-stream", lambda c: enc(B(), c.certs), U, "encrypt_stream"),
    P("encrypt-mail", lambda c: enc(c.mail, c.certs), U, "encrypt_message"),
    P("encrypt-none-body", lambda c: enc(None, c.certs), U, "bytes"),
    P("encrypt-int-body", lambda c: enc(42, c.certs), U, "bytes"),
    # encrypt: the recipients
    P("encrypt-none", lambda c: enc(BODY, None), U, "load_certificate"),
    P("encrypt-empty", lambda c: enc(BODY, []), U, "at least one"),
    P("encrypt-path-str", lambda c: enc(BODY, "alice.pub"), U, "load_certificate"),
    P("encrypt-path-obj", lambda c: enc(BODY, Path("a.pub")), U, "load_certificate"),
    P("encrypt-paths", lambda c: enc(BODY, ["alice.pub"]), U, "load_certificate"),
    P("encrypt-cert-bytes", lambda c: enc(BODY, [c.pub_bytes]), U, "load_certificate"),
    P("encrypt-secret-key", lambda c: enc(BODY, c.pgp), U, "key.public"),
    P("encrypt-secret-keys", lambda c: enc(BODY, [c.pgp]), U, "key.public"),
    P("encrypt-int", lambda c: enc(BODY, 42), U, "Certificate"),
    P("encrypt-none-inside", lambda c: enc(BODY, [None]), U, "Certificate"),
    P("encrypt-dict", lambda c: enc(BODY, {"alice": c.pgp.public}), U, "Certificate"),
    # encrypt: the options
    P(
        "encrypt-mail-format",
        lambda c: enc(BODY, c.certs, format="smime"),
        U,
        "message",
    ),
    P("encrypt-unknown-format", lambda c: enc(BODY, c.certs, format="pgp"), U, "cms"),
    P("encrypt-format-case", lambda c: enc(BODY, c.certs, format="CMS"), U, "cms"),
    P("encrypt-mixed", lambda c: enc(BODY, [c.pgp.public, c.x509.public]), U, "mix"),
    P("encrypt-x509-as-pgp", lambda c: enc(BODY, c.x509.public, format="openpgp")),
    P("encrypt-pgp-as-cms", lambda c: enc(BODY, c.pgp.public, format="cms")),
    P("encrypt-armor-str", lambda c: enc(BODY, c.certs, armor="yes"), U, "armor"),
    P(
        "encrypt-cipher",
        lambda c: enc(BODY, c.certs, cipher="aes128"),
        U,
        "aes-256-gcm",
    ),
    P("encrypt-cbc-pgp", lambda c: enc(BODY, c.certs, cipher="aes-256-cbc"), U, "cms"),
    P(
        "encrypt-policy-str",
        lambda c: enc(BODY, c.certs, policy="rfc4880"),
        U,
        "RFC4880",
    ),
    P("encrypt-policy-none", lambda c: enc(BODY, c.certs, policy=None), U, "Policy"),
    # decrypt
    P("decrypt-key-path-str", lambda c: dec(c.blob, "dave.key"), U, "load_key"),
    P("decrypt-key-path-obj", lambda c: dec(c.blob, Path("dave.key")), U, "load_key"),
    P("decrypt-key-paths", lambda c: dec(c.blob, ["dave.key"]), U, "load_key"),
    P("decrypt-key-bytes", lambda c: dec(c.blob, c.key_bytes), U, "load_key"),
    P("decrypt-none", lambda c: dec(c.blob, None), U, "load_key"),
    P("decrypt-empty", lambda c: dec(c.blob, []), U, "at least one"),
    P("decrypt-certificate", lambda c: dec(c.blob, c.pgp.public), U, "secret key"),
    P("decrypt-certificates", lambda c: dec(c.blob, [c.pgp.public]), U, "secret key"),
    P("decrypt-one-bad-key", lambda c: dec(c.blob, [c.pgp, "x"]), U, "load_key"),
    P("decrypt-int", lambda c: dec(c.blob, 7), U, "SecretKey"),
    P("decrypt-str", lambda c: dec(c.blob.decode("latin-1"), c.pgp), U, "bytes"),
    P("decrypt-none-body", lambda c: dec(None, c.pgp), U, "bytes"),
    P("decrypt-stream", lambda c: dec(B(c.blob), c.pgp), U, "decrypt_stream"),
    P("decrypt-mail-object", lambda c: dec(c.mail, c.pgp), U, "decrypt_message"),
    P("decrypt-mail-bytes", lambda c: dec(c.smail, c.x509), FormatE, "decrypt_message"),
    P("decrypt-flag", lambda c: dec(c.cms, c.x509, allow_unauthenticated="y")),
    P(
        "decrypt-policy-str",
        lambda c: dec(c.cms, c.x509, policy="default"),
        U,
        "Policy",
    ),
    P("decrypt-empty-body", lambda c: dec(b"", c.pgp), FormatE),
    P("decrypt-garbage", lambda c: dec(b"hello", c.pgp), FormatE),
    P("decrypt-wrong-key", lambda c: dec(c.cms, c.pgp), e2ee_mail.NoMatchingKeyError),
    # encrypt_stream: the classic one is sys.stdout for sys.stdout.buffer
    P("es-text-dst", lambda c: enc_s(B(), io.StringIO(), c.certs), U, "stdout.buffer"),
    P(
        "es-wrapped-dst",
        lambda c: enc_s(B(), c.text_out(), c.certs),
        U,
        "stdout.buffer",
    ),
    P(
        "es-text-src",
        lambda c: enc_s(io.StringIO("x"), B(), c.certs),
        U,
        "stdin.buffer",
    ),
    P("es-bytes-src", lambda c: enc_s(BODY, B(), c.certs), U, "io.BytesIO"),
    P(
        "es-bytearray-dst",
        lambda c: enc_s(B(), bytearray(), c.certs),
        U,
        "io.BytesIO()",
    ),
    P("es-path-src", lambda c: enc_s("in.txt", B(), c.certs), U, '"rb"'),
    P("es-path-dst", lambda c: enc_s(B(), Path("out"), c.certs), U, '"wb"'),
    P("es-none-src", lambda c: enc_s(None, B(), c.certs), U, "src"),
    P("es-closed-src", lambda c: enc_s(_closed(), B(), c.certs), U, "closed"),
    P("es-closed-dst", lambda c: enc_s(B(), _closed(), c.certs), U, "closed"),
    P("es-unreadable", lambda c: _in_file(c, "wb", lambda f: enc_s(f, B(), c.certs))),
    P("es-unwritable", lambda c: _in_file(c, "rb", lambda f: enc_s(B(), f, c.certs))),
    P("es-none", lambda c: enc_s(B(), B(), None), U, "load_certificate"),
    P("es-secret-key", lambda c: enc_s(B(), B(), c.pgp), U, "key.public"),
    P("es-format", lambda c: enc_s(B(), B(), c.certs, format="pgp"), U, "openpgp"),
    P("es-mismatch", lambda c: enc_s(B(), B(), c.certs, format="smime"), U, "leave"),
    P("es-armor", lambda c: enc_s(B(), B(), c.certs, armor=1), U, "armor"),
    # decrypt_stream
    P("ds-bytes-src", lambda c: dec_s(c.blob, B(), c.pgp), U, "io.BytesIO"),
    P(
        "ds-text-dst",
        lambda c: dec_s(B(c.blob), io.StringIO(), c.pgp),
        U,
        "stdout.buffer",
    ),
    P("ds-text-src", lambda c: dec_s(io.StringIO("x"), B(), c.pgp), U, "stdin.buffer"),
    P("ds-key-path", lambda c: dec_s(B(c.blob), B(), "dave.key"), U, "load_key"),
    P("ds-certificate", lambda c: dec_s(B(c.blob), B(), c.pgp.public), U, "secret key"),
    P("ds-none", lambda c: dec_s(B(c.blob), B(), None), U, "load_key"),
    P("ds-garbage", lambda c: dec_s(B(b"hello"), B(), c.pgp), FormatE),
    # encrypt_message
    P("em-bytes", lambda c: enc_m(c.mail.as_bytes(), c.x509s), U, "message_from_bytes"),
    P("em-str", lambda c: enc_m(c.mail.as_string(), c.x509s), U, "message_from_bytes"),
    P("em-none", lambda c: enc_m(None, c.x509s), U, "EmailMessage"),
    P("em-secret-key", lambda c: enc_m(c.mail, c.x509), U, "key.public"),
    P("em-secret-keys", lambda c: enc_m(c.mail, [c.x509]), U, "key.public"),
    P("em-no-recipients", lambda c: enc_m(c.mail, None), U, "load_certificate"),
    P("em-path", lambda c: enc_m(c.mail, "alice.pub"), U, "load_certificate"),
    P("em-body-format", lambda c: enc_m(c.mail, c.x509s, format="cms"), U, "smime"),
    P(
        "em-unknown-format",
        lambda c: enc_m(c.mail, c.x509s, format="s/mime"),
        U,
        "smime",
    ),
    P("em-mismatch", lambda c: enc_m(c.mail, c.x509s, format="pgpmime"), U, "leave"),
    P("em-mixed", lambda c: enc_m(c.mail, [*c.x509s, *c.certs]), U, "mix"),
    P(
        "em-cbc-pgpmime",
        lambda c: enc_m(c.mail, c.certs, cipher="aes-256-cbc"),
        U,
        "smime",
    ),
    P("em-policy", lambda c: enc_m(c.mail, c.certs, policy={}), U, "Policy"),
    # decrypt_message
    P("dm-str", lambda c: dec_m(c.smail.decode(), c.x509), U, "bytes"),
    P("dm-path", lambda c: dec_m(Path("mail.eml"), c.x509), U, "read_bytes"),
    P("dm-none", lambda c: dec_m(None, c.x509), U, "bytes"),
    P("dm-key-path", lambda c: dec_m(c.smail, "dave.key"), U, "load_key"),
    P("dm-certificate", lambda c: dec_m(c.smail, c.x509.public), U, "secret key"),
    P("dm-plain-mail", lambda c: dec_m(c.mail, c.x509), MIMEE, "not an encrypted mail"),
    P("dm-not-mail", lambda c: dec_m(b"hello", c.x509), MIMEE),
    # rewrap
    P(
        "rewrap-key-path",
        lambda c: e2ee_mail.rewrap(c.blob, "old.key", c.certs),
        U,
        "load_key",
    ),
    P(
        "rewrap-key-recipient",
        lambda c: e2ee_mail.rewrap(c.blob, c.pgp, c.pgp),
        U,
        "key.public",
    ),
    P(
        "rewrap-no-recipients",
        lambda c: e2ee_mail.rewrap(c.blob, c.pgp, None),
        U,
        "load_cert",
    ),
    P("rewrap-str", lambda c: e2ee_mail.rewrap("text", c.pgp, c.certs), U, "bytes"),
    P(
        "rewrap-policy",
        lambda c: e2ee_mail.rewrap(c.blob, c.pgp, c.certs, policy=1),
        U,
        "Policy",
    ),
    P(
        "rewrap-mail",
        lambda c: e2ee_mail.rewrap(c.smail, c.x509, c.x509s),
        FormatE,
        "MIME",
    ),
    # inspect
    P("inspect-str", lambda c: insp("text"), U, "bytes"),
    P("inspect-none", lambda c: insp(None), U, "bytes"),
    P("inspect-path", lambda c: insp(Path("m.pgp")), U, "read_bytes"),
    P("inspect-stream", lambda c: insp(B(c.blob)), U, "read()"),
    P("inspect-garbage", lambda c: insp(b"%PDF-1.7\n"), FormatE),
    # loading
    P("load-cert-none", lambda c: load_c(None), U, "bytes or a path"),
    P("load-cert-int", lambda c: load_c(3), U, "bytes or a path"),
    P("load-cert-cert", lambda c: load_c(c.pgp.public), U, "loaded already"),
    P("load-cert-key", lambda c: load_c(c.pgp), U, "key.public"),
    P(
        "load-cert-missing",
        lambda c: load_c(c.tmp / "missing.pub"),
        LoadE,
        "missing.pub",
    ),
    P("load-cert-directory", lambda c: load_c(c.tmp), LoadE),
    P("load-cert-garbage", lambda c: load_c(b"garbage"), e2ee_mail.Error),
    P("load-key-none", lambda c: load_k(None), U, "bytes or a path"),
    P("load-key-key", lambda c: load_k(c.pgp), U, "loaded already"),
    P("load-key-cert", lambda c: load_k(c.pgp.public), U, "no secret key"),
    P("load-key-cert-bytes", lambda c: load_k(c.pub_bytes), LoadE),
    P("load-key-passphrase-int", lambda c: load_k(c.key_bytes, 1234), U, "passphrase"),
    P(
        "load-key-missing",
        lambda c: load_k(c.tmp / "missing.key"),
        LoadE,
        "missing.key",
    ),
    # generate_key
    P("keygen-none", lambda c: gen(None), U, "Alice <alice@example.org>"),
    P("keygen-bytes", lambda c: gen(b"a@example.org"), U, "str"),
    P("keygen-empty", lambda c: gen(""), U, "empty"),
    P("keygen-format", lambda c: gen("a@example.org", format="pgp"), U, "x509"),
    P("keygen-kind", lambda c: gen("a@example.org", kind="ed25519"), U, "x25519"),
    P("keygen-profile", lambda c: gen("a@example.org", profile="v6"), U, "rfc9580"),
    P(
        "keygen-x509-profile",
        lambda c: gen("a@x.org", format="x509", profile="rfc4880"),
    ),
    P("keygen-x509-no-address", lambda c: gen("Alice", format="x509"), U, "address"),
    # SecretKey.export and save
    P(
        "export-passphrase-int",
        lambda c: c.x509.export(passphrase=1234),
        U,
        "str, bytes",
    ),
    P("export-armor", lambda c: c.pgp.export(armor="no"), U, "armor"),
    P("save-bytes-path", lambda c: c.x509.save(b"k.key"), U, "path"),
]


def test_there_are_enough_probes() -> None:
    assert len(PROBES) >= 80
    assert len({p.id for p in PROBES}) == len(PROBES)


@pytest.mark.parametrize(("probe", "expected", "says"), PROBES)
def test_a_mistake_is_an_error_that_says_what_to_do(
    ctx: Ctx, probe: Probe, expected: type[e2ee_mail.Error], says: str
) -> None:
    try:
        probe(ctx)
    except e2ee_mail.Error as exc:
        assert isinstance(exc, expected), f"{type(exc).__name__}: {exc}"
        assert says in str(exc), str(exc)
    except Exception as exc:
        pytest.fail(f"foreign {type(exc).__name__}: {exc}")
    else:
        pytest.fail(f"no error; expected {expected.__name__}")


def test_a_refused_stream_call_writes_nothing(ctx: Ctx) -> None:
    dst = io.BytesIO()
    with pytest.raises(e2ee_mail.UsageError):
        e2ee_mail.encrypt_stream(io.BytesIO(BODY), dst, ctx.certs, format="cms")
    with pytest.raises(e2ee_mail.UsageError):
        e2ee_mail.decrypt_stream(io.BytesIO(ctx.blob), dst, [ctx.pgp, "x"])
    assert dst.getvalue() == b""


def test_the_right_calls_still_work(ctx: Ctx) -> None:
    """The shapes the checks let through: the ones the documentation shows."""
    pgp_cert = e2ee_mail.load_certificate(ctx.pgp.public.export())
    opened = e2ee_mail.decrypt(e2ee_mail.encrypt(BODY, pgp_cert), ctx.pgp)
    assert opened == BODY
    assert e2ee_mail.inspect(e2ee_mail.encrypt(BODY, ctx.x509.public)).format == "cms"
    dst = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(BODY), dst, (c for c in [pgp_cert]))
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(dst.getvalue()), out, {ctx.pgp})
    assert out.getvalue() == BODY
    sealed = e2ee_mail.encrypt_message(ctx.mail, ctx.certs)
    assert e2ee_mail.inspect(sealed).format == "pgpmime"
    assert e2ee_mail.decrypt_message(sealed, ctx.pgp)["Subject"] == "Hi"
    assert e2ee_mail.decrypt_message(bytearray(ctx.smail), ctx.x509)["Subject"] == "Hi"
    rekeyed = e2ee_mail.rewrap(memoryview(ctx.cms), ctx.x509, ctx.x509.public)
    assert e2ee_mail.decrypt(rekeyed, [ctx.x509]) == BODY


def test_a_compat32_message_is_encrypted_too(ctx: Ctx) -> None:
    import email

    legacy = email.message_from_bytes(ctx.mail.as_bytes())
    sealed = e2ee_mail.encrypt_message(legacy, [ctx.x509.public])
    assert e2ee_mail.decrypt_message(sealed, ctx.x509)["Subject"] == "Hi"
