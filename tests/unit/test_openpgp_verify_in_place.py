"""decrypt(verify_with=) hands out the literal data cut from the decrypted packets
in place, not a copy; the cut falls back to a copy when a view is still open."""

from __future__ import annotations

import pytest
from openpgp_signers import signer

import e2ee_mail
from e2ee_mail.openpgp import verifying

BODY = bytes(range(256)) * 20


@pytest.fixture(scope="module")
def bob() -> e2ee_mail.SecretKey:
    return e2ee_mail.generate_key("Bob <bob@example.org>", format="openpgp")


@pytest.mark.parametrize(
    "size", [0, len(BODY), (4 << 20) + 7], ids=["empty", "small", "two-chunks"]
)
def test_signed_literal_data_comes_out_whole(
    bob: e2ee_mail.SecretKey, size: int
) -> None:
    alice = signer("v6")
    body = (BODY * (size // len(BODY) + 1))[:size]
    sealed = bytes(e2ee_mail.encrypt(body, bob.public, sign_with=alice))  # type: ignore[attr-defined]
    opened = e2ee_mail.decrypt(sealed, bob, verify_with=alice.public)
    assert isinstance(opened, bytearray)
    assert opened == body
    # The buffer is the caller's: growing it does not disturb a second decrypt.
    opened += b"more"
    assert e2ee_mail.decrypt(sealed, bob, verify_with=alice.public) == body


def test_cut_copies_while_a_view_is_open() -> None:
    packets = bytearray(b"headLITERALtail")
    with memoryview(packets) as view:
        assert verifying._cut(packets, 4, 11) == b"LITERAL"
        assert view.tobytes() == b"headLITERALtail"
    assert verifying._cut(packets, 4, 11) is packets
    assert packets == b"LITERAL"
