"""Vector runners for the core primitives (kinds ``core-*``), through core/'s wrappers.

Each runner calls exactly what the formats call: :mod:`e2ee_mail.core.keywrap`
(RFC 3394), :mod:`e2ee_mail.core.aead` (AES-GCM, all three code paths: one-shot,
``*_into`` and streaming), :mod:`e2ee_mail.core.eax` (AES-EAX, one-shot and the
``*_into`` form the chunk loop calls), :mod:`e2ee_mail.core.x25519` (RFC 7748, both
sides), :mod:`e2ee_mail.core.rsa` (RSAES-OAEP, RFC 8017 §7.1) and
:mod:`e2ee_mail.core.signature` (ECDSA, DSA, Ed448, Ed25519: the checks OpenPGP
self-signatures go through; Ed25519 and RSASSA-PSS also through the bool-answering
checks CMS signatures go through). Loading a test key from its encoding is done here
with `cryptography`, as the key loaders of the formats do; a signature key other
than RSA is written as OpenPGP key material and decoded by
:func:`e2ee_mail.openpgp.sigs.public_key_object`, as a certificate's primary key is.
"""

from __future__ import annotations

import functools
import hashlib
import io

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec as _ec
from cryptography.hazmat.primitives.asymmetric import ed448 as _ed448
from cryptography.hazmat.primitives.asymmetric import ed25519 as _ed25519
from cryptography.hazmat.primitives.asymmetric import rsa as _rsa
from cryptography.hazmat.primitives.asymmetric import x25519 as _x25519
from cryptography.hazmat.primitives.hashes import SHA256, SHA384

from ..core import aead, eax, keywrap, rsa, signature, x25519
from ..core.rsa import OAEPHash
from ..errors import DecryptionError, Error, FormatError
from ..policy import Policy
from .case import Case, Mismatch
from .core_ecdh import run_rfc7748

__all__: list[str] = []

#: A small stream buffer so that the streaming paths loop several times per case.
_STREAM_BUFFER_SIZE = 16


def _same(got: bytes, want: bytes, what: str) -> None:
    if got != want:
        raise Mismatch(f"{what} gave {got.hex()[:64]}, expected {want.hex()[:64]}")


def run_aes_kw(case: Case, policy: Policy) -> None:
    kek, key, op = case.hex("kek"), case.hex("key"), case.text("op")
    if op == "wrap":
        keywrap.wrap(kek, key)
        return
    if op == "unwrap":
        _same(keywrap.unwrap(kek, case.hex("wrapped")), key, "unwrap")
        return
    wrapped = case.expected_hex("wrapped")
    _same(keywrap.wrap(kek, key), wrapped, "wrap")
    _same(keywrap.unwrap(kek, wrapped), key, "unwrap")


def _gcm_openers(
    key: bytes, iv: bytes, aad: bytes, ct: bytes, tag: bytes
) -> list[bytes | Error]:
    """Open with every code path; each result is the plaintext or the Error raised."""
    results: list[bytes | Error] = []
    try:
        results.append(aead.gcm_open(key, iv, ct + tag, aad))
    except Error as exc:
        results.append(exc)
    out = bytearray(b"\xaa" * len(ct))
    try:
        aead.gcm_open_into(key, iv, ct + tag, memoryview(out), aad)
        results.append(bytes(out))
    except Error as exc:
        if isinstance(exc, DecryptionError) and any(out):
            raise Mismatch("gcm_open_into left plaintext in its buffer") from None
        results.append(exc)
    try:
        opener = aead.GCMStreamOpener(key, iv, aad, buffer_size=_STREAM_BUFFER_SIZE)
        sink = io.BytesIO()
        # Two calls, split off a block boundary, so partial blocks are exercised.
        split = min(len(ct), 5)
        opener.update(ct[:split], sink)
        opener.update(ct[split:], sink)
        opener.finalize(tag)
        results.append(sink.getvalue())
    except Error as exc:
        results.append(exc)
    return results


