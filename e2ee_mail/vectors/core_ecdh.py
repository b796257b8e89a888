"""Runners for the published ECDH vectors of the prime curves and X448.

Each runner calls exactly what the ECDH recipients call: for the prime curves
(named as OpenPGP keys name them, "nistp256" and so on), what OpenPGP ECDH (18)
and CMS ECDH share, :func:`e2ee_mail.core.ecdh_prime.decode_point` then
:func:`~e2ee_mail.core.ecdh_prime.agree` (with the private key built by
``private_key``, as the key loader builds it), and :func:`~e2ee_mail.core.ecdh_prime.
ephemeral_agree_from_parts`; for X448 (26), :func:`e2ee_mail.core.x448.agree` and
:func:`~e2ee_mail.core.x448.ephemeral_agree_from_parts`. The sender and the
recipient side must agree: both give the expected secret, or both refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric import x448 as _x448

from ..core import ecdh_prime, x448
from ..errors import Error
from ..openpgp.curves import PRIME_CURVES
from ..policy import Policy
from .case import Case, Mismatch

__all__ = ["both_sides", "run_rfc7748"]

_K = TypeVar("_K")


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
    curve = PRIME_CURVES[case.text("curve")]
    private, public = case.hex("private"), case.hex("public")
    key = ecdh_prime.private_key(curve, private)

    def sender() -> bytes:
        peer = ecdh_prime.decode_point(curve, public)
        return ecdh_prime.ephemeral_agree_from_parts(peer, private)[1]

    both_sides(
        case,
        sender,
        lambda: ecdh_prime.agree(key, ecdh_prime.decode_point(curve, public)),
    )


def run_rfc7748(
    case: Case,
    load: Callable[[bytes], _K],
    agree: Callable[[_K, bytes], bytes],
    ephemeral_agree_from_parts: Callable[[bytes, bytes], tuple[bytes, bytes]],
) -> None:
    """An X25519 or X448 case: the recipient's key loaded from the raw private key,
    the sender's ephemeral pinned to it."""
    private, public = case.hex("private"), case.hex("public")
    key = load(private)
    both_sides(
        case,
        lambda: ephemeral_agree_from_parts(public, private)[1],
        lambda: agree(key, public),
    )


def run_x448(case: Case, policy: Policy) -> None:
    run_rfc7748(
        case,
        _x448.X448PrivateKey.from_private_bytes,
        x448.agree,
        x448.ephemeral_agree_from_parts,
    )
