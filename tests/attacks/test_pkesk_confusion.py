"""PKESK algorithm confusion, v3/v6 swaps, container downgrades, and key-ID spoofing
(OpenPGP) plus recipient-identifier spoofing (CMS). Each must fail closed: an
e2ee_mail.Error, never another key's plaintext."""

from __future__ import annotations

import functools

import pytest
import strategies as s

import e2ee_mail
from e2ee_mail.errors import DECRYPTION_FAILED
from e2ee_mail.openpgp.recipients import recipient_key
from e2ee_mail.policy import DEFAULT


def _info(key: e2ee_mail.SecretKey):  # type: ignore[no-untyped-def]
    return recipient_key(key.public, DEFAULT)  # type: ignore[arg-type]


@functools.cache
def _others() -> dict[str, e2ee_mail.SecretKey]:
    g = e2ee_mail.generate_key
    return {
        "pgp4_ecdh": g("Eve4 <eve4@example.org>", profile="rfc4880"),
        "pgp4_rsa": g("Eve4r <eve4r@example.org>", kind="rsa3072", profile="rfc4880"),
        "pgp6_rsa": g("Eve6r <eve6r@example.org>", kind="rsa3072"),
        "x509_rsa": g("Eve <eve@example.org>", format="x509", kind="rsa3072"),
    }


def _packets(binary: bytes) -> list[tuple[int, bytes]]:
    return [(sp.tag, binary[sp.body : sp.end]) for sp in s.pgp_spans(binary)]


def _join(packets: list[tuple[int, bytes]]) -> bytes:
    return b"".join(s.pgp_packet(t, b) for t, b in packets)


def _rename_v6(body: bytes, key: e2ee_mail.SecretKey) -> bytes:
    """A PKESKv6 body re-addressed to ``key``'s encryption subkey (material kept)."""
    info = _info(key)
    old_len = body[1]
    new_id = bytes([info.packet.version]) + info.fingerprint
    return b"\x06" + bytes([len(new_id)]) + new_id + body[2 + old_len :]


def _rename_v3(body: bytes, key: e2ee_mail.SecretKey) -> bytes:
    return b"\x03" + _info(key).key_id + body[9:]


def _refused(data: bytes, key: e2ee_mail.SecretKey) -> e2ee_mail.Error:
    with pytest.raises(e2ee_mail.Error) as exc:
        e2ee_mail.decrypt(data, key)
    assert isinstance(
        exc.value,
        e2ee_mail.DecryptionError
        | e2ee_mail.NoMatchingKeyError
        | e2ee_mail.FormatError
        | e2ee_mail.UnsupportedError,
    )
    return exc.value


# ------------------------------------------------------------ algorithm confusion


def test_x25519_pkesk_presented_to_an_rsa_key_is_decryption_error() -> None:
    env = s.envelope("pgp6-x25519-gcm")
    k = s.keys()
    packets = _packets(env.binary)
    packets[0] = (1, _rename_v6(packets[0][1], k.pgp6_rsa))
    err = _refused(_join(packets), k.pgp6_rsa)
    assert isinstance(err, e2ee_mail.DecryptionError)
    assert str(err) == DECRYPTION_FAILED


def test_x25519_material_relabelled_as_rsa_is_decryption_error() -> None:
    env = s.envelope("pgp6-x25519-gcm")
    k = s.keys()
    packets = _packets(env.binary)
    body = bytearray(_rename_v6(packets[0][1], k.pgp6_rsa))
    body[2 + body[1]] = 1  # algorithm: RSA, fields still X25519's
    packets[0] = (1, bytes(body))
    err = _refused(_join(packets), k.pgp6_rsa)
    assert isinstance(err, e2ee_mail.DecryptionError | e2ee_mail.FormatError)


