"""Key signatures: making and checking self-signatures (RFC 9580 §5.2.4, §5.2.3).

v6 signatures are salted (the salt is hashed first, §5.2.4) and v4 ones are not;
both hash the signed data and then the trailer of §5.2.4. Signed data for key
signatures: the primary key (0x99/0x9B framing), then a User ID (0xB4 || 4-octet
length || octets) or a subkey. Made here: Ed25519 (27, native 64-octet signature
over the digest, §5.2.3.4), RSA PKCS#1 v1.5 (1) and the RFC 9980 composites
ML-DSA-65+Ed25519 (30) and ML-DSA-87+Ed448 (31): an EdDSA and an ML-DSA signature
over the same digest, through :mod:`e2ee_mail.core.mldsa`, v6 keys and signatures
only, with a digest of at least 256 bits (§5.3.1). Checked here, through
:mod:`e2ee_mail.core.signature`: those, EdDSALegacy (22, MPIs r and s), Ed448
(28, native 114-octet signature over the digest, empty context), DSA (17, MPIs r and
s, §5.2.3.2) and ECDSA (19, MPIs r and s over the NIST curves P-256/P-384/P-521, the
brainpool curves P256r1/P384r1/P512r1 of §9.2, and secp256k1, which GnuPG makes).
A signature we cannot check counts as invalid, never as valid.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.utils import CryptographyDeprecationWarning

from ..core import signature
from ..core.random import random_bytes
from ..errors import FormatError, UnsupportedError
from .document import HASH_NAMES
from .packets import (
    OID_ED25519_LEGACY,
    PK_DSA,
    PK_ECDSA,
    PK_ED448,
    PK_ED25519,
    PK_EDDSA_LEGACY,
    PK_RSA,
    PK_RSA_SIGN_ONLY,
    PQ_SIG_ALGOS,
)
from .packets.keys import PublicKeyPacket, fingerprint, key_hash_prefix, key_id
from .packets.signature import (
    SALT_SIZE,
    SP_CREATION_TIME,
    SP_ISSUER_FINGERPRINT,
    SP_ISSUER_KEY_ID,
    SignaturePacket,
    Subpacket,
    serialize_subpackets,
    signature_trailer,
)
from .packets.wire import Reader, encode_mpi, mpi_to_int

if TYPE_CHECKING:
    from typing import TypeAlias

    from cryptography.hazmat.primitives.asymmetric import dsa, ed448

    from ..core.mldsa import CompositeSigPrivateKey, CompositeSigPublicKey

    # Named in annotations only: reading `dsa.DSAPublicKey` at run time makes
    # `cryptography` warn that DSA is deprecated.
    VerifyKey: TypeAlias = (
        ed25519.Ed25519PublicKey
        | ed448.Ed448PublicKey
        | rsa.RSAPublicKey
        | dsa.DSAPublicKey
        | ec.EllipticCurvePublicKey
        | CompositeSigPublicKey
    )
    SigningKey: TypeAlias = (
        ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | CompositeSigPrivateKey
    )
else:
    # The composite keys are named at run time only where they are used:
    # core.mldsa is kept out of the start-up path of every other key.
    SigningKey = object

__all__ = [
    "SigningKey",
    "check_primitive",
    "key_signature_data",
    "make_signature",
    "public_key_object",
    "verify_signature",
]

_CRYPTO_HASHES: Final[dict[int, hashes.HashAlgorithm]] = {
    2: hashes.SHA1(),
    8: hashes.SHA256(),
    9: hashes.SHA384(),
    10: hashes.SHA512(),
    11: hashes.SHA224(),
    12: hashes.SHA3_256(),
    14: hashes.SHA3_512(),
}


def key_signature_data(
    primary: PublicKeyPacket,
    *,
    user_id: bytes | None = None,
    subkey: PublicKeyPacket | None = None,
) -> bytes:
    """The signed data of a certification, direct-key or binding signature."""
    data = key_hash_prefix(primary)
    if user_id is not None:
        data += b"\xb4" + len(user_id).to_bytes(4, "big") + user_id
    if subkey is not None:
        data += key_hash_prefix(subkey)
    return data


def _digest(sig: SignaturePacket, data: bytes) -> bytes:
    # Key signatures take only the hashes of _CRYPTO_HASHES (not MD5 or RIPEMD-160).
    if sig.hash_algorithm not in _CRYPTO_HASHES:
        raise UnsupportedError(f"hash algorithm {sig.hash_algorithm} is not supported")
    h = hashlib.new(HASH_NAMES[sig.hash_algorithm])
    if sig.version == 6:
        h.update(sig.salt)
    h.update(data)
    h.update(signature_trailer(sig))
    return h.digest()


def make_signature(
    signer: SigningKey,
    signer_public: PublicKeyPacket,
    sig_type: int,
    data: bytes,
    subpackets: Sequence[Subpacket],
    *,
    created: int,
    hash_algorithm: int = 10,
) -> SignaturePacket:
    """Sign ``data`` with a signature of the signer key's version.

    The creation time and issuer fingerprint subpackets are added in front of
    ``subpackets`` (hashed); v4 signatures also carry the issuer key ID (unhashed).
    """
    version = signer_public.version
    fpr = fingerprint(signer_public)
    hashed = [
        Subpacket(SP_CREATION_TIME, created.to_bytes(4, "big"), critical=True),
        *subpackets,
        Subpacket(SP_ISSUER_FINGERPRINT, bytes([version]) + fpr),
    ]
    unhashed = (
        [] if version == 6 else [Subpacket(SP_ISSUER_KEY_ID, key_id(signer_public))]
    )
    salt = random_bytes(SALT_SIZE[hash_algorithm]) if version == 6 else b""
    draft = SignaturePacket(
        version,
        sig_type,
        signer_public.algorithm,
        hash_algorithm,
        serialize_subpackets(hashed),
        serialize_subpackets(unhashed),
        b"\x00\x00",
        salt,
        b"",
    )
    digest = _digest(draft, data)
    if isinstance(signer, ed25519.Ed25519PrivateKey):
        raw = signer.sign(digest)
        material = (
            raw
            if signer_public.algorithm == PK_ED25519
            else (encode_mpi(raw[:32]) + encode_mpi(raw[32:]))
        )
    elif isinstance(signer, rsa.RSAPrivateKey):
        chosen = _CRYPTO_HASHES[hash_algorithm]
        material = encode_mpi(
            signer.sign(digest, padding.PKCS1v15(), Prehashed(chosen))
        )
    else:
        from ..core import mldsa  # PQ keys only: kept out of the start-up path

        material = mldsa.sign(signer, digest)
    return draft.replace(left16=digest[:2], material=material)


#: ECDSA curve OIDs (RFC 9580 §9.2, DER contents without tag and length), and
#: secp256k1 (SEC 2 §2.4.1), which GnuPG also signs with.
_ECDSA_CURVES: Final[dict[bytes, ec.EllipticCurve]] = {
    bytes.fromhex("2a8648ce3d030107"): ec.SECP256R1(),
    bytes.fromhex("2b81040022"): ec.SECP384R1(),
    bytes.fromhex("2b81040023"): ec.SECP521R1(),
    bytes.fromhex("2b2403030208010107"): ec.BrainpoolP256R1(),
    bytes.fromhex("2b240303020801010b"): ec.BrainpoolP384R1(),
    bytes.fromhex("2b240303020801010d"): ec.BrainpoolP512R1(),
    bytes.fromhex("2b8104000a"): ec.SECP256K1(),
}
_ED448_SIZE: Final = 57


def public_key_object(packet: PublicKeyPacket) -> VerifyKey:
    """The `cryptography` verification key of a signing-capable key packet.

    Raises:
        FormatError: malformed key material.
        UnsupportedError: not a signing algorithm (or curve) we check.
    """
    return _public_key_object(packet.algorithm, packet.material)


@functools.lru_cache(maxsize=256)
def _public_key_object(algorithm: int, material: bytes) -> VerifyKey:
    # A certificate's primary key checks every self-signature it made (one per
    # User ID and subkey): the key object is built once per key.
    try:
        if algorithm == PK_ED25519:
            return ed25519.Ed25519PublicKey.from_public_bytes(material)
        if algorithm in PQ_SIG_ALGOS:
            from ..core import mldsa  # PQ keys only: kept out of the start-up path

            return mldsa.public_from_bytes(material, algorithm)
        if algorithm == PK_ED448:
            if len(material) != _ED448_SIZE:
                raise FormatError("malformed Ed448 public key")
            from cryptography.hazmat.primitives.asymmetric import ed448

            return ed448.Ed448PublicKey.from_public_bytes(material)
        reader = Reader(material, "public key")
        if algorithm == PK_EDDSA_LEGACY:
            oid = reader.take(reader.u8())
            point = reader.mpi()[2:]
            if oid != OID_ED25519_LEGACY or len(point) != 33 or point[0] != 0x40:
                raise UnsupportedError("only Ed25519Legacy EdDSA keys are supported")
            return ed25519.Ed25519PublicKey.from_public_bytes(point[1:])
        if algorithm in (PK_RSA, PK_RSA_SIGN_ONLY):
            n = mpi_to_int(reader.mpi())
            e = mpi_to_int(reader.mpi())
            return rsa.RSAPublicNumbers(e, n).public_key()
        if algorithm == PK_DSA:
            # RFC 9580 §5.5.5.2: p, q, g, y. `cryptography` takes the sizes of
            # FIPS 186-4 (p of 1024 to 4096 bits, q of 160, 224 or 256).
            p, q, g, y = (mpi_to_int(reader.mpi()) for _ in range(4))
            parameter_numbers, public_numbers = _dsa_classes()
            return public_numbers(y, parameter_numbers(p, q, g)).public_key()
        if algorithm == PK_ECDSA:
            # RFC 9580 §5.5.5.3: curve OID, then the point as an MPI (SEC1
            # uncompressed: 0x04 || x || y).
            oid = reader.take(reader.u8())
            curve = _ECDSA_CURVES.get(oid)
            if curve is None:
                raise UnsupportedError(f"ECDSA over curve {oid.hex()} is not supported")
            point = reader.mpi()[2:]
            return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
    except ValueError:
        raise FormatError("malformed public key material") from None
    raise UnsupportedError(f"signature algorithm {algorithm} is not supported")


_DSA_LOCK: Final = threading.Lock()


@functools.cache
def _dsa_classes() -> tuple[type[dsa.DSAParameterNumbers], type[dsa.DSAPublicNumbers]]:
    """`cryptography`'s DSA number classes, read once.

    `cryptography` 51 deprecates DSA and warns on every read of a name of its
    ``dsa`` module; verifying the DSA keys people still have is what we need it
    for, so the names are read once with that warning silenced (under a lock:
    ``catch_warnings`` swaps the process-wide filter list). A build without DSA
    is an UnsupportedError.
    """
    with _DSA_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        try:
            from cryptography.hazmat.primitives.asymmetric import dsa

            return dsa.DSAParameterNumbers, dsa.DSAPublicNumbers
        except AttributeError:
            raise UnsupportedError(
                "DSA is not available in this build of cryptography"
            ) from None


def _dss_values(material: bytes) -> bytes:
    """The DER form of the MPIs r and s of a DSA or ECDSA signature (§5.2.3.2)."""
    reader = Reader(material, "DSA signature")
    r = mpi_to_int(reader.mpi())
    s = mpi_to_int(reader.mpi())
    reader.end()
    return signature.dss_der(r, s)


def _eddsa_legacy_values(material: bytes) -> bytes:
    """The native 64-octet form of the MPIs r and s of an EdDSALegacy signature."""
    reader = Reader(material, "EdDSA signature")
    r = reader.mpi()[2:]
    s = reader.mpi()[2:]
    if len(r) > 32 or len(s) > 32:
        raise FormatError(signature.BAD_SIGNATURE)
    return r.rjust(32, b"\0") + s.rjust(32, b"\0")


def check_primitive(
    key: VerifyKey,
    pk_algorithm: int,
    hash_algorithm: int,
    material: bytes,
    digest: bytes,
) -> None:
    """Check the algorithm-specific fields ``material`` of a signature over
    ``digest`` (RFC 9580 §5.2.3) with ``key``.

    Raises:
        FormatError: the signature does not verify (or is malformed).
        UnsupportedError: an unknown hash algorithm.
    """
    chosen = _CRYPTO_HASHES.get(hash_algorithm)
    if chosen is None:
        raise UnsupportedError(f"hash algorithm {hash_algorithm} is not supported")
    if pk_algorithm in PQ_SIG_ALGOS:
        _check_composite(key, pk_algorithm, material, digest)
    elif isinstance(key, ed25519.Ed25519PublicKey):
        raw = material if pk_algorithm == PK_ED25519 else _eddsa_legacy_values(material)
        signature.check_message(key, raw, digest)
    elif isinstance(key, rsa.RSAPublicKey):
        reader = Reader(material, "RSA signature")
        value = reader.mpi()[2:]
        reader.end()
        signature.check_digest(key, value, digest, chosen)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        signature.check_digest(key, _dss_values(material), digest, chosen)
    else:
        # The rarer kinds, whose modules only their keys need.
        from cryptography.hazmat.primitives.asymmetric import ed448

        from ..core import mldsa

        if isinstance(key, ed448.Ed448PublicKey):
            signature.check_message(key, material, digest)
            return
        if isinstance(key, mldsa.CompositeSigPublicKey):
            # A composite key under another algorithm's signature.
            raise FormatError(signature.BAD_SIGNATURE)
        # DSA, the one key left (not named: see VerifyKey).
        signature.check_digest(key, _dss_values(material), digest, chosen)


def _check_composite(
    key: VerifyKey, pk_algorithm: int, material: bytes, digest: bytes
) -> None:
    """RFC 9980 §5.2.2: both halves of an ML-DSA + EdDSA signature over a digest
    of at least 256 bits (§5.3.1), by a key of the signature's algorithm."""
    from ..core import mldsa

    if (
        not isinstance(key, mldsa.CompositeSigPublicKey)
        or key.suite.algorithm != pk_algorithm
        or len(digest) < mldsa.MIN_DIGEST_SIZE
    ):
        raise FormatError(signature.BAD_SIGNATURE)
    mldsa.check(key, material, digest)


def verify_signature(
    sig: SignaturePacket, signer: PublicKeyPacket, data: bytes
) -> bool:
    """Whether ``sig`` by ``signer`` over ``data`` is valid.

    Malformed or unsupported signatures are reported as invalid (False).
    """
    if sig.pk_algorithm != signer.algorithm:
        return False
    if sig.pk_algorithm in PQ_SIG_ALGOS and sig.version != 6:
        return False  # RFC 9980 §5.3: v6 signatures only
    if sig.version == 6 and (
        signer.version != 6 or len(sig.salt) != SALT_SIZE.get(sig.hash_algorithm)
    ):
        return False
    try:
        key = public_key_object(signer)
        digest = _digest(sig, data)
        if digest[:2] != sig.left16:
            return False
        check_primitive(key, sig.pk_algorithm, sig.hash_algorithm, sig.material, digest)
    except (UnsupportedError, FormatError, ValueError):
        return False
    return True
