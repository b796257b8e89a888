"""An altered RSA-wrapped key answers exactly like an altered body.

Every octet of the RSA ciphertext in a recipient entry that names our key is flipped in
turn (one bit each, the bit moving with the octet so all eight positions are covered),
in CMS KeyTransRecipientInfo (RSAES-OAEP and RSAES-PKCS1-v1_5) and in OpenPGP RSA PKESK
v6 and v3; decrypt sees every octet, decrypt_stream and rewrap every third (the runtime
stays a few seconds per format). CMS keys alternate between the key with its
certificate (the entry names it) and the same key without (tried on every entry).
Each altered message must end in a DecryptionError with the one fixed text, never
NoMatchingKeyError and never another text: the unwrap goes on with a random content
key (implicit rejection, RFC 8017 §7.2.2 note; RFC 9580 §13.5) and the failure
surfaces at the content tag. NoMatchingKeyError stays the answer for messages that
name none of our keys.
"""

from __future__ import annotations

import collections
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import strategies as s

import e2ee_mail
from e2ee_mail.errors import DECRYPTION_FAILED

VECTOR_KEYS = Path(__file__).resolve().parents[2] / "e2ee_mail/vectors/data/keys"
ONE_ANSWER = ("DecryptionError", DECRYPTION_FAILED)

#: decrypt, decrypt_stream or rewrap, given the message and one key or a list of keys.
Api = Callable[[bytes, Any], object]


def _decrypt(data: bytes, key: Any) -> object:
    return e2ee_mail.decrypt(data, key)


def _decrypt_stream(data: bytes, key: Any) -> object:
    out = io.BytesIO()
    try:
        e2ee_mail.decrypt_stream(io.BytesIO(data), out, key)
    except e2ee_mail.Error:
        assert out.getvalue() == b"", "a failed stream wrote plaintext"
        raise
    return out.getvalue()


def _rewrap_to(cert: e2ee_mail.Certificate) -> Api:
    def rewrap(data: bytes, key: Any) -> object:
        return e2ee_mail.rewrap(data, key, [cert])

    return rewrap


def _apis(family: str) -> dict[str, Api]:
    k = s.keys()
    new_recipient = k.other_x509.public if family == "cms" else k.pgp4_ecdh.public
    return {
        "decrypt": _decrypt,
        "decrypt_stream": _decrypt_stream,
        "rewrap": _rewrap_to(new_recipient),
    }


def _outcome(api: Api, data: bytes, key: Any) -> tuple[str, str]:
    try:
        api(data, key)
    except e2ee_mail.Error as exc:
        return type(exc).__name__, str(exc)
    return "opened", ""


#: Every how many octets each API sees an altered one.
STRIDE = {"decrypt": 1, "decrypt_stream": 3, "rewrap": 3}


def _flipped(
    binary: bytes, start: int, length: int, stride: int = 1
) -> Iterator[tuple[int, bytes]]:
    """Octets of binary[start:start + length], every ``stride``-th, one bit flipped."""
    for i in range(0, length, stride):
        altered = bytearray(binary)
        altered[start + i] ^= 1 << (i % 8)
        yield i, bytes(altered)


def _assert_one_answer(
    api: str,
    binary: bytes,
    start: int,
    length: int,
    keys: list[e2ee_mail.SecretKey],
    family: str,
) -> None:
    """Every altered message gives the one answer; keys take turns by octet."""
    call = _apis(family)[api]
    answers: collections.Counter[tuple[str, str]] = collections.Counter()
    first: dict[tuple[str, str], int] = {}
    for i, altered in _flipped(binary, start, length, STRIDE[api]):
        answer = _outcome(call, altered, keys[i % len(keys)])
        answers[answer] += 1
        first.setdefault(answer, i)
    assert set(answers) == {ONE_ANSWER}, (
        f"distinguishable answers (first octet of each): "
        f"{ {a: first[a] for a in answers} }"
    )


# ------------------------------------------------------------------------ CMS


def _encrypted_key_span(binary: bytes) -> tuple[int, int]:
    """(offset, length) of the encryptedKey of the first KeyTransRecipientInfo."""
    for _, node in s.der_nodes(s.parse_der(binary)):
        ch = node.children
        if (
            node.tag == b"\x30"
            and ch
            and len(ch) == 4
            and ch[0].tag == b"\x02"
            and ch[3].tag == b"\x04"
            and len(ch[3].content) >= 128
        ):
            value = ch[3].content
            start = binary.find(value)
            assert start > 0 and binary.find(value, start + 1) < 0
            return start, len(value)
    raise AssertionError("no KeyTransRecipientInfo")


