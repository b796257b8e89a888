"""Small-order Curve25519 points (RFC 7748 §6.1: check for the all-zero shared
secret) in every place an attacker controls one: the CMS originator key (RFC 8418),
the PKESKv6 X25519 ephemeral (RFC 9580 §5.1.6), the v4 ECDH ephemeral MPI (RFC 6637),
and a recipient certificate's key. Each is a library error, never a ValueError from
the primitive and never a key derived from a predictable secret."""

from __future__ import annotations

import pytest
import strategies as s

import e2ee_mail
from e2ee_mail.errors import DECRYPTION_FAILED

POINTS = list(enumerate(s.LOW_ORDER_X25519))


def _fixed_error(data: bytes, key: e2ee_mail.SecretKey) -> None:
    with pytest.raises(e2ee_mail.Error) as exc:
        e2ee_mail.decrypt(data, key)
    assert isinstance(exc.value, e2ee_mail.DecryptionError | e2ee_mail.FormatError)
    if isinstance(exc.value, e2ee_mail.DecryptionError):
        assert str(exc.value) == DECRYPTION_FAILED


@pytest.mark.parametrize(("i", "point"), POINTS)
def test_cms_originator_key_of_small_order_fails_closed(i: int, point: bytes) -> None:
    env = s.envelope("cms-x25519-der")
    root = s.parse_der(env.binary)
    bits = [
        n for _, n in s.der_nodes(root) if n.tag == b"\x03" and len(n.content) == 33
    ]
    assert len(bits) == 1
    bits[0].content = b"\x00" + point
    _fixed_error(root.encode(), env.key)


def _pkesk_with_point(binary: bytes, point: bytes) -> bytes:
    spans = s.pgp_spans(binary)
    packets = [(sp.tag, bytearray(binary[sp.body : sp.end])) for sp in spans]
    body = packets[0][1]
    algo_at = 9 if body[0] == 3 else 2 + body[1]
    if body[algo_at] == 25:
        body[algo_at + 1 : algo_at + 33] = point
    else:
        assert body[algo_at] == 18 and body[algo_at + 3] == 0x40
        body[algo_at + 4 : algo_at + 36] = point
    return b"".join(s.pgp_packet(t, bytes(b)) for t, b in packets)


@pytest.mark.parametrize(("i", "point"), POINTS)
@pytest.mark.parametrize("name", ["pgp6-x25519-gcm", "pgp4-ecdh-seipdv1"])
def test_openpgp_ephemeral_of_small_order_fails_closed(
    name: str, i: int, point: bytes
) -> None:
    env = s.envelope(name)
    _fixed_error(_pkesk_with_point(env.binary, point), env.key)


@pytest.mark.parametrize(("i", "point"), POINTS)
def test_x509_recipient_certificate_with_a_small_order_key_is_refused(
    i: int, point: bytes
) -> None:
    der = s.keys().x509_x25519.public.export(armor=False)
    root = s.parse_der(bytes(der))
    bits = [
        n for _, n in s.der_nodes(root) if n.tag == b"\x03" and len(n.content) == 33
    ]
    assert len(bits) == 1  # the SubjectPublicKeyInfo key
    bits[0].content = b"\x00" + point
    try:
        cert = e2ee_mail.load_certificate(root.encode())
    except e2ee_mail.Error:
        return
    with pytest.raises(e2ee_mail.Error):
        e2ee_mail.encrypt(b"hello", cert, format="cms")
