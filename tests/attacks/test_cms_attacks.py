"""CMS-specific attacks on AuthEnvelopedData (RFC 5083, RFC 5084): shortened GCM tags,
odd nonce lengths, content-type swaps (inner and outer, including the downgrade to
unauthenticated EnvelopedData), OAEP relabelled as PKCS#1 v1.5; plus the regression
test for certificates `cryptography` only warns about."""

from __future__ import annotations

import pytest
import strategies as s

import e2ee_mail
from e2ee_mail.errors import DECRYPTION_FAILED

ID_DATA = "06092a864886f70d010701"
ID_SIGNED_DATA = "06092a864886f70d010702"
ID_AUTH_ENVELOPED = "060b2a864886f70d0109100117"
ID_ENVELOPED = "06092a864886f70d010703"
RSA_ENCRYPTION = "06092a864886f70d010101"
RSAES_OAEP = "06092a864886f70d010107"


def _auth_enveloped(root: s.Node) -> s.Node:
    """ContentInfo -> [0] -> AuthEnvelopedData."""
    assert root.children is not None
    explicit = root.children[1]
    assert explicit.children is not None
    return explicit.children[0]


def _gcm_params(root: s.Node) -> s.Node:
    for _, node in s.der_nodes(root):
        ch = node.children
        if (
            node.tag == b"\x30"
            and ch
            and ch[0].tag == b"\x04"
            and len(ch[0].content) == 12
        ):
            return node
    raise AssertionError("no GCMParameters")


def _mac(root: s.Node) -> s.Node:
    aed = _auth_enveloped(root)
    assert aed.children is not None
    return [c for c in aed.children if c.tag == b"\x04"][-1]


@pytest.mark.parametrize("name", ["cms-x25519-der", "cms-rsa-oaep-der"])
def test_unmodified_fixture_opens(name: str) -> None:
    env = s.envelope(name)
    assert e2ee_mail.decrypt(env.binary, env.key) == s.PLAINTEXT


@pytest.mark.parametrize("icv", [12, 8, 4])
@pytest.mark.parametrize("name", ["cms-x25519-der", "cms-rsa-oaep-der"])
def test_shortened_gcm_tag_is_refused(name: str, icv: int) -> None:
    env = s.envelope(name)
    root = s.parse_der(env.binary)
    params = _gcm_params(root)
    assert params.children is not None
    icv_node = s.Node(b"\x02", bytes([icv]), None)
    params.children[1:] = [] if icv == 12 else [icv_node]  # 12 is the DEFAULT
    mac = _mac(root)
    mac.content = mac.content[:icv]
    with pytest.raises(e2ee_mail.Error) as exc:
        e2ee_mail.decrypt(root.encode(), env.key)
    assert not isinstance(exc.value, e2ee_mail.DecryptionError)  # refused up front
    assert "tag" in str(exc.value)


@pytest.mark.parametrize("name", ["cms-x25519-der", "cms-rsa-oaep-der"])
def test_tag_shortened_without_saying_so_fails(name: str) -> None:
    env = s.envelope(name)
    root = s.parse_der(env.binary)
    mac = _mac(root)
    mac.content = mac.content[:12]
    with pytest.raises(e2ee_mail.Error):
        e2ee_mail.decrypt(root.encode(), env.key)


@pytest.mark.parametrize("size", [0, 1, 8, 11, 13, 16, 64])
def test_gcm_nonce_length_other_than_12_is_refused(size: int) -> None:
    env = s.envelope("cms-x25519-der")
    root = s.parse_der(env.binary)
    params = _gcm_params(root)
    assert params.children is not None
    params.children[0].content = bytes(range(size))
    with pytest.raises(e2ee_mail.Error) as exc:
        e2ee_mail.decrypt(root.encode(), env.key)
    assert not isinstance(exc.value, e2ee_mail.DecryptionError)
    assert "nonce" in str(exc.value)


