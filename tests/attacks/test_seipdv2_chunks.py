"""SEIPDv2 chunk attacks (RFC 9580 §5.13.2, §14.4): truncation (also exactly at a chunk
boundary), reordering, duplication and extension must all fail authentication, and the
stream API may have released only authenticated chunks of the original."""

from __future__ import annotations

import io
import itertools

import pytest
import strategies as s

import e2ee_mail
from e2ee_mail.errors import DECRYPTION_FAILED

NAMES = ["pgp6-x25519-gcm-64B-chunks", "pgp6-rsa-ocb-64B-chunks"]


Prefix = tuple[bytes, bytes]  # (packets before the SEIPD, SEIPDv2 header + salt)


def _parts(name: str) -> tuple[s.Envelope, Prefix, list[bytes], bytes]:
    env = s.envelope(name)
    bounds = s.seipdv2_chunk_boundaries(env)
    assert len(bounds) >= 3, "the fixture must have several chunks"
    span = next(x for x in s.pgp_spans(env.binary) if x.tag == 18)
    prefix = (env.binary[: span.start], env.binary[span.body : bounds[0]])
    chunks = [env.binary[a:b] for a, b in itertools.pairwise(bounds)]
    return env, prefix, chunks, env.binary[bounds[-1] :]


def _message(prefix: Prefix, chunks: list[bytes], final_tag: bytes) -> bytes:
    return prefix[0] + s.pgp_packet(18, prefix[1] + b"".join(chunks) + final_tag)


def _refused(env: s.Envelope, data: bytes) -> None:
    with pytest.raises(e2ee_mail.DecryptionError) as exc:
        e2ee_mail.decrypt(data, env.key)
    assert str(exc.value) == DECRYPTION_FAILED
    out = io.BytesIO()
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt_stream(io.BytesIO(data), out, env.key)
    assert env.plaintext.startswith(out.getvalue())
    assert len(out.getvalue()) < len(env.plaintext)


@pytest.mark.parametrize("name", NAMES)
def test_reassembled_original_opens(name: str) -> None:
    env, prefix, chunks, final = _parts(name)
    assert e2ee_mail.decrypt(_message(prefix, chunks, final), env.key) == env.plaintext


@pytest.mark.parametrize("name", NAMES)
def test_truncation_exactly_at_each_chunk_boundary_fails_closed(name: str) -> None:
    env, prefix, chunks, final = _parts(name)
    for keep in range(len(chunks)):
        # Keep the first `keep` chunks and the genuine final tag: the final tag
        # authenticates the total length, so a clean cut is detected.
        _refused(env, _message(prefix, chunks[:keep], final))
        # ... and without any final tag at all.
        _refused(env, _message(prefix, chunks[: keep + 1], b""))


@pytest.mark.parametrize("name", NAMES)
def test_reordered_chunks_fail_closed(name: str) -> None:
    env, prefix, chunks, final = _parts(name)
    swapped = [chunks[1], chunks[0], *chunks[2:]]
    _refused(env, _message(prefix, swapped, final))
    _refused(env, _message(prefix, list(reversed(chunks)), final))


@pytest.mark.parametrize("name", NAMES)
def test_duplicated_or_extended_chunks_fail_closed(name: str) -> None:
    env, prefix, chunks, final = _parts(name)
    _refused(env, _message(prefix, [chunks[0], *chunks], final))
    _refused(env, _message(prefix, [*chunks, chunks[-1]], final))
    _refused(env, _message(prefix, chunks, final + final))


@pytest.mark.parametrize("name", NAMES)
def test_chunk_spliced_from_another_message_to_the_same_key_fails(name: str) -> None:
    env, prefix, chunks, final = _parts(name)
    other = s.build_seipdv2(
        env.key, s.literal_packet(s.PLAINTEXT), chunk=0, aead=2 if "ocb" in name else 3
    )
    span = next(x for x in s.pgp_spans(other) if x.tag == 18)
    foreign = other[span.body + 36 : span.body + 36 + len(chunks[1])]
    _refused(env, _message(prefix, [chunks[0], foreign, *chunks[2:]], final))


@pytest.mark.parametrize("name", NAMES)
def test_chunk_size_octet_rewritten_fails_closed(name: str) -> None:
    env, prefix, chunks, final = _parts(name)
    head = bytearray(prefix[1])
    for octet in (1, 2, 16):
        head[3] = octet
        _refused(env, _message((prefix[0], bytes(head)), chunks, final))
