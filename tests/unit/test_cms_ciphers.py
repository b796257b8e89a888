"""The content ciphers other writers use, read here: AES-128/192-GCM AuthEnvelopedData
and legacy EnvelopedData with des-ede3-cbc and AES-128/192-CBC (only by opt-in), each
built in the test with ``cryptography``; RC2 and single DES refused.

Messages go through every way in: decrypt, decrypt_stream, S/MIME, inspect and
rewrap (whose new entries wrap the message's own 16- or 24-octet content key).
"""

from __future__ import annotations

import base64
import io

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import e2ee_mail
from e2ee_mail.cms import asn1, build, oids, structures, templates
from e2ee_mail.policy import DEFAULT, LEGACY_DECRYPT
from e2ee_mail.x509 import certs as kx

BODY = b"A line of the old archive.\r\n" * 50
MAIL = (
    b"Subject: from the archive\r\nContent-Type: text/plain\r\n\r\n"
    b"Kept since the last century.\r\n"
)

#: (OID, key size, nonce or IV) for each cipher read here.
GCM = {
    "aes-128-gcm": (oids.AES128_GCM, 16),
    "aes-192-gcm": (oids.AES192_GCM, 24),
}
CBC = {
    "des-ede3-cbc": (oids.DES_EDE3_CBC, 24, 8),
    "aes-128-cbc": (oids.AES128_CBC, 16, 16),
    "aes-192-cbc": (oids.AES192_CBC, 24, 16),
}


def _cek(size: int) -> bytes:
    return bytes(range(0x40, 0x40 + size))


def _entries(certs: list[kx.X509Certificate], cek: bytes) -> bytes:
    return asn1.set_of([templates.wrap_der(c, cek, policy=DEFAULT) for c in certs])


def _gcm(
    name: str, certs: list[kx.X509Certificate], body: bytes, *, cek: bytes | None = None
) -> bytes:
    """AuthEnvelopedData with ``name``, as ``openssl cms -encrypt -<name>`` lays it
    out: GCMParameters with a 12-octet nonce and aes-ICVlen 16."""
    oid, size = GCM[name]
    key = _cek(size) if cek is None else cek
    nonce = bytes(range(12))
    sealed = AESGCM(key).encrypt(nonce, body, None)
    params = asn1.serialize_gcm_parameters(structures.GCMParameters(nonce, 16))
    prefix = build.build_prefix(
        authenticated=True,
        version=asn1.der_int(0),
        originator_info=b"",
        ris_der=_entries(certs, _cek(size)),
        algorithm=structures.AlgorithmIdentifier(oid, params),
        body_length=len(sealed) - 16,
        tail_length=18,
    )
    return prefix + sealed[:-16] + asn1.der_tlv(0x04, sealed[-16:])


def _cbc(
    name: str,
    certs: list[kx.X509Certificate],
    body: bytes,
    *,
    cek: bytes | None = None,
    pad: bool = True,
    oid: str | None = None,
    extra: bytes = b"",
) -> bytes:
    """EnvelopedData with ``name`` in CBC mode (RFC 5652 §6.3 padding unless not
    ``pad``), its entries wrapping :func:`_cek` and its body encrypted under ``cek``
    (default: the same key), ``extra`` octets appended to the ciphertext."""
    cbc_oid, size, block = CBC[name]
    key = _cek(size) if cek is None else cek
    iv = bytes(range(0x10, 0x10 + block))
    cipher = TripleDES(key) if name.startswith("des") else algorithms.AES(key)
    if pad:
        padder = padding.PKCS7(block * 8).padder()
        body = padder.update(body) + padder.finalize()
    enc = Cipher(cipher, modes.CBC(iv)).encryptor()
    ct = enc.update(body) + enc.finalize() + extra
    prefix = build.build_prefix(
        authenticated=False,
        version=asn1.der_int(2),
        originator_info=b"",
        ris_der=_entries(certs, _cek(size)),
        algorithm=structures.AlgorithmIdentifier(
            oid or cbc_oid, asn1.der_tlv(0x04, iv)
        ),
        body_length=len(ct),
        tail_length=0,
    )
    return prefix + ct


def _smime(der: bytes, smime_type: str) -> bytes:
    return (
        b"From: Old Archive <archive@example.org>\r\nSubject: ...\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; "
        + f"smime-type={smime_type}; name=smime.p7m".encode()
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(der).replace(b"\n", b"\r\n")
    )


def _stream(
    data: bytes, key: kx.X509SecretKey, *, allow_unauthenticated: bool = False
) -> bytes:
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(
        io.BytesIO(data), out, key, allow_unauthenticated=allow_unauthenticated
    )
    return out.getvalue()


# --- AES-128/192-GCM ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GCM))
def test_gcm_opens_every_way(
    name: str, xkey: kx.X509SecretKey, rkey: kx.X509SecretKey
) -> None:
    ct = _gcm(name, [xkey.public, rkey.public], BODY)
    assert e2ee_mail.inspect(ct).content_algorithm == name
    for key in (xkey, rkey):
        assert e2ee_mail.decrypt(ct, key) == BODY
        assert _stream(ct, key) == BODY
    mail = _smime(_gcm(name, [rkey.public], MAIL), "authEnveloped-data")
    plain = e2ee_mail.decrypt_message(mail, rkey)
    assert plain["Subject"] == "from the archive"
    assert "Kept since" in plain.get_content()


