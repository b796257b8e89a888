"""Bleichenbacher-style RSA PKCS#1 v1.5 error oracles (Bleichenbacher 1998; ROBOT;
RFC 8017 §7.2.2 note; RFC 9580 §13.5): every bad padding, wrong length, out-of-range
value and wrong key must produce the same exception type with the same message, in
CMS KeyTransRecipientInfo (rsaEncryption) and OpenPGP RSA PKESK v3 and v6, through
the bytes and the stream API alike."""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import pytest
import strategies as s

import e2ee_mail
from e2ee_mail.errors import DECRYPTION_FAILED


def _rsa_public(key: e2ee_mail.SecretKey) -> tuple[int, int, int]:
    """(n, e, k) of the key's RSA encryption key."""
    if key.format == "x509":
        pub = key.public.public_key  # type: ignore[attr-defined]
        numbers = pub.public_numbers()
    else:
        ((_, private),) = key.decryption_keys()[:1]  # type: ignore[attr-defined]
        numbers = private.public_key().public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    return numbers.n, numbers.e, k


def _pad(
    k: int,
    message: bytes,
    *,
    block_type: int = 2,
    sep: bool = True,
    pad_len: int | None = None,
) -> bytes:
    n_pad = k - 3 - len(message) if pad_len is None else pad_len
    padding = bytes(b % 255 + 1 for b in os.urandom(max(n_pad, 0)))
    return (
        b"\x00"
        + bytes([block_type])
        + padding
        + (b"\x00" if sep else b"\x01")
        + message
    )


def _raw(n: int, e: int, k: int, block: bytes) -> bytes:
    m = int.from_bytes(block, "big")
    return pow(m, e, n).to_bytes(k, "big")


def _bad_values(
    key: e2ee_mail.SecretKey,
    good_message: Callable[[bytes], bytes],
    wrong_key: e2ee_mail.SecretKey,
) -> dict[str, bytes]:
    """RSA ciphertexts (k bytes unless the point is the length) that must all fail."""
    n, e, k = _rsa_public(key)
    wn, we, wk = _rsa_public(wrong_key)
    key32 = os.urandom(32)
    return {
        "valid padding, wrong 32-byte key": _raw(n, e, k, _pad(k, good_message(key32))),
        "valid padding, 16-byte key": _raw(
            n, e, k, _pad(k, good_message(os.urandom(16)))
        ),
        "valid padding, empty message": _raw(n, e, k, _pad(k, b"")),
        "valid padding, 1-byte message": _raw(n, e, k, _pad(k, b"\x09")),
        "block type 1": _raw(n, e, k, _pad(k, good_message(key32), block_type=1)),
        "block type 0": _raw(n, e, k, _pad(k, good_message(key32), block_type=0)),
        "no zero separator": _raw(n, e, k, _pad(k, good_message(key32), sep=False)[:k]),
        "padding shorter than 8": _raw(
            n,
            e,
            k,
            (b"\x00\x02" + b"\x01" * 4 + b"\x00" + os.urandom(k - 7)),
        ),
        "first octet not zero": _raw(
            n, e, k, b"\x01\x02" + _pad(k, good_message(key32))[2:]
        ),
        "m = 0": bytes(k),
        "m = 1": (1).to_bytes(k, "big"),
        "c = n - 1": (n - 1).to_bytes(k, "big"),
        "c = n (out of range)": n.to_bytes(k, "big"),
        "c = 2^(8k) - 1 (out of range)": b"\xff" * k,
        "random": os.urandom(k),
        "one octet short": _raw(n, e, k, _pad(k, good_message(key32)))[1:],
        "one octet long": b"\x00" + _raw(n, e, k, _pad(k, good_message(key32))),
        "wrong key's valid ciphertext": _raw(wn, we, wk, _pad(wk, good_message(key32))),
    }


def _assert_one_oracle(results: dict[str, BaseException | None]) -> None:
    opened = [name for name, exc in results.items() if exc is None]
    assert not opened, f"opened: {opened}"
    kinds = {(type(exc).__name__, str(exc)) for exc in results.values()}
    assert kinds == {("DecryptionError", DECRYPTION_FAILED)}, (
        f"distinguishable RSA failures: { {n: repr(x) for n, x in results.items()} }"
    )


def _run(data: bytes, key: e2ee_mail.SecretKey) -> list[BaseException | None]:
    out: list[BaseException | None] = []
    try:
        e2ee_mail.decrypt(data, key)
        out.append(None)
    except e2ee_mail.Error as exc:
        out.append(exc)
    try:
        e2ee_mail.decrypt_stream(io.BytesIO(data), io.BytesIO(), key)
        out.append(None)
    except e2ee_mail.Error as exc:
        out.append(exc)
    return out


