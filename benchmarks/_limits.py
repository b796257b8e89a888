"""The limit loops (no e2ee_mail code): what each API could at best do here.

Used by bench_core.py (as ``limit.*`` cases) and by bench_formats.py, which times the
matching limit right next to each format case (``extra_info["paired_limit"]``) so that
a busy shared machine disturbs both sides of a ratio alike.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pybase64
from _bench import CHUNK
from cryptography.hazmat.primitives import hashes, keywrap
from cryptography.hazmat.primitives.asymmetric import (
    ec,
    ed25519,
    mlkem,
    padding,
    rsa,
    x25519,
)
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nacl import bindings as sodium

TAG = 16
KEY = bytes(range(32))
NONCE = bytes(12)


def nonce_for(i: int) -> bytes:
    """Chunk ``i``'s nonce (a counter: the key is a fixed test key)."""
    return i.to_bytes(12, "big")


def seal_chunks(data: bytes) -> bytearray:
    """The fresh-buffer limit: every 4 MiB chunk sealed into one new buffer."""
    n = len(data)
    chunks = max(1, -(-n // CHUNK))
    out = bytearray(n + TAG * chunks)
    aead = AESGCM(KEY)
    src = memoryview(data)
    dst = memoryview(out)
    pos = 0
    for i in range(chunks):
        piece = src[i * CHUNK : (i + 1) * CHUNK]
        aead.encrypt_into(nonce_for(i), piece, None, dst[pos : pos + len(piece) + TAG])
        pos += len(piece) + TAG
    return out


def open_chunks(sealed: bytes | bytearray) -> bytearray:
    """The fresh-buffer limit, decrypting."""
    step = CHUNK + TAG
    chunks = max(1, -(-len(sealed) // step))
    out = bytearray(len(sealed) - TAG * chunks)
    aead = AESGCM(KEY)
    src = memoryview(sealed)
    dst = memoryview(out)
    pos = 0
    for i in range(chunks):
        piece = src[i * step : (i + 1) * step]
        aead.decrypt_into(nonce_for(i), piece, None, dst[pos : pos + len(piece) - TAG])
        pos += len(piece) - TAG
    return out


def seal_file(src_path: Path, dst_path: Path) -> None:
    """The stream limit: the chunk loop file to file over two reused buffers."""
    aead = AESGCM(KEY)
    in_buf = bytearray(CHUNK)
    out_buf = bytearray(CHUNK + TAG)
    in_view = memoryview(in_buf)
    out_view = memoryview(out_buf)
    with open(src_path, "rb") as src, open(dst_path, "wb") as dst:
        i = 0
        while got := src.readinto(in_buf):
            aead.encrypt_into(nonce_for(i), in_view[:got], None, out_view[: got + TAG])
            dst.write(out_view[: got + TAG])
            i += 1


def open_file(src_path: Path, dst_path: Path) -> None:
    """The stream limit, decrypting."""
    aead = AESGCM(KEY)
    in_buf = bytearray(CHUNK + TAG)
    out_buf = bytearray(CHUNK)
    in_view = memoryview(in_buf)
    out_view = memoryview(out_buf)
    with open(src_path, "rb") as src, open(dst_path, "wb") as dst:
        i = 0
        while got := src.readinto(in_buf):
            aead.decrypt_into(nonce_for(i), in_view[:got], None, out_view[: got - TAG])
            dst.write(out_view[: got - TAG])
            i += 1


# --- encoding limit ------------------------------------------------------------------


_VIEWS: dict[tuple[int, bytes], tuple[memoryview, list[bytes | memoryview]]] = {}


def b64_crlf76(data: bytes | memoryview) -> bytes:
    """S/MIME body: pybase64.encodebytes (76-column LF) then LF -> CRLF."""
    return pybase64.encodebytes(data).replace(b"\n", b"\r\n")


def b64_lines_views(data: bytes | memoryview, cols: int, eol: bytes) -> bytearray:
    """The fastest line-wrapped pybase64 encoding known here, any column count.

    Each batch of 1024 lines is encoded into one reused buffer over which the line
    views were made once (kept across calls, as e2ee_mail keeps one per thread);
    ``eol.join(views)`` lays the lines out with no object per line. Measured on
    16 MiB, 64 LF columns: ~0.8-1 GB/s, against ~0.22 GB/s for cutting each batch
    into fresh slices (bench_core ``lf64-split``). The result is joined once.
    """
    step = cols * 3 // 4 * 1024
    view = memoryview(data)
    full = len(view) - len(view) % step
    out: list[bytes] = []
    if full:
        if (cols, eol) not in _VIEWS:
            whole = memoryview(bytearray(cols * 1024))
            lines = [whole[j : j + cols] for j in range(0, len(whole), cols)]
            _VIEWS[cols, eol] = whole, [*lines, b""]
        whole, views = _VIEWS[cols, eol]
        for i in range(0, full, step):
            whole[:] = pybase64.b64encode(view[i : i + step])
            out.append(eol.join(views))
    if full < len(view):
        text = pybase64.b64encode(view[full:])
        tail = [text[j : j + cols] for j in range(0, len(text), cols)]
        out.append(eol.join([*tail, b""]))
    return bytearray().join(out)


# --- per-recipient limits -------------------------------------------------------------

HKDF_INFO = b"e2ee_mail benchmark wrap"


def raw_public(public: x25519.X25519PublicKey) -> bytes:
    """Raw 32-octet X25519 public key."""
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _kek(shared: bytes, eph: bytes, recipient: bytes) -> bytes:
    # RFC 9580 §5.1.6 shape: HKDF-SHA256 over ephemeral || recipient || shared.
    return HKDF(hashes.SHA256(), 32, None, HKDF_INFO).derive(eph + recipient + shared)


def wrap_cryptography(recipient: bytes, cek: bytes) -> tuple[bytes, bytes]:
    """One X25519 wrap: ephemeral keygen + exchange + HKDF + AES-KW (cryptography)."""
    eph = x25519.X25519PrivateKey.generate()
    shared = eph.exchange(x25519.X25519PublicKey.from_public_bytes(recipient))
    eph_pub = raw_public(eph.public_key())
    return eph_pub, keywrap.aes_key_wrap(_kek(shared, eph_pub, recipient), cek)


def wrap_pynacl(recipient: bytes, cek: bytes) -> tuple[bytes, bytes]:
    """The same wrap with PyNaCl's X25519 (libsodium) for keygen + exchange."""
    eph_pub, eph_secret = sodium.crypto_box_keypair()
    shared = sodium.crypto_scalarmult(eph_secret, recipient)
    return eph_pub, keywrap.aes_key_wrap(_kek(shared, eph_pub, recipient), cek)


def unwrap_cryptography(
    secret: x25519.X25519PrivateKey, recipient: bytes, eph: bytes, wrapped: bytes
) -> bytes:
    """The recipient side: exchange + HKDF + AES-KW unwrap."""
    shared = secret.exchange(x25519.X25519PublicKey.from_public_bytes(eph))
    return keywrap.aes_key_unwrap(_kek(shared, eph, recipient), wrapped)


RECIPIENT = x25519.X25519PrivateKey.generate()
RECIPIENT_PUB = raw_public(RECIPIENT.public_key())
CEK = bytes(32)
OAEP = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)


def wrap_gcm_encrypt(data: bytes) -> tuple[bytes, bytes, bytes]:
    """The 1 KiB limit: fresh content key, one X25519 wrap, AES-256-GCM of ``data``."""
    cek = os.urandom(32)
    nonce = os.urandom(12)
    eph, wrapped = wrap_cryptography(RECIPIENT_PUB, cek)
    return eph, wrapped, nonce + AESGCM(cek).encrypt(nonce, data, None)


def wrap_gcm_decrypt(data: bytes) -> Callable[[], bytes]:
    """The 1 KiB limit, decrypting: one unwrap, then AES-256-GCM open."""
    eph, wrapped, body = wrap_gcm_encrypt(data)

    def run() -> bytes:
        key = unwrap_cryptography(RECIPIENT, RECIPIENT_PUB, eph, wrapped)
        return AESGCM(key).decrypt(body[:12], body[12:], None)

    return run


def wraps100(alg: str) -> Callable[[], list[object]]:
    """100 wraps of one content key: X25519 to 100 keys, or RSA-3072 OAEP."""
    if alg == "x25519":
        keys = [
            raw_public(x25519.X25519PrivateKey.generate().public_key())
            for _ in range(100)
        ]
        return lambda: [wrap_cryptography(k, CEK) for k in keys]
    public = rsa_key().public_key()
    return lambda: [public.encrypt(CEK, OAEP) for _ in range(100)]


_RSA: list[rsa.RSAPrivateKey] = []


def rsa_key() -> rsa.RSAPrivateKey:
    """One RSA-3072 key for the session."""
    if not _RSA:
        _RSA.append(rsa.generate_private_key(65537, 3072))
    return _RSA[0]


# --- mailbox re-key limit -------------------------------------------------------------

#: Header of a stored mail in the re-key limit's mailbox (the shape bench_rewrap's
#: S/MIME mails have: a few fields, then a base64 body in 76-column CRLF lines).
REKEY_HEAD = (
    b"From: Bob <bob@example.org>\r\nTo: Alice <alice@example.org>\r\n"
    b"Subject: hello\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data;"
    b' name="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
)
#: The limit's recipient entry: ephemeral X25519 public key, then the AES-KW of a
#: 32-octet content key (40 octets), at the start of the decoded body.
REKEY_ENTRY = 32 + 40


def rekey_mail(recipient: bytes, body_size: int) -> bytes:
    """A mail for the re-key limit: one X25519 entry wrapping a fresh content key,
    then ``body_size`` random octets standing for the sealed body."""
    eph, wrapped = wrap_pynacl(recipient, os.urandom(32))
    return REKEY_HEAD + b64_crlf76(eph + wrapped + os.urandom(body_size))


def rekey_loop(
    paths: list[str], secret: bytes, public: bytes, new_recipient: bytes
) -> int:
    """The bulk re-key limit over ``paths`` (files from :func:`rekey_mail`): read the
    file, find the entry (the end of the header, then the decoded body's first
    octets), unwrap the content key with ``secret``, wrap it for ``new_recipient``,
    encode the body again, write it to a temporary file, fsync, rename it over the
    original; one directory fsync at the end makes the renames durable.

    Returns:
        The messages re-keyed.
    """
    key = x25519.X25519PrivateKey.from_private_bytes(secret)
    dirs = set()
    for path in paths:
        with open(path, "rb") as fh:
            data = fh.read()
        start = data.index(b"\r\n\r\n") + 4
        blob = pybase64.b64decode(data[start:], validate=False)
        cek = unwrap_cryptography(key, public, blob[:32], blob[32:REKEY_ENTRY])
        eph, wrapped = wrap_pynacl(new_recipient, cek)
        text = b64_crlf76(eph + wrapped + blob[REKEY_ENTRY:])
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data[:start])
            os.write(fd, text)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dirs.add(os.path.dirname(path))
    for d in dirs:
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return len(paths)


def rekey_pool(
    paths: list[str], secret: bytes, public: bytes, new_recipient: bytes, workers: int
) -> int:
    """:func:`rekey_loop` split over ``workers`` processes, started as the mailbox
    re-key starts its own (spawn), inside the timed call."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if workers == 1:
        return rekey_loop(paths, secret, public, new_recipient)
    ctx = multiprocessing.get_context("spawn")
    shares = [paths[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        done = pool.map(
            rekey_loop,
            shares,
            [secret] * workers,
            [public] * workers,
            [new_recipient] * workers,
        )
        return sum(done)


# --- signature primitive --------------------------------------------------------------


class SignaturePrimitive:
    """One signature over a body as a signing format makes it, with ``cryptography``
    directly: hash the body with the signature's hash, then sign (or verify) the
    digest once.

    - ``"ed25519"``: SHA-512 of the body, Ed25519 over the 64-octet digest. This is
      the work of an OpenPGP v6 Ed25519 signature (RFC 9580 §5.2.4: the hash, then
      the signature over the digest) and of a CMS Ed25519 signature, whose content
      digest is SHA-512 (RFC 8419 §3) and whose signature covers the signed
      attributes that carry it (a few hundred octets, as the digest here).
    - ``"ecdsa-p256"``: SHA-256 of the body, ECDSA P-256 over the digest
      (prehashed), the CMS ECDSA case.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "ed25519":
            self._ed = ed25519.Ed25519PrivateKey.generate()
        elif kind == "ecdsa-p256":
            self._ec = ec.generate_private_key(ec.SECP256R1())
        else:
            raise ValueError(f"no signature primitive {kind!r}")

    def sign(self, body: bytes) -> bytes:
        """Hash ``body`` and sign the digest."""
        if self.kind == "ed25519":
            return self._ed.sign(hashlib.sha512(body).digest())
        digest = hashlib.sha256(body).digest()
        return self._ec.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))

    def verify(self, body: bytes, signature: bytes) -> None:
        """Hash ``body`` and verify ``signature`` over the digest (raises
        ``cryptography.exceptions.InvalidSignature`` when it does not match)."""
        if self.kind == "ed25519":
            self._ed.public_key().verify(signature, hashlib.sha512(body).digest())
            return
        digest = hashlib.sha256(body).digest()
        self._ec.public_key().verify(
            signature, digest, ec.ECDSA(Prehashed(hashes.SHA256()))
        )