def _bare(key: e2ee_mail.SecretKey) -> e2ee_mail.SecretKey:
    """The same PKCS#8 key loaded without its certificate (trial decryption)."""
    bare = e2ee_mail.load_key(key.export(armor=False))
    assert bare.certificate is None  # type: ignore[attr-defined]
    return bare


@pytest.mark.parametrize("api", ["decrypt", "decrypt_stream", "rewrap"])
@pytest.mark.parametrize("name", ["cms-rsa-oaep-der", "cms-rsa-v15-der"])
def test_cms_altered_encrypted_key_is_one_decryption_error(name: str, api: str) -> None:
    env = s.envelope(name)
    start, length = _encrypted_key_span(env.binary)
    assert length == 384  # RSA-3072
    keys = [env.key, _bare(env.key)]
    _assert_one_answer(api, env.binary, start, length, keys, "cms")


@pytest.mark.parametrize("with_certificate", [True, False])
@pytest.mark.parametrize("name", ["cms-rsa-oaep-der", "cms-rsa-v15-der"])
def test_cms_unaltered_message_opens_through_every_api(
    name: str, with_certificate: bool
) -> None:
    """Control: the sweep above fails because of the flipped bit alone."""
    env = s.envelope(name)
    key = env.key if with_certificate else _bare(env.key)
    for api in _apis("cms").values():
        api(env.binary, key)


def test_cms_message_naming_none_of_our_keys_is_no_matching_key() -> None:
    k = s.keys()
    someone = e2ee_mail.load_certificate(VECTOR_KEYS / "cms-rsa3072.crt.pem")
    for policy in (e2ee_mail.DEFAULT, s.V15):
        data = bytes(e2ee_mail.encrypt(b"x", someone, format="cms", policy=policy))
        for name, api in _apis("cms").items():
            answer = _outcome(api, data, k.x509_rsa)
            assert answer[0] == "NoMatchingKeyError", (name, answer)


def test_cms_bare_key_with_no_entry_of_its_kind_is_no_matching_key() -> None:
    k = s.keys()
    data = bytes(e2ee_mail.encrypt(b"x", k.other_x509.public, format="cms"))
    bare = _bare(k.x509_rsa)
    for name, api in _apis("cms").items():
        answer = _outcome(api, data, bare)
        assert answer[0] == "NoMatchingKeyError", (name, answer)


def test_cms_bare_key_tried_on_a_stranger_entry_is_decryption_error() -> None:
    """A key loaded without its certificate cannot tell whether an RSA entry names
    it, so it is tried (a secret-key operation): the failure is the one answer."""
    k = s.keys()
    someone = e2ee_mail.load_certificate(VECTOR_KEYS / "cms-rsa3072.crt.pem")
    data = bytes(e2ee_mail.encrypt(b"x", someone, format="cms"))
    bare = _bare(k.x509_rsa)
    for name, api in _apis("cms").items():
        assert _outcome(api, data, bare) == ONE_ANSWER, name


# -------------------------------------------------------------------- OpenPGP


def _rsa_value_span(binary: bytes, index: int = 0) -> tuple[int, int]:
    """(offset, length) of the RSA MPI value in the index-th PKESK packet."""
    span = [sp for sp in s.pgp_spans(binary) if sp.tag == 1][index]
    body = binary[span.body : span.end]
    algo_at = 9 if body[0] == 3 else 2 + body[1]
    assert body[algo_at] == 1, "not an RSA PKESK"
    value_at = span.body + algo_at + 1 + 2  # the MPI's 2-octet bit count
    return value_at, span.end - value_at


@pytest.mark.parametrize("api", ["decrypt", "decrypt_stream", "rewrap"])
@pytest.mark.parametrize("name", ["pgp6-rsa-gcm", "pgp4-rsa-seipdv1"])
def test_openpgp_altered_rsa_pkesk_is_one_decryption_error(name: str, api: str) -> None:
    env = s.envelope(name)
    start, length = _rsa_value_span(env.binary)
    assert length in (383, 384)  # RSA-3072, leading zero octets dropped
    _assert_one_answer(api, env.binary, start, length, [env.key], "openpgp")


