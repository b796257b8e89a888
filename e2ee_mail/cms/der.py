"""A strict DER fast path for the CMS structures read on every message.

The general reader (reference.py, pyasn1) reads a RecipientInfo in about 250
microseconds, several times the X25519 agreement it leads to, and about forty times
what this module takes. This module reads the shapes that real
messages carry, in plain DER (X.690 §10: definite, minimal lengths, single octet
tags), with the in-memory reader of tlv.py:

- RecipientInfos (RFC 5652 §6.1) of KeyTransRecipientInfo (§6.2.1) and
  KeyAgreeRecipientInfo (§6.2.2) with an X25519 originatorKey (RFC 8418 §2.3) or an
  id-ecPublicKey one (RFC 5753 §3.1.1, any parameters), each recipient named by
  issuerAndSerialNumber or subjectKeyIdentifier (rKeyId without date or other
  attribute), and the KEMRecipientInfo of RFC 9629 §3 (an OtherRecipientInfo of type
  id-ori-kem);
- AlgorithmIdentifier (RFC 5280 §4.1.1.2) with parameters kept as raw DER;
- GCMParameters (RFC 5084 §3.2);
- RSAES-OAEP-params (RFC 4055 §4.1) with SHA-1 or SHA-2 hashes, MGF1 and
  pSpecified.

It is only ever a shortcut: every function returns None for anything else (BER, other
recipient kinds, unusual encodings, malformed input) and the caller then runs the
general reader (reference.py), which decides. Whatever this module accepts, the
general reader reads to the same value (tests/unit/test_cms_der.py compares the two).
Algorithm identifiers, OAEP parameters and recipient names (IssuerAndSerialNumber)
repeat across messages, so they are read once and memoized (bounded caches, short
inputs only), and the RFC 8418 X25519 originator is recognized by one comparison.
Nothing here calls the general reader: a message read on the fast path never
imports pyasn1, whose CMS modules cost 100-140 ms of CPU to import, about half a
command-line decrypt.

A codec: no cryptography, no randomness, no files opened.
"""

from __future__ import annotations

import functools
from typing import Final

from ..errors import ASN1Error
from . import oids, structures
from .tlv import Decline, decode_oid, element, expect, expect_last, integer, small_int

__all__ = [
    "algorithm_identifier",
    "gcm_parameters",
    "oaep_parameters",
    "recipient_entries",
    "recipient_infos",
]

#: Longest AlgorithmIdentifier memoized (the cache holds at most 256 of them).
_MEMO_MAX_BYTES: Final = 128
#: Longest IssuerAndSerialNumber content memoized.
_MEMO_MAX_RID_BYTES: Final = 512
#: Parameter tags taken as they are: SEQUENCE, OCTET STRING, NULL, OBJECT IDENTIFIER
#: (a named curve, RFC 5480 §2.1.1); the rest is left to the general reader.
_PARAMETER_TAGS: Final = frozenset((0x30, 0x04, 0x05, 0x06))
#: id-X25519 AlgorithmIdentifier, parameters absent (RFC 8410 §3).
_X25519_ALG: Final = bytes.fromhex("300506032b656e")
#: originator [0] { originatorKey [1] { algorithm, BIT STRING (0 unused bits) } }
#: up to the 32 key octets.
_X25519_ORIGINATOR: Final = bytes.fromhex("a02ca12a") + _X25519_ALG + b"\x03\x21\x00"
_X25519_ORIGINATOR_ALG_AT: Final = 4
#: Originator algorithms read here; their parameters are read by the general reader.
_ORIGINATOR_ALGORITHMS: Final = frozenset((oids.X25519, oids.EC_PUBLIC_KEY))
#: The oriType of a KEMRecipientInfo, as DER (RFC 9629 §3).
_ORI_KEM: Final = bytes.fromhex("060b2a864886f70d0109100d03")


def _read_algorithm(der: bytes) -> structures.AlgorithmIdentifier:
    """An AlgorithmIdentifier inside a recipient entry, read by
    :func:`algorithm_identifier` and memoized (short inputs only)."""
    if len(der) > _MEMO_MAX_BYTES:
        raise Decline
    alg = _memo_algorithm(der)
    if alg is None:
        raise Decline
    return alg


