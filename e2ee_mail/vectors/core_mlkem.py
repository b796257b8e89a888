"""Vector runner for kind ``core-mlkem768`` (data/core/mlkem_768_*.json): ML-KEM-768
(FIPS 203) through :mod:`e2ee_mail.core.mlkem`.

The key is built from the case's 64-octet seed d || z by ``mlkem.private_from_bytes``,
the loader of RFC 9980 secret keys, with a fixed X25519 half (the vectors test the
ML-KEM half only). A valid case checks the expanded encapsulation key, the key share
``mlkem.mlkem_decapsulate`` gives for the ciphertext, and that an encapsulation to the
key (``mlkem.encapsulate``, which parses the encapsulation key) decapsulates to the
same KEK. An invalid case must be refused: a seed of another size as the key loader
refuses it (FormatError), a ciphertext of another size as decryption does
(DecryptionError).

:func:`expect_outputs` compares a decapsulation case's published outputs; the
``core-mlkem`` runner (:mod:`.cms_kem`) uses it as well.
"""

from __future__ import annotations

from typing import Final

from ..core import mlkem
from ..policy import Policy
from .case import Case, Mismatch, expect_equal

__all__ = ["expect_outputs", "run_mlkem768"]

#: The X25519 half of the composite key: any valid secret; these vectors do not use it.
_X25519_HALF: Final = bytes(range(1, 33))


def expect_outputs(
    case: Case,
    encapsulation_key: bytes,
    shared: bytes | None,
    *,
    key_field: str,
    shared_field: str,
) -> None:
    """Compare the encapsulation key expanded from the case's seed, where the case
    publishes one under ``key_field``, and the decapsulated shared secret (None for a
    key generation case) with the one under ``shared_field``."""
    if key_field in case.expected:
        expect_equal(
            encapsulation_key.hex(),
            case.expected[key_field],
            "the encapsulation key expanded from the seed",
        )
    if shared is not None:
        expect_equal(
            shared.hex(), case.expected.get(shared_field), "the decapsulated secret"
        )


def run_mlkem768(case: Case, policy: Policy) -> None:
    private = mlkem.private_from_bytes(_X25519_HALF + case.hex("seed"))
    share = mlkem.mlkem_decapsulate(private, case.hex("c"))
    if not case.expected:
        return
    expect_outputs(
        case,
        private.public[len(_X25519_HALF) :],
        share,
        key_field="ek",
        shared_field="K",
    )
    ecdh_ciphertext, mlkem_ciphertext, kek = mlkem.encapsulate(private.public)
    if mlkem.decapsulate(private, ecdh_ciphertext, mlkem_ciphertext) != kek:
        raise Mismatch("an encapsulation to the key does not decapsulate")