def test_rsa_pkesk_presented_to_an_x25519_key_is_decryption_error() -> None:
    env = s.envelope("pgp6-rsa-gcm")
    k = s.keys()
    packets = _packets(env.binary)
    packets[0] = (1, _rename_v6(packets[0][1], k.pgp6_x25519))
    err = _refused(_join(packets), k.pgp6_x25519)
    assert isinstance(err, e2ee_mail.DecryptionError)


def test_ecdh_v3_pkesk_presented_to_an_rsa_v4_key_is_decryption_error() -> None:
    env = s.envelope("pgp4-ecdh-seipdv1")
    k = s.keys()
    packets = _packets(env.binary)
    packets[0] = (1, _rename_v3(packets[0][1], k.pgp4_rsa))
    err = _refused(_join(packets), k.pgp4_rsa)
    assert isinstance(err, e2ee_mail.DecryptionError)


# ------------------------------------------------------- v3/v6 swaps, downgrades


def test_v3_pkesk_in_front_of_seipdv2_does_not_open() -> None:
    """A v3 PKESK carrying the right session key must not unlock a SEIPDv2 packet
    (RFC 9580 §5.1: v3 PKESKs go with v1 SEIPD, v6 with v2)."""
    import os

    k = s.keys()
    sk = os.urandom(32)
    v2 = s.build_seipdv2(k.pgp6_x25519, s.literal_packet(s.PLAINTEXT), session_key=sk)
    packets = _packets(v2)
    mixed = s.v3_pkesk(k.pgp6_x25519, sk) + _join(packets[1:])
    _refused(mixed, k.pgp6_x25519)


def test_v6_pkesk_in_front_of_seipdv1_does_not_open() -> None:
    k = s.keys()
    env = s.envelope("pgp4-ecdh-seipdv1")
    v6 = _packets(s.envelope("pgp6-x25519-gcm").binary)[0]
    packets = _packets(env.binary)
    _refused(_join([v6, *packets[1:]]), k.pgp6_x25519)


@pytest.mark.parametrize("name", ["pgp6-x25519-gcm", "pgp6-rsa-gcm", "pgp6-x25519-ocb"])
def test_seipdv2_header_rewritten_as_v1_fails_closed(name: str) -> None:
    env = s.envelope(name)
    packets = _packets(env.binary)
    tag, body = packets[-1]
    packets[-1] = (tag, b"\x01" + body[1:])
    _refused(_join(packets), env.key)
    packets[-1] = (tag, b"\x01" + body[4:])  # the v2 header fields dropped too
    _refused(_join(packets), env.key)


@pytest.mark.parametrize("name", ["pgp6-x25519-gcm", "pgp6-rsa-gcm"])
def test_pkesk_version_rewritten_v6_to_v3_fails_closed(name: str) -> None:
    env = s.envelope(name)
    packets = _packets(env.binary)
    packets[0] = (1, b"\x03" + packets[0][1][1:])
    _refused(_join(packets), env.key)


@pytest.mark.parametrize("name", ["pgp4-ecdh-seipdv1", "pgp4-rsa-seipdv1"])
def test_seipdv1_rewritten_as_v2_fails_closed(name: str) -> None:
    env = s.envelope(name)
    packets = _packets(env.binary)
    tag, body = packets[-1]
    packets[-1] = (tag, b"\x02\x09\x03\x00" + body[1:])
    _refused(_join(packets), env.key)


# ------------------------------------------------------------- key-ID spoofing


@pytest.mark.parametrize(
    ("ours", "env_for_other"),
    [("pgp4_ecdh", "pgp4_ecdh"), ("pgp4_rsa", "pgp4_rsa")],
)
def test_v3_pkesk_naming_our_key_id_but_made_for_another_key(
    ours: str, env_for_other: str
) -> None:
    key = getattr(s.keys(), ours)
    other = _others()[env_for_other]
    msg = bytes(e2ee_mail.encrypt(s.PLAINTEXT, other.public))
    packets = _packets(msg)
    packets[0] = (1, _rename_v3(packets[0][1], key))
    err = _refused(_join(packets), key)
    assert isinstance(err, e2ee_mail.DecryptionError)
    assert str(err) == DECRYPTION_FAILED


