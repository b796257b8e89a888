"""The v4 building blocks against real GnuPG 2.2 output, packet by packet.

GnuPG makes the keys and the messages; this test parses the few packet fields it needs
itself (independently of the library's packet codecs) and checks that:

* keyprotect.unprotect recovers the secret material of keys gpg exports, with and
  without a passphrase (S2K usage 254, iterated+salted S2K) — the recovered secret
  must reproduce the public key;
* core/ecdh unwraps gpg's ECDH (Curve25519Legacy) PKESK v3 and core/rsa gpg's RSA
  PKCS#1 v1.5 PKESK to exactly the session key ``gpg --show-session-key`` reveals;
* core/cfb opens gpg's SEIPDv1 body with that key, and openpgp/compression inflates
  gpg's default (compressed) output, down to the literal data.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric import x25519 as X
from gpg import GpgHome, gpg_home, split_packets
from peers import require_peer

from e2ee_mail.core import cfb, ecdh
from e2ee_mail.core import rsa as core_rsa
from e2ee_mail.core import x25519 as core_x25519
from e2ee_mail.core.x25519 import public_bytes
from e2ee_mail.errors import PassphraseError
from e2ee_mail.openpgp import compression, keyprotect

pytestmark = pytest.mark.interop

_HASH = {8: "sha256", 9: "sha384", 10: "sha512"}
_KEK = {7: 16, 8: 24, 9: 32}


def _mpi(buf: bytes, pos: int) -> tuple[bytes, int]:
    bits = int.from_bytes(buf[pos : pos + 2], "big")
    n = (bits + 7) // 8
    return buf[pos + 2 : pos + 2 + n], pos + 2 + n


def _public_fields(body: bytes) -> tuple[int, dict[str, bytes], int]:
    """(algorithm, fields, end of public part) of a v4 key packet body."""
    assert body[0] == 4
    algo = body[5]
    pos = 6
    fields: dict[str, bytes] = {}
    if algo in (18, 22):
        n = body[pos]
        fields["oid"] = body[pos + 1 : pos + 1 + n]
        pos += 1 + n
        fields["point"], pos = _mpi(body, pos)
        if algo == 18:
            n = body[pos]
            fields["kdf"] = body[pos + 1 : pos + 1 + n]
            pos += 1 + n
    elif algo == 1:
        fields["n"], pos = _mpi(body, pos)
        fields["e"], pos = _mpi(body, pos)
    return algo, fields, pos


def _fingerprint(public_body: bytes) -> bytes:
    return hashlib.sha1(
        b"\x99" + len(public_body).to_bytes(2, "big") + public_body
    ).digest()


def _secret_subkey(
    exported: bytes, passphrase: bytes | None
) -> tuple[int, dict[str, bytes], bytes, bytes]:
    """(algo, public fields, fingerprint, cleartext secret material) of the first
    secret subkey (packet tag 7)."""
    body = next(b for tag, b in split_packets(exported) if tag == 7)
    algo, fields, end = _public_fields(body)
    prot, off = keyprotect.parse_protection(body, end, version=4)
    material = keyprotect.unprotect(
        prot,
        body[off:],
        passphrase,
        version=4,
        packet_tag=7,
        public_body=body[:end],
    )
    return algo, fields, _fingerprint(body[:end]), material


def _literal(plain_packets: bytes) -> bytes:
    packets = split_packets(plain_packets)
    tag, body = packets[0]
    if tag == 8:  # Compressed Data: inflate, bounded, and look inside
        inner = compression.decompress(body[0], body[1:], 1 << 26)
        return _literal(inner)
    assert tag == 11, f"expected literal data, got packet {tag}"
    name_len = body[1]
    return body[2 + name_len + 4 :]


def _open_message(
    message: bytes, algo: int, fields: dict[str, bytes], fpr: bytes, material: bytes
) -> tuple[bytes, bytes]:
    """(session key, literal data) of a gpg message, using only our building blocks."""
    packets = split_packets(message)
    pkesk = next(b for tag, b in packets if tag == 1)
    assert pkesk[0] == 3 and pkesk[9] == algo
    if algo == 18:
        secret, _ = _mpi(material, 0)
        private = X.X25519PrivateKey.from_private_bytes(
            ecdh.legacy_secret_to_native(secret)
        )
        assert ecdh.encode_point(public_bytes(private)) == fields["point"]
        eph_point, pos = _mpi(pkesk, 10)
        wrapped = pkesk[pos + 1 : pos + 1 + pkesk[pos]]
        kdf = fields["kdf"]
        param = ecdh.ecdh_param(fields["oid"], 18, kdf[1], kdf[2], fpr)
        payload = ecdh.unwrap_shared(
            core_x25519.agree(private, ecdh.decode_point(eph_point)),
            param,
            wrapped,
            hash_name=_HASH[kdf[1]],
            kek_size=_KEK[kdf[2]],
        )
    else:
        d, pos = _mpi(material, 0)
        p, pos = _mpi(material, pos)
        q, pos = _mpi(material, pos)
        n, e = int.from_bytes(fields["n"], "big"), int.from_bytes(fields["e"], "big")
        di, pi, qi = (int.from_bytes(x, "big") for x in (d, p, q))
        private_rsa = rsa.RSAPrivateNumbers(
            pi,
            qi,
            di,
            rsa.rsa_crt_dmp1(di, pi),
            rsa.rsa_crt_dmq1(di, qi),
            rsa.rsa_crt_iqmp(pi, qi),
            rsa.RSAPublicNumbers(e, n),
        ).private_key()
        c, _ = _mpi(pkesk, 10)
        k = (n.bit_length() + 7) // 8
        payload = core_rsa.decrypt_pkcs1v15(private_rsa, c.rjust(k, b"\x00"))
    session_key, check = payload[1:-2], payload[-2:]
    assert sum(session_key) & 0xFFFF == int.from_bytes(check, "big")
    seipd = next(b for tag, b in packets if tag == 18)
    assert seipd[0] == 1
    return session_key, _literal(cfb.cfb_open(session_key, seipd[1:]))


@pytest.fixture(scope="module")
def home() -> GpgHome:
    require_peer("gpg")
    with gpg_home() as h:
        yield h  # type: ignore[misc]


BODY = b"Interop body, line 1\nline 2\n" * 200


@pytest.mark.parametrize("kind", ["cv25519", "rsa3072"])
@pytest.mark.parametrize("passphrase", ["", "s3cret pass"])
@pytest.mark.parametrize("compress", [True, False])
def test_gpg_message_opens_with_our_building_blocks(
    home: GpgHome, kind: str, passphrase: str, compress: bool
) -> None:
    uid = f"{kind} {len(passphrase)} <{kind}{len(passphrase)}@example.org>"
    fprs = home.fingerprints(uid) if _exists(home, uid) else []
    fpr = fprs[0] if fprs else home.generate(uid, kind, passphrase=passphrase)
    exported = home.export_secret(fpr, passphrase=passphrase, armor=False)
    algo, fields, sub_fpr, material = _secret_subkey(
        exported, passphrase.encode() if passphrase else None
    )
    assert sub_fpr.hex().upper() in home.subkey_fingerprints(fpr)
    extra = () if compress else ("--compress-algo", "none")
    message = home.encrypt(BODY, [fpr], extra=extra)
    session_key, literal = _open_message(message, algo, fields, sub_fpr, material)
    assert literal == BODY
    cipher_id, gpg_key = home.session_key(message, passphrase=passphrase)
    assert gpg_key == session_key
    assert cipher_id == 9  # AES-256 from gpg's own preferences


def _exists(home: GpgHome, uid: str) -> bool:
    return home.run(["--list-keys", uid], check=False).returncode == 0


def test_gpg_protected_key_with_wrong_passphrase_is_a_passphrase_error(
    home: GpgHome,
) -> None:
    uid = "Wrong <wrong@example.org>"
    fpr = home.generate(uid, "cv25519", passphrase="right")
    exported = home.export_secret(fpr, passphrase="right", armor=False)
    with pytest.raises(PassphraseError):
        _secret_subkey(exported, b"wrong")
    with pytest.raises(PassphraseError):
        _secret_subkey(exported, None)
