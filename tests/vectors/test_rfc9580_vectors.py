"""RFC 9580 Appendix A through our code: the stored vector file and the published
intermediate values of the X25519-AEAD-OCB example (A.8)."""

from __future__ import annotations

import pytest

from e2ee_mail import vectors
from e2ee_mail.openpgp import armor, certs, pkesk, seipdv2
from e2ee_mail.openpgp.packets.header import parse_packets
from e2ee_mail.openpgp.packets.seipd import parse_seipdv2_header

ROOT = vectors.default_dir()
FILE = ROOT / "openpgp" / "rfc9580-appendix-a.json"
CASES = vectors.load_file(FILE, ROOT).cases


# The Argon2 case (2 GiB, seconds) runs once, in tests/vectors/test_vectors.py,
# which runs every case of every file; the others run here as well.
@pytest.mark.parametrize(
    "case", [c for c in CASES if "Argon2" not in c.flags], ids=lambda c: c.name
)
def test_rfc9580_case(case: vectors.Case) -> None:
    vectors.run_case(case)


def test_file_covers_the_samples_the_issue_names() -> None:
    ops = {c.text("op") for c in CASES}
    assert ops == {"load_certificate", "load_key", "decrypt", "open_seipd"}
    flags = {f for c in CASES for f in c.flags}
    assert {"Ocb", "Gcm", "Eax", "Argon2"} <= flags


def _a8() -> tuple[bytes, bytes]:
    case = next(c for c in CASES if c.text("op") == "decrypt")
    packets = parse_packets(armor.dearmor(case.text("message").encode())[1])
    return packets[0].body, packets[1].body


def test_a8_x25519_key_wrap_intermediates() -> None:
    ephemeral = bytes.fromhex(
        "87cf18d5f1b53f817cce5a004cf393cc8958bddc065f25f84af509b17dd36764"
    )
    recipient = bytes.fromhex(
        "8693248367f9e5015db922f8f48095dda784987f2d5985b12fbad16caf5e4435"
    )
    shared = bytes.fromhex(
        "67e30e69cdc7bab2a2680d78aca46a2f8b6e2ae44d398bdc6f92c5ad4a492514"
    )
    kek = pkesk.x25519_kek(ephemeral, recipient, shared)
    assert kek.hex() == "f66dadcff64592239b254539b64ff607"


def test_a8_session_key_and_message_key_derivation() -> None:
    case = next(c for c in CASES if c.text("op") == "decrypt")
    key = certs.load_key(case.text("key").encode(), None)
    pkesk_body, seipd_body = _a8()
    from e2ee_mail.openpgp.packets.pkesk import parse_pkesk

    ((info, private),) = key.decryption_keys()
    cipher, session_key = pkesk.unwrap(parse_pkesk(pkesk_body), private, info)
    assert cipher is None
    assert session_key.hex() == "dd708f6fa1ed65114d68d2343e7c2f1d"
    header = parse_seipdv2_header(seipd_body[:36])
    params = seipdv2.chunk_params(header, session_key)
    assert params.key.hex() == "4512f7149d863341527c6567d5bffc42"
    assert params.nonce_prefix.hex() == "5faf3250212ff9"
    assert params.aad.hex() == "d202070206"