@pytest.mark.parametrize("name", sorted(GCM))
def test_gcm_with_altered_tag_or_body_fails(name: str, xkey: kx.X509SecretKey) -> None:
    ct = _gcm(name, [xkey.public], BODY)
    for at in (-1, -30):
        bad = bytearray(ct)
        bad[at] ^= 0x01
        with pytest.raises(e2ee_mail.DecryptionError):
            e2ee_mail.decrypt(bytes(bad), xkey)
        out = io.BytesIO()
        with pytest.raises(e2ee_mail.DecryptionError):
            e2ee_mail.decrypt_stream(io.BytesIO(bytes(bad)), out, xkey)
        assert out.getvalue() == b""


def test_gcm_body_under_another_key_fails(xkey: kx.X509SecretKey) -> None:
    ct = _gcm("aes-128-gcm", [xkey.public], BODY, cek=bytes(16))
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt(ct, xkey)


@pytest.mark.parametrize("name", sorted(GCM))
def test_gcm_rewrap_keeps_the_body_and_the_key_length(
    name: str,
    xkey: kx.X509SecretKey,
    rkey: kx.X509SecretKey,
    other: kx.X509SecretKey,
) -> None:
    ct = _gcm(name, [xkey.public], BODY)
    tail = ct[-(len(BODY) + 18) :]
    for rewrapped in (
        bytes(e2ee_mail.rewrap(ct, xkey, [other.public, rkey.public])),
        _rewrap_stream(ct, xkey, [other.public, rkey.public]),
    ):
        assert rewrapped.endswith(tail)
        assert e2ee_mail.inspect(rewrapped).content_algorithm == name
        assert e2ee_mail.decrypt(rewrapped, other) == BODY
        assert e2ee_mail.decrypt(rewrapped, rkey) == BODY


def _rewrap_stream(
    ct: bytes, key: kx.X509SecretKey, certs: list[kx.X509Certificate]
) -> bytes:
    out = io.BytesIO()
    e2ee_mail.rewrap_stream(io.BytesIO(ct), out, key, certs)
    return out.getvalue()


def test_gcm_truncated_tag_is_refused_for_every_key_size(
    xkey: kx.X509SecretKey,
) -> None:
    # RFC 5084 allows aes-ICVlen 12 to 16; we take 16 only (see cms/common.py).
    for oid in (oids.AES128_GCM, oids.AES192_GCM, oids.AES256_GCM):
        ct = bytearray(_gcm("aes-128-gcm", [xkey.public], BODY))
        good = asn1.der_oid(oids.AES128_GCM)
        at = ct.index(good)
        ct[at : at + len(good)] = asn1.der_oid(oid)
        icv = ct.index(b"\x02\x01\x10", at)
        ct[icv : icv + 3] = b"\x02\x01\x0c"
        with pytest.raises(e2ee_mail.UnsupportedError, match="truncated tags"):
            e2ee_mail.decrypt(bytes(ct), xkey)


def test_aes_ccm_is_refused_by_name(xkey: kx.X509SecretKey) -> None:
    ct = bytearray(_gcm("aes-128-gcm", [xkey.public], BODY))
    good = asn1.der_oid(oids.AES128_GCM)
    at = ct.index(good)
    ct[at : at + len(good)] = asn1.der_oid("2.16.840.1.101.3.4.1.7")  # id-aes128-CCM
    with pytest.raises(e2ee_mail.UnsupportedError, match="AES-128/192/256-GCM"):
        e2ee_mail.decrypt(bytes(ct), xkey)


def test_we_still_write_aes_256_gcm(xkey: kx.X509SecretKey) -> None:
    ct = bytes(e2ee_mail.encrypt(BODY, xkey.public, format="cms"))
    assert e2ee_mail.inspect(ct).content_algorithm == "aes-256-gcm"


# --- legacy CBC: 3DES, AES-128/192 ----------------------------------------------


@pytest.mark.parametrize("name", sorted(CBC))
def test_cbc_opens_every_way_with_the_opt_in(
    name: str, xkey: kx.X509SecretKey, rkey: kx.X509SecretKey
) -> None:
    ct = _cbc(name, [xkey.public, rkey.public], BODY)
    described = e2ee_mail.inspect(ct)
    assert described.content_algorithm == name
    assert "unauthenticated" in dict(described.details)["content type"]
    for key in (xkey, rkey):
        assert e2ee_mail.decrypt(ct, key, allow_unauthenticated=True) == BODY
        assert _stream(ct, key, allow_unauthenticated=True) == BODY
    mail = _smime(_cbc(name, [rkey.public], MAIL), "enveloped-data")
    plain = e2ee_mail.decrypt_message(mail, rkey, allow_unauthenticated=True)
    assert plain["Subject"] == "from the archive"