def _swap_oid(binary: bytes, old: str, new: str) -> bytes:
    old_b, new_b = bytes.fromhex(old), bytes.fromhex(new)
    assert binary.count(old_b) >= 1
    root = s.parse_der(binary)
    for _, node in s.der_nodes(root):
        if (
            node.tag == b"\x06"
            and b"\x06" + bytes([len(node.content)]) + node.content == old_b
        ):
            node.content = new_b[2:]
            return root.encode()
    raise AssertionError("OID not found")


@pytest.mark.parametrize("name", ["cms-x25519-der", "cms-rsa-oaep-der"])
def test_inner_content_type_swap_is_refused(name: str) -> None:
    env = s.envelope(name)
    swapped = _swap_oid(env.binary, ID_DATA, ID_SIGNED_DATA)
    with pytest.raises(e2ee_mail.Error) as exc:
        e2ee_mail.decrypt(swapped, env.key)
    assert isinstance(exc.value, e2ee_mail.UnsupportedError | e2ee_mail.FormatError)


@pytest.mark.parametrize("name", ["cms-x25519-der", "cms-rsa-oaep-der"])
def test_outer_type_downgraded_to_enveloped_data_is_refused(name: str) -> None:
    env = s.envelope(name)
    downgraded = _swap_oid(env.binary, ID_AUTH_ENVELOPED, ID_ENVELOPED)
    with pytest.raises(e2ee_mail.Error):
        e2ee_mail.decrypt(downgraded, env.key)
    # Even with the legacy opt-in, GCM content does not open as CBC.
    with pytest.raises(e2ee_mail.Error):
        e2ee_mail.decrypt(downgraded, env.key, allow_unauthenticated=True)


def test_oaep_relabelled_as_pkcs1v15_is_the_fixed_decryption_error() -> None:
    env = s.envelope("cms-rsa-oaep-der")
    root = s.parse_der(env.binary)
    for _, node in s.der_nodes(root):
        ch = node.children
        if (
            node.tag == b"\x30"
            and ch
            and ch[0].tag == b"\x06"
            and (ch[0].content == bytes.fromhex(RSAES_OAEP)[2:])
        ):
            node.children = [
                s.parse_der(bytes.fromhex(RSA_ENCRYPTION)),
                s.Node(b"\x05", b"", None),
            ]
            break
    else:
        raise AssertionError("no OAEP AlgorithmIdentifier")
    with pytest.raises(e2ee_mail.DecryptionError) as exc:
        e2ee_mail.decrypt(root.encode(), env.key)
    assert str(exc.value) == DECRYPTION_FAILED


def test_key_trans_recipient_info_with_an_empty_version_is_refused() -> None:
    # RFC 5652 §6.2.1 version is a CMSVersion INTEGER; X.690 §8.3.1 gives every
    # INTEGER at least one content octet. "02 00" is malformed, not version 0.
    env = s.envelope("cms-rsa-oaep-der")
    root = s.parse_der(env.binary)
    for parent, node in s.der_nodes(root):
        # A KeyTransRecipientInfo: a SEQUENCE in the RecipientInfos SET.
        if parent is not None and parent.tag == b"\x31" and node.tag == b"\x30":
            assert node.children is not None
            assert node.children[0].content == b"\x00"
            node.children[0].content = b""
            break
    else:
        raise AssertionError("no KeyTransRecipientInfo")
    bad = root.encode()
    with pytest.raises(e2ee_mail.ASN1Error, match="version"):
        e2ee_mail.decrypt(bad, env.key)
    with pytest.raises(e2ee_mail.ASN1Error, match="version"):
        e2ee_mail.inspect(bad)


@pytest.mark.parametrize("serial", [b"\x00", b"\xff", b"\x80\x01"])
def test_certificate_with_non_positive_serial_is_refused(serial: bytes) -> None:
    """Regression (found by the fuzz suite): `cryptography` only warns about such a
    serial; under -W error the warning escaped as a non-library exception."""
    import warnings

    der = s.keys().x509_rsa.public.export(armor=False)
    root = s.parse_der(bytes(der))
    assert root.children is not None
    tbs = root.children[0]
    assert tbs.children is not None
    tbs.children[1].content = serial  # [0] version, then serialNumber
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(e2ee_mail.FormatError):
            e2ee_mail.load_certificate(root.encode())


