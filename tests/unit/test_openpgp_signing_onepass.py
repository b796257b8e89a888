"""Signed SEIPDv2 messages in one pass: the body sealed straight from the caller's
buffer with the signature last (hashed in a thread for large bodies), and the
literal data hashed chunk by chunk as it authenticates on decryption."""

from __future__ import annotations

import dataclasses

import pytest
from openpgp_signers import KINDS, signer

from e2ee_mail.core import chunked
from e2ee_mail.errors import DecryptionError
from e2ee_mail.openpgp import message, signing, verifying
from e2ee_mail.policy import DEFAULT

#: 256-octet chunks: the packets before and after the body fit in one.
ROOMY = dataclasses.replace(DEFAULT, chunk_size_octet=2)
#: 64-octet chunks: they do not (the inner packets are joined, hashed after).
TINY = dataclasses.replace(DEFAULT, chunk_size_octet=0)
SIZES = [0, 1, 180, 256, 1000, 4099]


def body(size: int) -> bytes:
    return bytes((i * 7 + 3) % 256 for i in range(size)).replace(b"\r", b"\n")


@pytest.fixture(params=[False, True], ids=["serial", "threads"])
def threads(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether the large-body path (hash thread, two-thread chunks) runs."""
    if request.param:
        monkeypatch.setattr(chunked, "PARALLEL_MIN_BYTES", 1)
    return bool(request.param)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("text", [False, True])
def test_round_trip_in_any_layout(
    threads: bool, kind: str, size: int, text: bool
) -> None:
    key, recipient = signer(kind), signer("v6")
    data = body(size)
    for policy in (ROOMY, TINY):
        sealed = signing.encrypt_signed(
            data, [recipient.public], key, armor=False, policy=policy, text=text
        )
        assert message.ParsedMessage(sealed, DEFAULT).version == 2
        plain, results = verifying.decrypt_verified(
            sealed, [recipient], [key.public], policy=DEFAULT
        )
        assert plain == data
        assert [r.status for r in results] == ["good"]


def test_the_signature_size_is_known_before_signing() -> None:
    v6 = signing.DocumentSigner(signer("v6"), recipients=[bytes(32)])
    assert v6.packet_size() == len(v6.signature_packet())
    assert signing.DocumentSigner(signer("rsa")).packet_size() is None


def test_decryption_hashes_as_it_opens(
    threads: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = signer("v6")
    data = body(3000)
    sealed = signing.encrypt_signed(data, [key.public], key, armor=False, policy=ROOMY)
    walked: list[str] = []
    walk = verifying._walk_signed

    def spy(*args: object) -> object:
        walked.append(type(args[1]).__name__)
        return walk(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(verifying, "_walk_signed", spy)
    plain, results = verifying.decrypt_verified(
        sealed, [key], [key.public], policy=DEFAULT
    )
    assert plain == data and results[0].good
    # Large bodies (the threshold is lowered with the threads): only the
    # signatures after the data are left for the walk, no second pass. Small
    # ones are hashed after opening, which costs less than following the chunks.
    assert walked == ["_AfterLiteral" if threads else "SignatureCollector"]
    # With 64-octet chunks the One-Pass Signature packet spans two: hashed after.
    walked.clear()
    sealed = signing.encrypt_signed(data, [key.public], key, armor=False, policy=TINY)
    plain, results = verifying.decrypt_verified(
        sealed, [key], [key.public], policy=DEFAULT
    )
    assert plain == data and results[0].good
    assert walked == ["SignatureCollector"]


def test_a_damaged_chunk_releases_nothing(threads: bool) -> None:
    key = signer("v6")
    sealed = bytearray(
        signing.encrypt_signed(body(3000), [key.public], key, armor=False, policy=ROOMY)
    )
    sealed[-600] ^= 1  # a chunk near the end, after the data's first chunks
    with pytest.raises(DecryptionError):
        verifying.decrypt_verified(bytes(sealed), [key], [key.public], policy=DEFAULT)