@pytest.mark.parametrize("ours", ["pgp6_x25519", "pgp6_rsa"])
def test_v6_pkesk_naming_our_fingerprint_but_made_for_another_key(ours: str) -> None:
    key = getattr(s.keys(), ours)
    other = s.keys().other_pgp6 if ours == "pgp6_x25519" else _others()["pgp6_rsa"]
    msg = bytes(e2ee_mail.encrypt(s.PLAINTEXT, other.public))
    packets = _packets(msg)
    packets[0] = (1, _rename_v6(packets[0][1], key))
    err = _refused(_join(packets), key)
    assert isinstance(err, e2ee_mail.DecryptionError)


def test_anonymous_pkesk_made_for_another_key_does_not_open() -> None:
    key = s.keys().pgp4_ecdh
    msg = bytes(e2ee_mail.encrypt(s.PLAINTEXT, _others()["pgp4_ecdh"].public))
    packets = _packets(msg)
    packets[0] = (1, b"\x03" + bytes(8) + packets[0][1][9:])
    _refused(_join(packets), key)


def test_spoofed_pkesk_before_the_genuine_one_still_opens_only_to_the_original() -> (
    None
):
    """A forged entry naming us first must not stop (or change) the genuine one."""
    key = s.keys().pgp6_x25519
    env = s.envelope("pgp6-x25519-gcm")
    forged = _packets(bytes(e2ee_mail.encrypt(b"forged", s.keys().other_pgp6.public)))
    forged_pkesk = (1, _rename_v6(forged[0][1], key))
    packets = _packets(env.binary)
    data = _join([forged_pkesk, *packets])
    try:
        out = e2ee_mail.decrypt(data, key)
    except e2ee_mail.DecryptionError:
        return
    assert out == s.PLAINTEXT


def _swap_cms_rid(victim: bytes, ours: bytes) -> bytes:
    """Put ``ours``'s recipient identifier on ``victim``'s single recipient entry."""
    v, o = s.parse_der(victim), s.parse_der(ours)

    def rid_holders(root: s.Node) -> list[s.Node]:
        # KeyTransRecipientInfo: SEQUENCE { version INTEGER, rid, alg, OCTET STRING };
        # RecipientEncryptedKey: SEQUENCE { rid, OCTET STRING (wrapped key) }.
        out = []
        for _, n in s.der_nodes(root):
            ch = n.children
            if n.tag != b"\x30" or not ch:
                continue
            if (
                len(ch) == 4
                and ch[0].tag == b"\x02"
                and ch[1].tag != b"\x31"
                and ch[3].tag == b"\x04"
            ) or (len(ch) == 2 and ch[1].tag == b"\x04" and len(ch[1].content) == 40):
                out.append(n)
        return out

    vh, oh = rid_holders(v), rid_holders(o)
    assert len(vh) == 1 and len(oh) == 1
    assert vh[0].children is not None and oh[0].children is not None
    idx = 1 if len(vh[0].children) == 4 else 0
    vh[0].children[idx] = oh[0].children[idx]
    return v.encode()


@pytest.mark.parametrize("kind", ["x509_rsa", "x509_x25519"])
def test_cms_recipient_naming_our_certificate_but_made_for_another_key(
    kind: str,
) -> None:
    key = getattr(s.keys(), kind)
    other = _others()["x509_rsa"] if kind == "x509_rsa" else s.keys().other_x509
    victim = bytes(e2ee_mail.encrypt(b"for eve only", other.public, format="cms"))
    ours = bytes(e2ee_mail.encrypt(s.PLAINTEXT, key.public, format="cms"))
    spoofed = _swap_cms_rid(victim, ours)
    err = _refused(spoofed, key)
    assert isinstance(err, e2ee_mail.DecryptionError)
    assert str(err) == DECRYPTION_FAILED