def run_aes_gcm(case: Case, policy: Policy) -> None:
    key, iv, aad = case.hex("key"), case.hex("iv"), case.hex("aad")
    ct, tag = case.hex("ct"), case.hex("tag")
    if case.expected:
        msg = case.expected_hex("msg")
        _same(aead.gcm_seal(key, iv, msg, aad), ct + tag, "gcm_seal")
        out = bytearray(len(msg) + aead.GCM_TAG_SIZE)
        aead.gcm_seal_into(key, iv, msg, memoryview(out), aad)
        _same(bytes(out), ct + tag, "gcm_seal_into")
        sealer = aead.GCMStreamSealer(key, iv, aad, buffer_size=_STREAM_BUFFER_SIZE)
        sink = io.BytesIO()
        sealer.update(msg, sink)
        _same(sink.getvalue() + sealer.finalize(), ct + tag, "GCMStreamSealer")
    results = _gcm_openers(key, iv, aad, ct, tag)
    errors = [r for r in results if isinstance(r, Error)]
    if errors:
        kinds = {type(e) for e in errors}
        if len(errors) != len(results) or len(kinds) != 1:
            raise Mismatch(f"the GCM code paths disagree: {results!r}")
        raise errors[0]
    if case.expected:
        paths = ("gcm_open", "gcm_open_into", "GCMStreamOpener")
        for name, got in zip(paths, results, strict=True):
            if isinstance(got, bytes):
                _same(got, case.expected_hex("msg"), name)


def run_aes_eax(case: Case, policy: Policy) -> None:
    key, iv, aad = case.hex("key"), case.hex("iv"), case.hex("aad")
    ct, tag = case.hex("ct"), case.hex("tag")
    if case.expected:
        msg = case.expected_hex("msg")
        _same(eax.eax_seal(key, iv, msg, aad), ct + tag, "eax_seal")
        out = bytearray(len(msg) + eax.TAG_SIZE)
        eax.AESEAX(key).encrypt_into(iv, msg, aad, out)
        _same(bytes(out), ct + tag, "AESEAX.encrypt_into")
    # The chunk loop's form: InvalidTag, and nothing written, on a bad tag.
    buf = bytearray(b"\xaa" * len(ct))
    try:
        eax.AESEAX(key).decrypt_into(iv, ct + tag, aad, buf)
        into: bytes | None = bytes(buf)
    except InvalidTag:
        if buf != b"\xaa" * len(ct):
            raise Mismatch("AESEAX.decrypt_into wrote to its buffer") from None
        into = None
    try:
        opened = eax.eax_open(key, iv, ct + tag, aad)
    except DecryptionError:
        if into is not None:
            raise Mismatch("eax_open refused, AESEAX.decrypt_into did not") from None
        raise
    if into is None:
        raise Mismatch("AESEAX.decrypt_into refused, eax_open did not")
    _same(into, opened, "AESEAX.decrypt_into")
    if case.expected:
        _same(opened, case.expected_hex("msg"), "eax_open")


def run_x25519(case: Case, policy: Policy) -> None:
    run_rfc7748(
        case,
        _x25519.X25519PrivateKey.from_private_bytes,
        x25519.agree,
        x25519.ephemeral_agree_from_parts,
    )


@functools.lru_cache(maxsize=8)
def _rsa_key(pkcs8: bytes) -> _rsa.RSAPrivateKey:
    key = serialization.load_der_private_key(pkcs8, password=None)
    if not isinstance(key, _rsa.RSAPrivateKey):
        raise Mismatch("private_key_pkcs8 is not an RSA key")
    return key


def _hash(case: Case, name: str) -> OAEPHash:
    value = case.text(name)
    if value not in ("sha1", "sha256", "sha384", "sha512"):
        raise Mismatch(f"unknown hash {value!r}")
    return value  # type: ignore[return-value]


def run_rsa_oaep(case: Case, policy: Policy) -> None:
    key = _rsa_key(case.hex("private_key_pkcs8"))
    hash_name, mgf_hash_name = _hash(case, "hash"), _hash(case, "mgf_hash")
    label = case.hex("label")
    got = rsa.decrypt_oaep(
        key,
        case.hex("ct"),
        hash_name=hash_name,
        mgf_hash_name=mgf_hash_name,
        label=label,
    )
    if not case.expected:
        return
    msg = case.expected_hex("msg")
    _same(got, msg, "decrypt_oaep")
    again = rsa.encrypt_oaep(
        key.public_key(),
        msg,
        hash_name=hash_name,
        mgf_hash_name=mgf_hash_name,
        label=label,
    )
    back = rsa.decrypt_oaep(
        key, again, hash_name=hash_name, mgf_hash_name=mgf_hash_name, label=label
    )
    _same(back, msg, "encrypt_oaep then decrypt_oaep")


