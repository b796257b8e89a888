"""Structure-aware fuzzing of OpenPGP messages (RFC 9580 v6 and RFC 4880 v4).

PKESKv6 X25519/RSA + SEIPDv2 (GCM, OCB; 4 MiB and 64-byte chunks), PKESKv3 ECDH/RSA +
SEIPDv1, binary and armored, mutated at the packet and chunk level; inner content
crafted under valid encryption (nested compression, odd literal framing). Each
mutation raises an e2ee_mail.Error or opens to exactly the original plaintext; the
stream API may release authenticated chunks only, i.e. a prefix of the original.
"""

from __future__ import annotations

import io
import itertools

import pytest
import strategies as s
from hypothesis import given, settings
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.policy import DEFAULT

PGP = [e.name for e in s.envelopes() if e.family == "openpgp"]
BINARY = [e.name for e in s.envelopes() if e.family == "openpgp" and not e.armored]
ARMORED = [e.name for e in s.envelopes() if e.family == "openpgp" and e.armored]


def _stream(env: s.Envelope, data: bytes) -> bytes:
    out = io.BytesIO()
    try:
        e2ee_mail.decrypt_stream(io.BytesIO(data), out, env.key, policy=env.policy)
    except e2ee_mail.Error:
        assert env.plaintext.startswith(out.getvalue()), (
            "unauthenticated bytes released"
        )
        raise
    return out.getvalue()


@pytest.mark.parametrize("name", PGP)
def test_valid_openpgp_envelope_opens(name: str) -> None:
    env = s.envelope(name)
    assert s.check_outcome("openpgp", lambda: env.open(env.data), env.plaintext) == (
        "original"
    )
    assert _stream(env, env.data) == env.plaintext


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=s.examples(60))
@given(data=st.data())
def test_structural_mutation_raises_library_error_or_opens_to_original(
    name: str, data: st.DataObject
) -> None:
    env = s.envelope(name)
    _, mutated = data.draw(s.pgp_mutation(env.binary), label="mutation")
    s.check_outcome("openpgp", lambda: env.open(mutated), env.plaintext)


@pytest.mark.parametrize(
    "name",
    ["pgp6-x25519-gcm-64B-chunks", "pgp4-ecdh-seipdv1", "pgp6-rsa-ocb-64B-chunks"],
)
@settings(max_examples=s.examples(40))
@given(data=st.data())
def test_mutated_stream_releases_only_a_prefix_of_the_original(
    name: str, data: st.DataObject
) -> None:
    env = s.envelope(name)
    _, mutated = data.draw(s.pgp_mutation(env.binary), label="mutation")
    s.check_outcome("openpgp", lambda: _stream(env, mutated), env.plaintext)


@pytest.mark.parametrize("name", ARMORED)
@settings(max_examples=s.examples(40))
@given(data=st.data())
def test_mutated_armor_text_fails_closed(name: str, data: st.DataObject) -> None:
    env = s.envelope(name)
    _, mutated = data.draw(s.text_mutation(env.data), label="mutation")
    s.check_outcome("openpgp", lambda: env.open(mutated), env.plaintext)
    s.check_outcome("openpgp", lambda: _stream(env, mutated), env.plaintext)


@pytest.mark.parametrize(
    "name", ["pgp6-x25519-gcm-64B-chunks", "pgp6-rsa-ocb-64B-chunks"]
)
@settings(max_examples=s.examples(40))
@given(data=st.data())
def test_reordered_duplicated_or_dropped_chunks_fail_closed(
    name: str, data: st.DataObject
) -> None:
    env = s.envelope(name)
    bounds = s.seipdv2_chunk_boundaries(env)
    pieces = [env.binary[a:b] for a, b in itertools.pairwise(bounds)]
    final_tag = env.binary[bounds[-1] :]
    head = env.binary[: bounds[0]]
    op = data.draw(st.sampled_from(["swap", "dup", "drop", "final-tag-early"]))
    i = data.draw(st.integers(0, len(pieces) - 1))
    if op == "swap":
        j = data.draw(st.integers(0, len(pieces) - 1).filter(lambda j: j != i))
        pieces[i], pieces[j] = pieces[j], pieces[i]
    elif op == "dup":
        pieces.insert(i, pieces[i])
    elif op == "drop":
        del pieces[i]
    else:
        pieces = pieces[:i]
    body = b"".join(pieces) + final_tag
    # Re-frame the SEIPD packet with its new length so framing is not what fails.
    span = next(x for x in s.pgp_spans(env.binary) if x.tag == 18)
    seipd_head = env.binary[span.body : bounds[0]]
    mutated = env.binary[: span.start] + s.pgp_packet(18, seipd_head + body)
    assert head.startswith(env.binary[: span.start])
    outcome = s.check_outcome("openpgp", lambda: env.open(mutated), env.plaintext)
    assert outcome == "DecryptionError"
    s.check_outcome("openpgp", lambda: _stream(env, mutated), env.plaintext)


