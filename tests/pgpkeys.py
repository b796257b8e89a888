"""Build v4 OpenPGP certificates of any signing algorithm, for tests.

The signatures are made here with `cryptography` directly (digest of the signed data
and the RFC 9580 §5.2.4 trailer, then the algorithm's own signing call), not with the
library's signing code, so a certificate checks the library's verification against
an independent signer. Used for the algorithms no installed peer makes keys with,
and for tampered or edge-case subkeys (bad binding, expired, revoked, unknown
algorithm) that no peer writes on purpose.
"""

from __future__ import annotations

import dataclasses
import hashlib
import warnings
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
)
from cryptography.utils import CryptographyDeprecationWarning

from e2ee_mail.openpgp.packets import (
    OID_ED25519_LEGACY,
    TAG_PUBLIC_KEY,
    TAG_PUBLIC_SUBKEY,
    TAG_SIGNATURE,
    TAG_USER_ID,
)
from e2ee_mail.openpgp.packets.header import serialize_packet
from e2ee_mail.openpgp.packets.keys import (
    PublicKeyPacket,
    fingerprint,
    key_hash_prefix,
    serialize_public_key,
)
from e2ee_mail.openpgp.packets.signature import (
    SIG_POSITIVE_CERT,
    SIG_SUBKEY_BINDING,
    SP_CREATION_TIME,
    SP_ISSUER_FINGERPRINT,
    SP_KEY_EXPIRATION,
    SP_KEY_FLAGS,
    SignaturePacket,
    Subpacket,
    serialize_signature,
    serialize_subpackets,
    signature_trailer,
)
from e2ee_mail.openpgp.packets.wire import encode_mpi

CREATED = 1_700_000_000
#: Curve OIDs (RFC 9580 §9.2) of the ECDSA curves the tests use.
CURVE_OIDS = {
    "secp256r1": bytes.fromhex("2a8648ce3d030107"),
    "secp384r1": bytes.fromhex("2b81040022"),
    "secp521r1": bytes.fromhex("2b81040023"),
    "brainpoolP256r1": bytes.fromhex("2b2403030208010107"),
    "brainpoolP384r1": bytes.fromhex("2b240303020801010b"),
    "brainpoolP512r1": bytes.fromhex("2b240303020801010d"),
}
_CURVES = {
    "secp256r1": ec.SECP256R1(),
    "secp384r1": ec.SECP384R1(),
    "secp521r1": ec.SECP521R1(),
    "brainpoolP256r1": ec.BrainpoolP256R1(),
    "brainpoolP384r1": ec.BrainpoolP384R1(),
    "brainpoolP512r1": ec.BrainpoolP512R1(),
}


@dataclasses.dataclass
class Signer:
    """A primary key: its packet and how it signs a digest."""

    packet: PublicKeyPacket
    sign: Callable[[bytes], bytes]


def _mpis(*values: int) -> bytes:
    return b"".join(encode_mpi(v) for v in values)


def make_signer(kind: str) -> Signer:
    """A fresh primary key of ``kind``: "ed25519", "eddsa-legacy", "ed448", "rsa",
    "dsa" or "ecdsa-<curve>" (a name of CURVE_OIDS)."""
    if kind == "ed25519":
        e_key = ed25519.Ed25519PrivateKey.generate()
        raw = e_key.public_key().public_bytes_raw()
        return Signer(PublicKeyPacket(4, CREATED, 27, raw), e_key.sign)
    if kind == "eddsa-legacy":
        l_key = ed25519.Ed25519PrivateKey.generate()
        point = b"\x40" + l_key.public_key().public_bytes_raw()
        material = bytes([len(OID_ED25519_LEGACY)]) + OID_ED25519_LEGACY
        material += encode_mpi(point)

        def legacy(digest: bytes) -> bytes:
            raw = l_key.sign(digest)
            return encode_mpi(raw[:32]) + encode_mpi(raw[32:])

        return Signer(PublicKeyPacket(4, CREATED, 22, material), legacy)
    if kind == "ed448":
        x_key = ed448.Ed448PrivateKey.generate()
        raw = x_key.public_key().public_bytes_raw()
        return Signer(PublicKeyPacket(4, CREATED, 28, raw), x_key.sign)
    if kind == "rsa":
        r_key = rsa.generate_private_key(65537, 2048)
        nums = r_key.public_key().public_numbers()

        def rsa_sign(digest: bytes) -> bytes:
            pre = Prehashed(hashes.SHA256())
            return encode_mpi(r_key.sign(digest, padding.PKCS1v15(), pre))

        return Signer(PublicKeyPacket(4, CREATED, 1, _mpis(nums.n, nums.e)), rsa_sign)
    if kind == "dsa":
        # cryptography 51 deprecates DSA; the tests still need DSA keys to check
        # that the DSA keys people have load.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            from cryptography.hazmat.primitives.asymmetric import dsa

            d_key = dsa.generate_private_key(2048)
            dnums = d_key.public_key().public_numbers()
        params = dnums.parameter_numbers

        def dsa_sign(digest: bytes) -> bytes:
            der = d_key.sign(digest, Prehashed(hashes.SHA256()))
            return _mpis(*decode_dss_signature(der))

        material = _mpis(params.p, params.q, params.g, dnums.y)
        return Signer(PublicKeyPacket(4, CREATED, 17, material), dsa_sign)
    if kind.startswith("ecdsa-"):
        name = kind.removeprefix("ecdsa-")
        c_key = ec.generate_private_key(_CURVES[name])
        numbers = c_key.public_key().public_numbers()
        size = (c_key.curve.key_size + 7) // 8
        encoded = (
            b"\x04" + numbers.x.to_bytes(size, "big") + numbers.y.to_bytes(size, "big")
        )
        oid = CURVE_OIDS[name]
        material = bytes([len(oid)]) + oid + encode_mpi(encoded)

        def ec_sign(digest: bytes) -> bytes:
            der = c_key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
            return _mpis(*decode_dss_signature(der))

        return Signer(PublicKeyPacket(4, CREATED, 19, material), ec_sign)
    raise ValueError(kind)