def _issuer_and_serial(buf: bytes, start: int, stop: int) -> structures.RecipientId:
    # The same recipients come back message after message: memoized on the
    # element's content (bounded, short inputs only).
    content = buf[start:stop]
    if stop - start > _MEMO_MAX_RID_BYTES:
        rid = _read_issuer_and_serial(content)
    else:
        rid = _memo_issuer_and_serial(content)
    if rid is None:
        raise Decline
    return rid


def _read_issuer_and_serial(content: bytes) -> structures.RecipientId | None:
    try:
        _, stop_issuer = expect(content, 0, len(content), 0x30)
        s = expect_last(content, stop_issuer, len(content), 0x02)
        serial = integer(content, s, len(content))
    except Decline:
        return None
    return structures.RecipientId(issuer=content[:stop_issuer], serial_number=serial)


_memo_issuer_and_serial = functools.lru_cache(maxsize=1024)(_read_issuer_and_serial)


def _version_and_rid(
    buf: bytes, start: int, stop: int
) -> tuple[int, structures.RecipientId, int]:
    """The version and the rid that open a KeyTransRecipientInfo (RFC 5652 §6.2.1)
    or a KEMRecipientInfo (RFC 9629 §3): issuerAndSerialNumber or [0]
    subjectKeyIdentifier. Returns them with the position after the rid."""
    s, e = expect(buf, start, stop, 0x02)
    version = small_int(buf, s, e)
    tag, s, pos = element(buf, e, stop)
    if tag == 0x30:
        rid = _issuer_and_serial(buf, s, pos)
    elif tag == 0x80:
        rid = structures.RecipientId(subject_key_identifier=buf[s:pos])
    else:
        raise Decline
    return version, rid, pos


def _algorithm(
    buf: bytes, pos: int, stop: int
) -> tuple[structures.AlgorithmIdentifier, int]:
    """The AlgorithmIdentifier at ``pos`` (:func:`_read_algorithm`); the position
    after it."""
    _, end = expect(buf, pos, stop, 0x30)
    return _read_algorithm(buf[pos:end]), end


def _ukm_and_wrap(
    buf: bytes, pos: int, stop: int, ukm_tag: int
) -> tuple[bytes | None, structures.AlgorithmIdentifier, int]:
    """An optional ukm OCTET STRING under its explicit tag ``ukm_tag``, then the
    key-encryption (wrap) algorithm: (ukm, algorithm, position after it)."""
    tag, s, e = element(buf, pos, stop)
    ukm = None
    if tag == ukm_tag:
        ukm = buf[expect_last(buf, s, e, 0x04) : e]
        pos = e
        tag, s, e = element(buf, pos, stop)
    if tag != 0x30:
        raise Decline
    return ukm, _read_algorithm(buf[pos:e]), e


def _ktri(buf: bytes, start: int, stop: int) -> structures.KeyTransRecipientInfo:
    version, rid, pos = _version_and_rid(buf, start, stop)
    alg, pos = _algorithm(buf, pos, stop)
    s = expect_last(buf, pos, stop, 0x04)
    return structures.KeyTransRecipientInfo(version, rid, alg, buf[s:stop])


def _kari(buf: bytes, start: int, stop: int) -> structures.KeyAgreeRecipientInfo:
    s, e = expect(buf, start, stop, 0x02)
    version = small_int(buf, s, e)
    if buf[e : e + len(_X25519_ORIGINATOR)] == _X25519_ORIGINATOR:
        # The originator every RFC 8418 sender writes, as one comparison: the same
        # bytes the general reading below accepts, read to the same values.
        alg_at = e + _X25519_ORIGINATOR_ALG_AT
        originator_algorithm = _read_algorithm(buf[alg_at : alg_at + len(_X25519_ALG)])
        pos = e + len(_X25519_ORIGINATOR) + 32
        if pos > stop:
            raise Decline
        public_key = buf[e + len(_X25519_ORIGINATOR) : pos]
    else:
        originator_algorithm, public_key, pos = _originator(buf, e, stop)
    ukm, key_encryption_algorithm, e = _ukm_and_wrap(buf, pos, stop, 0xA1)
    s, e = expect(buf, e, stop, 0x30)
    if e != stop or s == e:
        raise Decline
    reks = []
    while s < e:
        rs, re_ = expect(buf, s, e, 0x30)
        reks.append(_rek(buf, rs, re_))
        s = re_
    return structures.KeyAgreeRecipientInfo(
        version=version,
        originator_algorithm=originator_algorithm,
        originator_public_key=public_key,
        ukm=ukm,
        key_encryption_algorithm=key_encryption_algorithm,
        recipient_encrypted_keys=tuple(reks),
    )


