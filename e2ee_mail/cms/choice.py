"""Which of the recipient certificates a CMS message is encrypted to, and whether
the policy lets it be sent to them.

A person may hand over two certificates: a classic one (RSA, X25519, NIST curves)
and an ML-KEM one (RFC 9935) for RFC 9936 KEMRecipientInfo. Wrapping the content
key for both would leave it open to whoever breaks the classic wrap later, so the
message goes to the ML-KEM certificate alone, as an OpenPGP certificate with both
kinds of subkey is encrypted to its post-quantum one (RFC 9980). Two
certificates belong to the same person when they share an email address, or, with
none, the subject name.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import PolicyError
from ..policy import Policy, post_quantum_refusal
from ..x509.certs import X509Certificate

__all__ = ["choose", "is_post_quantum"]


def is_post_quantum(cert: X509Certificate) -> bool:
    """Whether ``cert`` holds an ML-KEM key."""
    return cert.algorithm.startswith("mlkem")


def _identities(cert: X509Certificate) -> set[str]:
    if cert.emails:
        return {e.lower() for e in cert.emails}
    return {"subject:" + cert.user_ids[0]}


def choose(certs: Sequence[X509Certificate], policy: Policy) -> list[X509Certificate]:
    """``certs`` without the classic certificates of a person who also has an
    ML-KEM one among them, in the given order.

    Raises:
        PolicyError: the policy requires post-quantum encryption and a recipient
            has no ML-KEM certificate (every such one named).
    """
    quantum = [is_post_quantum(c) for c in certs]
    kept = list(certs)
    if any(quantum) and not all(quantum):
        covered = set().union(
            *(_identities(c) for c, pq in zip(certs, quantum, strict=True) if pq)
        )
        kept = [
            c
            for c, pq in zip(certs, quantum, strict=True)
            if pq or not _identities(c) & covered
        ]
    if policy.require_post_quantum:
        classic = [c.display_name for c in kept if not is_post_quantum(c)]
        if classic:
            raise PolicyError(post_quantum_refusal(classic))
    return kept