#: OpenPGP curve OIDs (RFC 9580 §9.2) of the ECDSA vector curves.
_ECDSA_OIDS = {
    "secp256r1": bytes.fromhex("2a8648ce3d030107"),
    "secp384r1": bytes.fromhex("2b81040022"),
}
#: Public key algorithm IDs (RFC 9580 §9.1).
_SIGNATURE_ALGORITHMS = {"ecdsa": 19, "dsa": 17, "ed448": 28, "ed25519": 27}
#: The hashes of the digest-signing vectors, by name.
_DIGESTS = {"sha256": SHA256, "sha384": SHA384}


@functools.lru_cache(maxsize=16)
def _signature_key(algorithm: str, material: bytes) -> object:
    from ..openpgp.packets.keys import PublicKeyPacket
    from ..openpgp.sigs import public_key_object

    packet = PublicKeyPacket(4, 0, _SIGNATURE_ALGORITHMS[algorithm], material)
    return public_key_object(packet)


def _signature_material(case: Case, algorithm: str) -> bytes:
    from ..openpgp.packets.wire import encode_mpi

    if algorithm == "ecdsa":
        oid = _ECDSA_OIDS.get(case.text("curve"))
        if oid is None:
            raise Mismatch(f"unknown curve {case.text('curve')!r}")
        return bytes([len(oid)]) + oid + encode_mpi(case.hex("public"))
    if algorithm == "dsa":
        # RFC 9580 §5.5.5.2: MPIs p, q, g, y.
        return b"".join(encode_mpi(int.from_bytes(case.hex(n), "big")) for n in "pqgy")
    return case.hex("public")


@functools.lru_cache(maxsize=4)
def _spki_key(spki: bytes) -> object:
    return serialization.load_der_public_key(spki)


def _bool_verdict(first: bool, second: bool, what: str) -> None:
    """Turn the two answers of the bool-answering checks into the vector's verdict:
    they must agree, and a refusal is the FormatError the vector names."""
    if first != second:
        raise Mismatch(f"{what}: the digest and message forms disagree")
    if not first:
        raise FormatError(signature.BAD_SIGNATURE)


def _run_rsa_pss(case: Case) -> None:
    key = _spki_key(case.hex("spki"))
    if not isinstance(key, _rsa.RSAPublicKey):
        raise Mismatch("the key is not an RSA key")
    if case.text("hash") != "sha256":
        raise Mismatch(f"unknown hash {case.text('hash')!r}")
    scheme = signature.Scheme("rsa-pss", "sha256", case.integer("salt_length"))
    msg, sig = case.hex("msg"), case.hex("sig")
    by_digest = signature.verify_digest(key, scheme, sig, hashlib.sha256(msg).digest())
    _bool_verdict(by_digest, signature.verify(key, scheme, sig, msg), "RSASSA-PSS")


def run_signature(case: Case, policy: Policy) -> None:
    algorithm = case.text("algorithm")
    if algorithm == "rsa-pss":
        _run_rsa_pss(case)
        return
    if algorithm not in _SIGNATURE_ALGORITHMS:
        raise Mismatch(f"unknown signature algorithm {algorithm!r}")
    key = _signature_key(algorithm, _signature_material(case, algorithm))
    msg, sig = case.hex("msg"), case.hex("sig")
    if algorithm == "ed25519":
        if not isinstance(key, _ed25519.Ed25519PublicKey):
            raise Mismatch("the key is not an Ed25519 key")
        # The CMS form answers a bool; it must agree with the OpenPGP form's
        # refusal, which is what the vector checks.
        scheme = signature.Scheme("ed25519", "sha256")
        cms_verdict = signature.verify(key, scheme, sig, msg)
        try:
            signature.check_message(key, sig, msg)
        except FormatError:
            if cms_verdict:
                raise Mismatch("verify accepts what check_message refuses") from None
            raise
        if not cms_verdict:
            raise Mismatch("verify refuses what check_message accepts")
        return
    if algorithm == "ed448":
        if not isinstance(key, _ed448.Ed448PublicKey):
            raise Mismatch("the key is not an Ed448 key")
        signature.check_message(key, sig, msg)
        return
    hash_class = _DIGESTS.get(case.text("hash"))
    if hash_class is None:
        raise Mismatch(f"unknown hash {case.text('hash')!r}")
    digest = hashlib.new(case.text("hash"), msg).digest()
    if algorithm == "ecdsa" and not isinstance(key, _ec.EllipticCurvePublicKey):
        raise Mismatch("the key is not an EC key")
    # A DSA key is not checked with isinstance: naming cryptography's DSA key class
    # makes it warn that DSA is deprecated.
    signature.check_digest(key, sig, digest, hash_class())  # type: ignore[arg-type]