_INNER = st.recursive(
    st.builds(lambda d: s.literal_packet(d), st.binary(max_size=64))
    | st.just(s.literal_packet(s.PLAINTEXT)),
    lambda children: st.one_of(
        st.tuples(children, st.sampled_from([1, 2])).map(
            lambda t: s.compressed_packet(t[0], t[1])
        ),
        st.lists(children, min_size=2, max_size=3).map(b"".join),
        st.tuples(children, st.integers(0, 255)).map(
            lambda t: s.pgp_packet(t[1] % 64, t[0])
        ),
    ),
    max_leaves=4,
)


@settings(max_examples=s.examples(60))
@given(inner=_INNER, v1=st.booleans())
def test_crafted_inner_packets_under_valid_encryption_fail_closed(
    inner: bytes, v1: bool
) -> None:
    """Nested compression, several literals, unknown packets, all authenticated:
    the outcome is a library error or one literal's content, nothing else."""
    k = s.keys()
    key = k.pgp4_ecdh if v1 else k.pgp6_x25519
    msg = s.build_seipdv1(key, inner) if v1 else s.build_seipdv2(key, inner)
    s.COUNTS["openpgp"] += 1
    try:
        out = bytes(e2ee_mail.decrypt(msg, key))
    except e2ee_mail.Error as exc:
        s.OUTCOMES["openpgp"][type(exc).__name__] += 1
        return
    s.OUTCOMES["openpgp"]["inner-literal"] += 1
    # The only plaintext that may come out is the content of a literal packet we put
    # in (possibly inside compression): check it is one of them.
    assert out in _literal_contents(inner)


def _literal_contents(data: bytes, depth: int = 0) -> set[bytes]:
    import zlib

    found: set[bytes] = set()
    try:
        spans = s.pgp_spans(data)
    except (ValueError, IndexError):
        return found
    for sp in spans:
        body = data[sp.body : sp.end]
        if sp.tag == 11 and len(body) >= 6:
            found.add(body[6 + body[1] :])
        elif sp.tag == 8 and depth < 10 and body:
            try:
                raw = (
                    zlib.decompress(body[1:], -15)
                    if body[0] == 1
                    else zlib.decompress(body[1:])
                )
            except zlib.error:
                continue
            found |= _literal_contents(raw, depth + 1)
    return found


@settings(max_examples=s.examples(30))
@given(data=st.data())
def test_inspect_of_mutated_openpgp_raises_only_library_errors(
    data: st.DataObject,
) -> None:
    env = s.envelope(data.draw(st.sampled_from(BINARY)))
    _, mutated = data.draw(s.pgp_mutation(env.binary), label="mutation")
    s.COUNTS["openpgp"] += 1
    try:
        e2ee_mail.inspect(mutated)
    except e2ee_mail.Error as exc:
        s.OUTCOMES["openpgp"][type(exc).__name__] += 1
    else:
        s.OUTCOMES["openpgp"]["inspected"] += 1


def test_huge_lengths_and_every_truncation_stay_bounded() -> None:
    """Every packet length huge / partial / old-format and every packet- and
    chunk-boundary truncation, bytes and stream API, under a capped address space."""
    result = s.run_bounded("openpgp", "sweep_openpgp")
    assert sum(result.values()) > 100


def test_policy_is_default() -> None:
    assert s.envelope("pgp6-x25519-gcm").policy == DEFAULT