@pytest.mark.parametrize("name", ["pgp6-rsa-gcm", "pgp4-rsa-seipdv1"])
def test_openpgp_unaltered_message_opens_through_every_api(name: str) -> None:
    env = s.envelope(name)
    for api in _apis("openpgp").values():
        api(env.binary, env.key)


def _two_of_ours(profile: str) -> tuple[e2ee_mail.SecretKey, e2ee_mail.SecretKey]:
    k = s.keys()
    if profile == "rfc9580":
        return k.pgp6_rsa, e2ee_mail.load_key(VECTOR_KEYS / "pgp6-rsa3072.sec.asc")
    return k.pgp4_rsa, e2ee_mail.load_key(VECTOR_KEYS / "pgp4-rsa3072.sec.asc")


@pytest.mark.parametrize("profile", ["rfc9580", "rfc4880"])
def test_openpgp_pkesks_naming_several_of_our_keys_end_in_one_answer(
    profile: str,
) -> None:
    first, second = _two_of_ours(profile)
    data = bytes(
        e2ee_mail.encrypt(
            b"body",
            [first.public, second.public],
            policy=e2ee_mail.RFC9580 if profile == "rfc9580" else e2ee_mail.RFC4880,
        )
    )
    both = [first, second]
    one, _ = _rsa_value_span(data, 0)
    two, _ = _rsa_value_span(data, 1)
    first_altered = bytearray(data)
    first_altered[one + 10] ^= 0x10
    # Trying each named entry is fine: the intact one still opens the message.
    assert e2ee_mail.decrypt(bytes(first_altered), both) == b"body"
    both_altered = bytearray(first_altered)
    both_altered[two + 10] ^= 0x10
    for name, api in _apis("openpgp").items():
        assert _outcome(api, bytes(both_altered), both) == ONE_ANSWER, name
    # A stream cannot go back to try a second entry: it may fail, with the one answer.
    answer = _outcome(_decrypt_stream, bytes(first_altered), both)
    assert answer in (("opened", ""), ONE_ANSWER)


@pytest.mark.parametrize("which", ["pgp6-rsa3072", "pgp4-rsa3072"])
def test_openpgp_message_naming_none_of_our_keys_is_no_matching_key(
    which: str,
) -> None:
    k = s.keys()
    someone = e2ee_mail.load_certificate(VECTOR_KEYS / f"{which}.pub.asc")
    data = bytes(e2ee_mail.encrypt(b"x", someone))
    ours = k.pgp6_rsa if which.startswith("pgp6") else k.pgp4_rsa
    for name, api in _apis("openpgp").items():
        answer = _outcome(api, data, ours)
        assert answer[0] == "NoMatchingKeyError", (name, answer)


# ------------------------------------------------- where the failure surfaces


def _content_openers(family: str, name: str) -> list[tuple[object, str]]:
    """The (module, function) that checks the content tag for these envelopes."""
    if family == "cms":
        from e2ee_mail.core import aead

        return [(aead, "gcm_open_into")]
    if name.startswith("pgp6"):
        from e2ee_mail.openpgp import seipdv2

        return [(seipdv2, "open_body")]
    from e2ee_mail.openpgp import seipdv1

    return [(seipdv1, "open_body")]


@pytest.mark.parametrize(
    "name", ["cms-rsa-oaep-der", "cms-rsa-v15-der", "pgp6-rsa-gcm", "pgp4-rsa-seipdv1"]
)
def test_altered_key_fails_at_the_content_tag(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Implicit rejection: an unwrap that fails for an entry naming our key goes on
    with a random content key, so every altered message is rejected by the content
    check, as an altered body is (the same work, not an early exit)."""
    env = s.envelope(name)
    calls = collections.Counter[str]()
    for module, attr in _content_openers(env.family, name):
        real = getattr(module, attr)

        def spy(
            *args: object, _real: Callable[..., object] = real, **kw: object
        ) -> object:
            calls["content"] += 1
            return _real(*args, **kw)

        monkeypatch.setattr(module, attr, spy)
    if env.family == "cms":
        start, length = _encrypted_key_span(env.binary)
    else:
        start, length = _rsa_value_span(env.binary)
    tried = 0
    for _, altered in _flipped(env.binary, start, length, 16):
        tried += 1
        assert _outcome(_decrypt, altered, env.key) == ONE_ANSWER
    assert calls["content"] == tried