def _originator(
    buf: bytes, pos: int, stop: int
) -> tuple[structures.AlgorithmIdentifier, bytes, int]:
    # originator [0] EXPLICIT, holding originatorKey [1] IMPLICIT OriginatorPublicKey.
    s, end = expect(buf, pos, stop, 0xA0)
    s = expect_last(buf, s, end, 0xA1)
    e = end
    originator_algorithm, s = _algorithm(buf, s, e)
    if originator_algorithm.algorithm not in _ORIGINATOR_ALGORITHMS:
        raise Decline  # other originator keys: the general reader's
    bs, be = expect(buf, s, e, 0x03)
    if be != e or be == bs or buf[bs] != 0:
        raise Decline
    return originator_algorithm, buf[bs + 1 : be], end


def _kemri(buf: bytes, start: int, stop: int) -> structures.KEMRecipientInfo:
    # ori [4] IMPLICIT OtherRecipientInfo: oriType, then the KEMRecipientInfo.
    if buf[start : start + len(_ORI_KEM)] != _ORI_KEM:
        raise Decline  # another kind of OtherRecipientInfo: the general reader's
    pos = start + len(_ORI_KEM)
    start = expect_last(buf, pos, stop, 0x30)
    version, rid, pos = _version_and_rid(buf, start, stop)
    kem, pos = _algorithm(buf, pos, stop)
    s, pos = expect(buf, pos, stop, 0x04)
    kemct = buf[s:pos]
    kdf, pos = _algorithm(buf, pos, stop)
    s, pos = expect(buf, pos, stop, 0x02)
    kek_length = integer(buf, s, pos)
    ukm, wrap, e = _ukm_and_wrap(buf, pos, stop, 0xA0)
    s = expect_last(buf, e, stop, 0x04)
    return structures.KEMRecipientInfo(
        version=version,
        rid=rid,
        kem=kem,
        kemct=kemct,
        kdf=kdf,
        kek_length=kek_length,
        ukm=ukm,
        wrap=wrap,
        encrypted_key=buf[s:stop],
    )


def _rek(buf: bytes, start: int, stop: int) -> structures.RecipientEncryptedKey:
    tag, s, pos = element(buf, start, stop)
    if tag == 0x30:
        rid = _issuer_and_serial(buf, s, pos)
    elif tag == 0xA0:
        # rKeyId [0] IMPLICIT RecipientKeyIdentifier with its subjectKeyIdentifier
        # only (date and other are read, and ignored, by the general reader).
        ski = buf[expect_last(buf, s, pos, 0x04) : pos]
        rid = structures.RecipientId(subject_key_identifier=ski)
    else:
        raise Decline
    s = expect_last(buf, pos, stop, 0x04)
    return structures.RecipientEncryptedKey(rid, buf[s:stop])


def recipient_infos(
    der: bytes, *, max_recipients: int
) -> tuple[structures.RecipientInfo, ...] | None:
    """RecipientInfos read on the fast path, or None (the caller asks the general
    reader, which also reports a count over ``max_recipients``)."""
    entries = recipient_entries(der, max_recipients=max_recipients)
    if entries is None:
        return None
    read = tuple(entry for entry in entries if not isinstance(entry, bytes))
    return read if len(read) == len(entries) else None


#: An entry of :func:`recipient_entries`: read, or its whole element (DER) left to
#: the general reader.
Entry = structures.RecipientInfo | bytes


def recipient_entries(der: bytes, *, max_recipients: int) -> tuple[Entry, ...] | None:
    """The entries of a plain-DER RecipientInfos SET, each read on the fast path or,
    where this module declines it, given back as its element's bytes; None when the
    SET itself is not plain DER, is empty, or holds more than ``max_recipients``
    entries (the general reader then reads the whole SET and decides)."""
    try:
        start = expect_last(der, 0, len(der), 0x31)
        stop = len(der)
        if start == stop:
            return None
        out: list[Entry] = []
        pos = start
        while pos < stop:
            if len(out) >= max_recipients:
                return None
            tag, s, e = element(der, pos, stop)
            try:
                if tag == 0x30:
                    out.append(_ktri(der, s, e))
                elif tag == 0xA1:
                    out.append(_kari(der, s, e))
                elif tag == 0xA4:
                    out.append(_kemri(der, s, e))
                else:
                    raise Decline
            except Decline:
                out.append(der[pos:e])
            pos = e
    except Decline:
        return None
    return tuple(out)