def sign(
    signer: Signer,
    sig_type: int,
    data: bytes,
    subpackets: Sequence[Subpacket] = (),
    *,
    created: int = CREATED,
) -> SignaturePacket:
    """A v4 signature by ``signer`` over ``data`` with SHA2-256."""
    hashed = [
        Subpacket(SP_CREATION_TIME, created.to_bytes(4, "big")),
        *subpackets,
        Subpacket(SP_ISSUER_FINGERPRINT, b"\x04" + fingerprint(signer.packet)),
    ]
    draft = SignaturePacket(
        4,
        sig_type,
        signer.packet.algorithm,
        8,
        serialize_subpackets(hashed),
        b"",
        b"\0\0",
        b"",
        b"",
    )
    digest = hashlib.sha256(data + signature_trailer(draft)).digest()
    return draft.replace(left16=digest[:2], material=signer.sign(digest))


def uid_data(primary: PublicKeyPacket, uid: bytes) -> bytes:
    return key_hash_prefix(primary) + b"\xb4" + len(uid).to_bytes(4, "big") + uid


def subkey_data(primary: PublicKeyPacket, sub: PublicKeyPacket) -> bytes:
    return key_hash_prefix(primary) + key_hash_prefix(sub)


def binding(
    signer: Signer,
    sub: PublicKeyPacket,
    *,
    flags: int = 0x0C,
    expires_after: int | None = None,
    sig_type: int = SIG_SUBKEY_BINDING,
) -> SignaturePacket:
    """A subkey binding (or, with ``sig_type``, revocation) signature."""
    subpackets = [Subpacket(SP_KEY_FLAGS, bytes([flags]))]
    if expires_after is not None:
        subpackets.append(
            Subpacket(SP_KEY_EXPIRATION, expires_after.to_bytes(4, "big"))
        )
    return sign(signer, sig_type, subkey_data(signer.packet, sub), subpackets)


def x25519_subkey(created: int = CREATED) -> PublicKeyPacket:
    """A v4 X25519 (algorithm 25) encryption subkey."""
    from cryptography.hazmat.primitives.asymmetric import x25519

    raw = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    return PublicKeyPacket(4, created, 25, raw)


def certificate(
    signer: Signer,
    subkeys: Sequence[tuple[PublicKeyPacket | bytes, Sequence[SignaturePacket]]] = (),
    *,
    uid: bytes = b"Test <test@example.org>",
    certification: SignaturePacket | None = None,
) -> bytes:
    """The binary certificate: primary key, User ID with its certification (made
    here unless given), then each subkey (a packet, or a raw packet body) with its
    signatures."""
    if certification is None:
        certification = sign(
            signer,
            SIG_POSITIVE_CERT,
            uid_data(signer.packet, uid),
            [Subpacket(SP_KEY_FLAGS, b"\x03")],
        )
    out = serialize_packet(TAG_PUBLIC_KEY, serialize_public_key(signer.packet))
    out += serialize_packet(TAG_USER_ID, uid)
    out += serialize_packet(TAG_SIGNATURE, serialize_signature(certification))
    for sub, sigs in subkeys:
        body = sub if isinstance(sub, bytes) else serialize_public_key(sub)
        out += serialize_packet(TAG_PUBLIC_SUBKEY, body)
        for sig in sigs:
            out += serialize_packet(TAG_SIGNATURE, serialize_signature(sig))
    return out


def tampered(sig: SignaturePacket) -> SignaturePacket:
    """``sig`` with the last octet of its signature material flipped."""
    material = sig.material[:-1] + bytes([sig.material[-1] ^ 0x01])
    return sig.replace(material=material)