# --- post-quantum wraps ------------------------------------------------------------

#: RFC 9980 §4.2.1 combiner tail: the domain separator and its length octet.
PQ_DOMAIN = b"OpenPGPCompositeKDFv1"
PQ_COMBINER_TAIL = PQ_DOMAIN + bytes((len(PQ_DOMAIN),))
#: OpenPGP ML-KEM-768+X25519 (RFC 9980 §2.1).
PQ_OPENPGP_ALGORITHM = 35
#: DER CMSORIforKEMOtherInfo (RFC 9629 §5) for id-aes256-wrap, kekLength 32, no ukm:
#: the HKDF info of every KEMRecipientInfo the library writes (bench_pq.py checks
#: that it is the library's).
KEM_OTHER_INFO = bytes.fromhex("3010300b060960864801650304012d020120")


class PQWrap:
    """One post-quantum wrap of a 32-octet content key, with ``cryptography``
    directly, and the unwrap on the recipient's side. The recipient's public key
    is parsed once (as a sender parses a certificate once), the rest every time.

    - ``"openpgp"``: ML-KEM-768+X25519 (RFC 9980 §4.2): ML-KEM-768 encapsulation,
      an ephemeral X25519 key and exchange, the SHA3-256 key combiner, AES-256 key
      wrap. Returns ecdhCipherText, mlkemCipherText and the wrapped key.
    - ``"cms"``: ML-KEM-768 in KEMRecipientInfo (RFC 9629, RFC 9936):
      encapsulation, HKDF-SHA256 with the DER CMSORIforKEMOtherInfo as info,
      AES-256 key wrap. Returns the KEM ciphertext and the wrapped key.
    """

    def __init__(self, kind: str) -> None:
        if kind not in ("openpgp", "cms"):
            raise ValueError(f"no post-quantum wrap {kind!r}")
        self.kind = kind
        self._mlkem = mlkem.MLKEM768PrivateKey.generate()
        self._mlkem_public = self._mlkem.public_key()
        self._ecdh = x25519.X25519PrivateKey.generate()
        self._ecdh_public = raw_public(self._ecdh.public_key())

    def _openpgp_kek(
        self, mlkem_share: bytes, ecdh_share: bytes, ecdh_ct: bytes
    ) -> bytes:
        return hashlib.sha3_256(
            b"".join(
                (
                    mlkem_share,
                    ecdh_share,
                    ecdh_ct,
                    self._ecdh_public,
                    bytes((PQ_OPENPGP_ALGORITHM,)),
                    PQ_COMBINER_TAIL,
                )
            )
        ).digest()

    def wrap(self, cek: bytes) -> tuple[bytes, ...]:
        """Sender side: the entry's variable fields."""
        mlkem_share, mlkem_ct = self._mlkem_public.encapsulate()
        if self.kind == "cms":
            kek = HKDF(hashes.SHA256(), 32, None, KEM_OTHER_INFO).derive(mlkem_share)
            return mlkem_ct, keywrap.aes_key_wrap(kek, cek)
        eph = x25519.X25519PrivateKey.generate()
        ecdh_share = eph.exchange(
            x25519.X25519PublicKey.from_public_bytes(self._ecdh_public)
        )
        ecdh_ct = raw_public(eph.public_key())
        kek = self._openpgp_kek(mlkem_share, ecdh_share, ecdh_ct)
        return ecdh_ct, mlkem_ct, keywrap.aes_key_wrap(kek, cek)

    def unwrap(self, fields: tuple[bytes, ...]) -> bytes:
        """Recipient side: the content key back from :meth:`wrap`'s fields."""
        if self.kind == "cms":
            mlkem_ct, wrapped = fields
            shared = self._mlkem.decapsulate(mlkem_ct)
            kek = HKDF(hashes.SHA256(), 32, None, KEM_OTHER_INFO).derive(shared)
            return keywrap.aes_key_unwrap(kek, wrapped)
        ecdh_ct, mlkem_ct, wrapped = fields
        mlkem_share = self._mlkem.decapsulate(mlkem_ct)
        ecdh_share = self._ecdh.exchange(
            x25519.X25519PublicKey.from_public_bytes(ecdh_ct)
        )
        kek = self._openpgp_kek(mlkem_share, ecdh_share, ecdh_ct)
        return keywrap.aes_key_unwrap(kek, wrapped)


def pq_encrypt(
    wraps: list[PQWrap], data: bytes
) -> tuple[list[tuple[bytes, ...]], bytes]:
    """The limit of encrypting ``data`` to ``len(wraps)`` post-quantum recipients: a
    fresh content key wrapped for each, then AES-256-GCM of ``data``."""
    cek = os.urandom(32)
    nonce = os.urandom(12)
    entries = [w.wrap(cek) for w in wraps]
    return entries, nonce + AESGCM(cek).encrypt(nonce, data, None)


def pq_decrypt(wrap: PQWrap, data: bytes) -> Callable[[], bytes]:
    """The limit of decrypting ``data`` sealed for ``wrap``'s recipient: one unwrap,
    then AES-256-GCM open."""
    (fields,), body = pq_encrypt([wrap], data)

    def run() -> bytes:
        key = wrap.unwrap(fields)
        return AESGCM(key).decrypt(body[:12], body[12:], None)

    return run
