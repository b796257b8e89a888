"""Runners for the published ECDH vectors of the prime curves and X448.

Each runner calls exactly what OpenPGP's ECDH (18) and X448 (26) recipients call:
:func:`e2ee_mail.core.ecdh.prime_agree` and :func:`~e2ee_mail.core.ecdh.
prime_ephemeral_agree_from_parts` (with the private key built by
``prime_private_key``, as the key loader builds it), and
:func:`e2ee_mail.core.x448.agree` and :func:`~e2ee_mail.core.x448.
ephemeral_agree_from_parts`. The sender and the recipient side must
agree: both give the expected secret, or both refuse.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import x448 as _x448

from ..core import ecdh, x448
from ..errors import Error
from ..policy import Policy
from .case import Case, Mismatch

__all__: list[str] = []


def both_sides(
    case: Case, sender: Callable[[], bytes], recipient: Callable[[], bytes]
) -> None:
    """Run both sides of an agreement (also X25519's, in :mod:`.core`); the
    recipient's Error is the case's outcome."""
    sender_error: Error | None = None
    sent = b""
    try:
        sent = sender()
    except Error as exc:
        sender_error = exc
    try:
        shared = recipient()
    except Error:
        if sender_error is None:
            raise Mismatch(
                "the recipient side refused, the sender side did not"
            ) from None
        raise
    if sender_error is not None:
        raise Mismatch(
            f"the sender side refused ({sender_error}), the recipient did not"
        )
    if sent != shared:
        raise Mismatch("the sender and recipient sides disagree")
    if case.expected and shared != case.expected_hex("shared"):
        raise Mismatch(
            f"agree gave {shared.hex()[:64]}, expected "
            f"{case.expected_hex('shared').hex()[:64]}"
        )


def run_ecdh(case: Case, policy: Policy) -> None:
    curve = case.text("curve")
    private, public = case.hex("private"), case.hex("public")
    key = ecdh.prime_private_key(curve, private)
    both_sides(
        case,
        lambda: ecdh.prime_ephemeral_agree_from_parts(curve, public, private)[1],
        lambda: ecdh.prime_agree(key, public),
    )


def run_x448(case: Case, policy: Policy) -> None:
    private, public = case.hex("private"), case.hex("public")
    key = _x448.X448PrivateKey.from_private_bytes(private)
    both_sides(
        case,
        lambda: x448.ephemeral_agree_from_parts(public, private)[1],
        lambda: x448.agree(key, public),
    )