@pytest.mark.parametrize("name", sorted(CBC))
def test_cbc_without_the_opt_in_names_the_cipher_and_the_opt_in(
    name: str, rkey: kx.X509SecretKey
) -> None:
    ct = _cbc(name, [rkey.public], BODY)
    mail = _smime(ct, "enveloped-data")
    for attempt in (
        lambda: e2ee_mail.decrypt(ct, rkey),
        lambda: _stream(ct, rkey),
        lambda: e2ee_mail.decrypt_message(mail, rkey),
        lambda: e2ee_mail.rewrap(ct, rkey, [rkey.public]),
    ):
        with pytest.raises(e2ee_mail.PolicyError) as caught:
            attempt()
        assert name in str(caught.value)
        assert "allow_unauthenticated=True" in str(caught.value)


@pytest.mark.parametrize("name", sorted(CBC))
def test_cbc_bad_padding_and_wrong_key_give_the_same_error(
    name: str, xkey: kx.X509SecretKey
) -> None:
    # Both are built deterministically (fixed keys and IV), and both fail at the
    # padding check: a message telling them apart would be a padding oracle.
    _, size, block = CBC[name]
    # Zeros up to the next whole block: a last octet of 0 is never valid padding.
    zeros = bytes(-len(BODY) % block or block)
    bad_padding = _cbc(name, [xkey.public], BODY + zeros, pad=False)
    wrong_key = _cbc(name, [xkey.public], BODY, cek=bytes(size))
    errors = []
    for ct in (bad_padding, wrong_key):
        with pytest.raises(e2ee_mail.DecryptionError) as caught:
            e2ee_mail.decrypt(ct, xkey, allow_unauthenticated=True)
        errors.append((type(caught.value), str(caught.value)))
        out = io.BytesIO()
        with pytest.raises(e2ee_mail.DecryptionError) as streamed:
            e2ee_mail.decrypt_stream(
                io.BytesIO(ct), out, xkey, allow_unauthenticated=True
            )
        errors.append((type(streamed.value), str(streamed.value)))
        assert out.getvalue() == b""
    assert len(set(errors)) == 1


@pytest.mark.parametrize("name", sorted(CBC))
def test_cbc_body_not_a_whole_number_of_blocks_fails(
    name: str, xkey: kx.X509SecretKey
) -> None:
    ct = _cbc(name, [xkey.public], BODY, extra=b"x")
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt(ct, xkey, allow_unauthenticated=True)


def test_cbc_iv_of_the_wrong_size_is_malformed(xkey: kx.X509SecretKey) -> None:
    # A 3DES body with an AES-sized (16-octet) IV: RFC 3370 §5.1 says 8.
    ct = _cbc("aes-128-cbc", [xkey.public], BODY, oid=oids.DES_EDE3_CBC)
    with pytest.raises(e2ee_mail.ASN1Error, match="8-byte IV"):
        e2ee_mail.decrypt(ct, xkey, allow_unauthenticated=True)


@pytest.mark.parametrize("name", sorted(CBC))
def test_cbc_rewrap_keeps_the_body_and_the_key_length(
    name: str, xkey: kx.X509SecretKey, rkey: kx.X509SecretKey
) -> None:
    ct = _cbc(name, [xkey.public], BODY)
    _, _, block = CBC[name]
    tail = ct[-(len(BODY) // block + 1) * block :]
    for rewrapped in (
        bytes(e2ee_mail.rewrap(ct, xkey, [rkey.public], policy=LEGACY_DECRYPT)),
        _rewrap_stream_legacy(ct, xkey, [rkey.public]),
    ):
        assert rewrapped.endswith(tail)
        assert e2ee_mail.inspect(rewrapped).content_algorithm == name
        assert e2ee_mail.decrypt(rewrapped, rkey, allow_unauthenticated=True) == BODY


def _rewrap_stream_legacy(
    ct: bytes, key: kx.X509SecretKey, certs: list[kx.X509Certificate]
) -> bytes:
    out = io.BytesIO()
    e2ee_mail.rewrap_stream(io.BytesIO(ct), out, key, certs, policy=LEGACY_DECRYPT)
    return out.getvalue()


@pytest.mark.parametrize(
    ("oid", "named"), [(oids.RC2_CBC, "RC2"), (oids.DES_CBC, "single DES")]
)
def test_rc2_and_single_des_are_refused_even_with_the_opt_in(
    oid: str, named: str, xkey: kx.X509SecretKey
) -> None:
    ct = _cbc("des-ede3-cbc", [xkey.public], BODY, oid=oid)
    assert e2ee_mail.inspect(ct).content_algorithm == oids.name(oid)
    for allow in (False, True):
        with pytest.raises(e2ee_mail.UnsupportedError) as caught:
            e2ee_mail.decrypt(ct, xkey, allow_unauthenticated=allow)
        assert named in str(caught.value)
        assert oids.name(oid) in str(caught.value)
        with pytest.raises(e2ee_mail.UnsupportedError):
            _stream(ct, xkey, allow_unauthenticated=allow)