@pytest.mark.parametrize("version", [b"\x05", b"\x03", b"\xff"])
def test_certificate_with_unknown_version_is_refused(version: bytes) -> None:
    """Regression (found by the fuzz suite): x509.InvalidVersion is not a ValueError
    and escaped load_certificate."""
    der = s.keys().x509_x25519.public.export(armor=False)
    root = s.parse_der(bytes(der))
    assert root.children is not None
    tbs = root.children[0]
    assert tbs.children is not None
    explicit = tbs.children[0]  # [0] EXPLICIT Version
    assert explicit.children is not None
    explicit.children[0].content = version
    with pytest.raises(e2ee_mail.FormatError):
        e2ee_mail.load_certificate(root.encode())


def test_certificate_with_an_empty_subject_rdn_is_refused_at_load() -> None:
    """Regression (found by the fuzz suite): the subject is parsed lazily, so an
    empty RDN raised ValueError later, from repr() / user_ids of a loaded cert."""
    der = s.keys().x509_rsa.public.export(armor=False)
    root = s.parse_der(bytes(der))
    assert root.children is not None
    tbs = root.children[0]
    assert tbs.children is not None
    subject = tbs.children[5]  # version, serial, signature, issuer, validity, subject
    assert subject.tag == b"\x30" and subject.children
    subject.children[0].children = []  # an empty RelativeDistinguishedName SET
    try:
        cert = e2ee_mail.load_certificate(root.encode())
    except e2ee_mail.FormatError:
        return
    repr(cert)
    assert cert.user_ids is not None


def test_certificate_with_a_duplicated_extension_is_refused() -> None:
    """Regression (found by the fuzz suite): x509.DuplicateExtension is not a
    ValueError and escaped load_certificate."""
    der = s.keys().x509_rsa.public.export(armor=False)
    root = s.parse_der(bytes(der))
    assert root.children is not None
    tbs = root.children[0]
    assert tbs.children is not None
    explicit = tbs.children[-1]  # [3] EXPLICIT Extensions
    assert explicit.tag == b"\xa3" and explicit.children
    extensions = explicit.children[0]
    assert extensions.children
    extensions.children.append(extensions.children[0])
    with pytest.raises(e2ee_mail.FormatError):
        e2ee_mail.load_certificate(root.encode())


def test_certificate_with_an_empty_issuer_attribute_loads_without_a_warning() -> None:
    """Regression (found by the fuzz suite): `cryptography` warns about an empty
    issuer CN when the name is read; under -W error it escaped as a UserWarning."""
    import warnings

    der = s.keys().x509_x25519.public.export(armor=False)
    root = s.parse_der(bytes(der))
    assert root.children is not None
    tbs = root.children[0]
    assert tbs.children is not None
    issuer = tbs.children[3]  # [0] version, serial, signature, issuer
    assert issuer.children is not None
    rdn = issuer.children[0]
    assert rdn.children is not None and rdn.children[0].children is not None
    rdn.children[0].children[1].content = b""  # the first attribute's value
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cert = e2ee_mail.load_certificate(root.encode())
    assert cert.format == "x509"


def test_loading_certificates_from_threads_leaves_the_warning_filters_alone() -> None:
    """x509 loading swaps the process-wide warning filters (to refuse what
    `cryptography` only warns about); threads must not leave each other's filter
    behind, and every bad certificate is still refused."""
    import threading
    import warnings

    good = bytes(s.keys().x509_rsa.public.export(armor=False))
    root = s.parse_der(good)
    assert root.children is not None and root.children[0].children is not None
    root.children[0].children[1].content = b"\xff"  # a negative serial number
    bad = root.encode()
    before = list(warnings.filters)
    refused: list[int] = []

    def work() -> None:
        for _ in range(40):
            e2ee_mail.load_certificate(good)
            try:
                e2ee_mail.load_certificate(bad)
            except e2ee_mail.FormatError:
                refused.append(1)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(refused) == 6 * 40
    assert warnings.filters == before
