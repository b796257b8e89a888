"""Post-quantum recipients: OpenPGP ML-KEM-768+X25519 (algorithm 35, RFC 9980) and
CMS ML-KEM-768 in KEMRecipientInfo (RFC 9629, RFC 9936), each against the same
primitives called with ``cryptography`` directly (:class:`_limits.PQWrap`), timed
right before and after each case (``extra_info["paired_limit"]``).

Case ids (report.py pairs each with its limit; ``fmt`` is ``openpgp`` or ``cms``):

- ``pq.{fmt}.wrap``: one recipient entry written (OpenPGP: the v6 PKESK body,
  ``openpgp/pkesk.py``; CMS: the KEMRecipientInfo DER, ``cms/templates.py``), against
  ML-KEM-768 encapsulation (+ an ephemeral X25519 key and exchange for OpenPGP) +
  the KDF (the SHA3-256 combiner; HKDF-SHA256) + AES-256 key wrap;
- ``pq.{fmt}.unwrap``: that entry, parsed beforehand (the limit gets its fields
  too), opened with the recipient's key, against decapsulation (+ X25519) + KDF +
  AES key unwrap;
- ``pq.{fmt}.encrypt.1KiB.r{1,100}``: ``e2ee_mail.encrypt`` of 1 KiB to 1 and to 100
  ML-KEM recipients (100 distinct keys), against one fresh content key wrapped that
  many times + AES-256-GCM of the 1 KiB;
- ``pq.{fmt}.decrypt.1KiB``: ``e2ee_mail.decrypt`` of it (one recipient), against
  one unwrap + AES-256-GCM open;
- ``pq.{fmt}.x25519.encrypt.1KiB``: the same 1 KiB to one X25519 recipient (no
  limit: the classic reference, and the size of an X25519 entry).

Every encrypt case records ``entry_bytes``: the octets one more recipient adds to
the message (measured as (size with 2 recipients - size with 1)), for the size
table of report.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from _bench import KIB, Keys, Measure, call_or_skip, payload, require_format
from _limits import KEM_OTHER_INFO, PQ_OPENPGP_ALGORITHM, PQWrap, pq_decrypt, pq_encrypt

import e2ee_mail

#: fmt -> (key format, post-quantum key kind for the keygen of the key cache)
FORMATS: dict[str, tuple[str, str]] = {
    "openpgp": ("openpgp", "mlkem768-x25519"),
    "cms": ("x509", "mlkem768"),
}
#: Goal of every PQ case with a limit: at most this times the primitives.
GOAL = 1.2


def _entry_bytes(fmt: str, certs: list[Any]) -> int:
    """What one more recipient adds to a message to ``certs[0]``."""
    data = payload(KIB)
    one = len(e2ee_mail.encrypt(data, certs[:1], format=fmt))  # type: ignore[arg-type]
    two = len(e2ee_mail.encrypt(data, certs[:2], format=fmt))  # type: ignore[arg-type]
    return two - one


def _check_limit_matches_library() -> None:
    """The limit computes what the library does (same KDF inputs), or it is no
    limit of it."""
    from e2ee_mail.cms import asn1, kemri
    from e2ee_mail.core import mlkem

    assert asn1.serialize_kem_other_info(kemri._WRAP, 32, None) == KEM_OTHER_INFO
    assert mlkem.ALGORITHM_ID == PQ_OPENPGP_ALGORITHM


class _Entry:
    """One PQ recipient's key and an entry written for it, through the library's
    composers (below the public API, above ``core``)."""

    def __init__(self, fmt: str, keys: Keys) -> None:
        key_format, kind = FORMATS[fmt]
        self.fmt = fmt
        self.secret: Any = keys.secret(key_format, kind, 0)
        self.cert: Any = keys.cert(key_format, kind, 0)
        self.cek = os.urandom(32)
        if fmt == "openpgp":
            from e2ee_mail.openpgp import pkesk
            from e2ee_mail.openpgp.packets.pkesk import parse_pkesk

            info = self.cert.encryption_key()
            assert info.packet.algorithm == PQ_OPENPGP_ALGORITHM
            (private,) = [p for i, p in self.secret.decryption_keys() if i == info]
            self.wrap: Callable[[], bytes] = lambda: pkesk.wrap_v6_body(self.cek, info)
            packet = parse_pkesk(self.wrap())
            self.unwrap: Callable[[], bytes] = lambda: pkesk.unwrap(
                packet, private, info
            )[1]
        else:
            from e2ee_mail.cms import asn1, recipients, templates
            from e2ee_mail.policy import DEFAULT

            self.wrap = lambda: templates.wrap_der(self.cert, self.cek, policy=DEFAULT)
            (parsed,) = asn1.parse_recipient_infos(
                asn1.set_of([self.wrap()]), max_recipients=1
            )
            self.unwrap = lambda: recipients.unwrap(parsed, 0, self.secret)
        assert self.unwrap() == self.cek
        self.size = len(self.wrap())


_ENTRIES: dict[str, _Entry] = {}


def _entry(fmt: str, keys: Keys) -> _Entry:
    require_format(fmt)
    if fmt not in _ENTRIES:
        _check_limit_matches_library()
        _ENTRIES[fmt] = call_or_skip(fmt, lambda: _Entry(fmt, keys))
    return _ENTRIES[fmt]


@pytest.mark.parametrize("op", ["wrap", "unwrap"])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_pq_entry(measure: Measure, keys: Keys, fmt: str, op: str) -> None:
    entry = _entry(fmt, keys)
    limit = PQWrap(fmt)
    fields = limit.wrap(entry.cek)
    assert limit.unwrap(fields) == entry.cek
    if op == "wrap":
        ours: Callable[[], object] = entry.wrap
        paired: Callable[[], object] = lambda: limit.wrap(entry.cek)  # noqa: E731
    else:
        ours = entry.unwrap
        paired = lambda: limit.unwrap(fields)  # noqa: E731
    out = measure(
        ours,
        case=f"pq.{fmt}.{op}",
        group=f"pq {op}",
        nbytes=32,
        paired=paired,
        format=fmt,
        op=op,
        entry_bytes=entry.size,
    )
    if op == "unwrap":
        assert out == entry.cek


@pytest.mark.parametrize("count", [1, 100])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_pq_encrypt(measure: Measure, keys: Keys, fmt: str, count: int) -> None:
    require_format(fmt)
    key_format, kind = FORMATS[fmt]
    certs = call_or_skip(fmt, lambda: keys.certs(key_format, kind, max(count, 2)))
    data = payload(KIB)
    to = certs[:count]

    def encrypt() -> bytearray:
        return e2ee_mail.encrypt(data, to, format=fmt)  # type: ignore[arg-type]

    sealed = call_or_skip(fmt, encrypt)
    found = e2ee_mail.inspect(bytes(sealed)).recipients
    assert len(found) == count
    assert all(r.algorithm.startswith("mlkem768") for r in found)
    wraps = [PQWrap(fmt) for _ in range(count)]
    out = measure(
        encrypt,
        case=f"pq.{fmt}.encrypt.1KiB.r{count}",
        group=f"pq encrypt 1KiB r{count}",
        nbytes=KIB,
        paired=lambda: pq_encrypt(wraps, data),
        format=fmt,
        recipients=count,
        entry_bytes=_entry_bytes(fmt, certs),
        message_bytes=len(sealed),
    )
    last = keys.secret(key_format, kind, count - 1)
    assert e2ee_mail.decrypt(bytes(out), last) == data


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_pq_decrypt(measure: Measure, keys: Keys, fmt: str) -> None:
    require_format(fmt)
    key_format, kind = FORMATS[fmt]
    secret = call_or_skip(fmt, lambda: keys.secret(key_format, kind, 0))
    data = payload(KIB)
    # Received mail arrives as bytes (a file, a socket): decrypt is fed bytes.
    sealed = bytes(e2ee_mail.encrypt(data, secret.public, format=fmt))  # type: ignore[arg-type]
    out = measure(
        lambda: e2ee_mail.decrypt(sealed, secret),
        case=f"pq.{fmt}.decrypt.1KiB",
        group="pq decrypt 1KiB",
        nbytes=KIB,
        paired=pq_decrypt(PQWrap(fmt), data),
        format=fmt,
    )
    assert out == data


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_x25519_reference(measure: Measure, keys: Keys, fmt: str) -> None:
    require_format(fmt)
    key_format = FORMATS[fmt][0]
    certs = call_or_skip(fmt, lambda: keys.certs(key_format, "x25519", 2))
    data = payload(KIB)
    out = measure(
        lambda: e2ee_mail.encrypt(data, certs[:1], format=fmt),  # type: ignore[arg-type]
        case=f"pq.{fmt}.x25519.encrypt.1KiB",
        group="pq encrypt 1KiB r1",
        nbytes=KIB,
        format=fmt,
        recipients=1,
        entry_bytes=_entry_bytes(fmt, certs),
        message_bytes=len(e2ee_mail.encrypt(data, certs[:1], format=fmt)),  # type: ignore[arg-type]
    )
    assert e2ee_mail.decrypt(bytes(out), keys.secret(key_format, "x25519", 0)) == data