@functools.lru_cache(maxsize=256)
def _oid(der: bytes) -> str:
    """The dotted form of a short OBJECT IDENTIFIER element (two-octet header);
    memoized, as the same few come with every message."""
    content = der[2:]
    # X.690 §8.19.2: every subidentifier in the fewest octets, so never a leading
    # 0x80; the general reader refuses that form, and so it is declined here.
    if content[:1] == b"\x80" or _padded(content):
        raise Decline
    try:
        return decode_oid(content)
    except ASN1Error:
        raise Decline from None


def _padded(content: bytes) -> bool:
    """Whether a subidentifier after the first starts with 0x80."""
    return any(
        content[i] == 0x80 and not content[i - 1] & 0x80 for i in range(1, len(content))
    )


def algorithm_identifier(der: bytes) -> structures.AlgorithmIdentifier | None:
    """A generic AlgorithmIdentifier (parameters as raw DER), or None."""
    try:
        start = expect_last(der, 0, len(der), 0x30)
        stop = len(der)
        _, oid_stop = expect(der, start, stop, 0x06)
        if oid_stop - start > 40:
            return None
        algorithm = _oid(der[start:oid_stop])
        if oid_stop == stop:
            return structures.AlgorithmIdentifier(algorithm)
        tag, params_start, params_stop = element(der, oid_stop, stop)
        if params_stop != stop or tag not in _PARAMETER_TAGS:
            return None
        if tag == 0x05 and params_start != params_stop:
            return None  # NULL has no content
        return structures.AlgorithmIdentifier(algorithm, der[oid_stop:stop])
    except Decline:
        return None


_memo_algorithm = functools.lru_cache(maxsize=256)(algorithm_identifier)


def gcm_parameters(der: bytes) -> structures.GCMParameters | None:
    """GCMParameters with a 1-octet aes-ICVlen or none (DEFAULT 12), or None."""
    end = len(der)
    try:
        nonce_start, nonce_stop = expect(der, expect_last(der, 0, end, 0x30), end, 0x04)
        icv_len = 12
        if nonce_stop != end:
            icv_len = small_int(der, expect_last(der, nonce_stop, end, 0x02), end)
        return structures.GCMParameters(der[nonce_start:nonce_stop], icv_len)
    except Decline:
        return None


def oaep_parameters(der: bytes) -> structures.OAEPParameters | None:
    """RSAES-OAEP-params (RFC 4055 §4.1) with known hashes (their parameters
    absent or NULL), MGF1 and pSpecified, each field absent or present in order, or
    None."""
    if len(der) > _MEMO_MAX_BYTES:
        return None
    return _memo_oaep(der)


@functools.lru_cache(maxsize=64)
def _memo_oaep(der: bytes) -> structures.OAEPParameters | None:
    names = {0xA0: "sha1", 0xA1: "sha1"}
    label = b""
    end = len(der)
    try:
        pos = expect_last(der, 0, end, 0x30)
        last = 0
        while pos < end:
            tag, s, e = element(der, pos, end)
            if tag <= last or tag > 0xA2:
                return None
            last = tag
            expect_last(der, s, e, 0x30)
            alg = _read_algorithm(der[s:e])
            if tag == 0xA0:
                names[tag] = _hash_name(alg)
            elif tag == 0xA1:
                if alg.algorithm != oids.MGF1 or alg.parameters is None:
                    return None
                names[tag] = _hash_name(_read_algorithm(alg.parameters))
            else:
                params = alg.parameters
                if alg.algorithm != oids.P_SPECIFIED or params is None:
                    return None
                label = params[expect_last(params, 0, len(params), 0x04) :]
            pos = e
    except Decline:
        return None
    return structures.OAEPParameters(names[0xA0], names[0xA1], label)


def _hash_name(alg: structures.AlgorithmIdentifier) -> str:
    if (
        alg.parameters not in (None, b"\x05\x00")
        or alg.algorithm not in oids.HASH_NAMES
    ):
        raise Decline
    return oids.HASH_NAMES[alg.algorithm]