# ---------------------------------------------------------------- CMS KTRI v1.5


def _cms_with_encrypted_key(binary: bytes, value: bytes) -> bytes:
    root = s.parse_der(binary)
    for _, node in s.der_nodes(root):
        ch = node.children
        if (
            node.tag == b"\x30"
            and ch
            and len(ch) == 4
            and ch[0].tag == b"\x02"
            and ch[1].tag != b"\x31"
            and ch[3].tag == b"\x04"
        ):
            ch[3].content = value
            return root.encode()
    raise AssertionError("no KeyTransRecipientInfo")


@pytest.mark.parametrize("name", ["cms-rsa-v15-der", "cms-rsa-oaep-der"])
def test_cms_rsa_key_transport_failures_are_indistinguishable(name: str) -> None:
    env = s.envelope(name)
    wrong = e2ee_mail.generate_key("W <w@example.org>", format="x509", kind="rsa3072")
    results: dict[str, BaseException | None] = {}
    for label, value in _bad_values(env.key, lambda cek: cek, wrong).items():
        data = _cms_with_encrypted_key(env.binary, value)
        for i, exc in enumerate(_run(data, env.key)):
            results[f"{label} / {'stream' if i else 'bytes'}"] = exc
    _assert_one_oracle(results)


def test_cms_v15_fixture_opens_with_its_own_key() -> None:
    env = s.envelope("cms-rsa-v15-der")
    assert e2ee_mail.decrypt(env.binary, env.key) == s.PLAINTEXT


# ------------------------------------------------------------ OpenPGP RSA PKESK


def _checksum(key: bytes) -> bytes:
    return (sum(key) & 0xFFFF).to_bytes(2, "big")


def _mpi(value: bytes) -> bytes:
    v = value.lstrip(b"\x00")
    bits = int.from_bytes(v, "big").bit_length()
    return bits.to_bytes(2, "big") + v


def _with_rsa_value(binary: bytes, value: bytes) -> bytes:
    packets = [(sp.tag, binary[sp.body : sp.end]) for sp in s.pgp_spans(binary)]
    tag, body = packets[0]
    algo_at = 9 if body[0] == 3 else 2 + body[1]
    packets[0] = (tag, body[: algo_at + 1] + _mpi(value))
    return b"".join(s.pgp_packet(t, b) for t, b in packets)


@pytest.mark.parametrize(
    ("name", "v3"), [("pgp4-rsa-seipdv1", True), ("pgp6-rsa-gcm", False)]
)
def test_openpgp_rsa_pkesk_failures_are_indistinguishable(name: str, v3: bool) -> None:
    env = s.envelope(name)
    wrong = e2ee_mail.generate_key(
        "W <w@example.org>", kind="rsa3072", profile="rfc4880" if v3 else "rfc9580"
    )

    def message(key: bytes) -> bytes:
        return (b"\x09" if v3 else b"") + key + _checksum(key)

    values = _bad_values(env.key, message, wrong)
    n, e, k = _rsa_public(env.key)
    key32 = os.urandom(32)
    values["bad checksum"] = _raw(n, e, k, _pad(k, message(key32)[:-1] + b"\x00"))
    if v3:
        values["cipher octet 0"] = _raw(n, e, k, _pad(k, b"\x00" + message(key32)[1:]))
        values["cipher octet 7 with a 32-byte key"] = _raw(
            n, e, k, _pad(k, b"\x07" + message(key32)[1:])
        )
        key16 = os.urandom(16)
        values["AES-128 key, right checksum"] = _raw(
            n, e, k, _pad(k, b"\x07" + key16 + _checksum(key16))
        )
    results: dict[str, BaseException | None] = {}
    for label, value in values.items():
        data = _with_rsa_value(env.binary, value)
        for i, exc in enumerate(_run(data, env.key)):
            results[f"{label} / {'stream' if i else 'bytes'}"] = exc
    _assert_one_oracle(results)


def test_hand_made_rsa_pkesk_opens_when_the_padding_is_right() -> None:
    """Control: the raw-RSA construction above is right (same key, same framing), so
    the failures above come from the bad values, not from a broken harness."""
    key = s.keys().pgp6_rsa
    sk = os.urandom(32)
    msg = s.build_seipdv2(key, s.literal_packet(s.PLAINTEXT), session_key=sk)
    n, e, k = _rsa_public(key)
    good = _with_rsa_value(msg, _raw(n, e, k, _pad(k, sk + _checksum(sk))))
    assert e2ee_mail.decrypt(good, key) == s.PLAINTEXT
