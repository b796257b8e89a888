"""Policy: what the library will write and what it will agree to open.

A Policy is a frozen value passed down explicitly; it is never stored in a global.
Callers build their own from a preset with :func:`dataclasses.replace`.

Policy is a dataclass to every function of :mod:`dataclasses` (``replace``,
``fields``, ``asdict``, ``is_dataclass``) and behaves as
``@dataclass(frozen=True, slots=True)`` would (equality, hash, repr, pickles,
``FrozenInstanceError``), but is built without :mod:`dataclasses`, which imports
:mod:`inspect` and compiles six methods: about 12 ms of CPU, a quarter of what an
OpenPGP command spends above importing `cryptography`. Its dataclass description
(``__dataclass_fields__``) is made on first use, from a twin built by
:mod:`dataclasses` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal

__all__ = [
    "DEFAULT",
    "LEGACY_DECRYPT",
    "POST_QUANTUM",
    "RFC4880",
    "RFC9580",
    "Policy",
    "post_quantum_refusal",
]

Profile = Literal["auto", "rfc9580", "rfc4880"]

#: Largest body we agree to decompress (OpenPGP compressed data), in bytes.
DEFAULT_MAX_DECOMPRESSED_BYTES: Final = 1 << 30
#: Deepest nesting of OpenPGP containers (compressed inside encrypted ...).
DEFAULT_MAX_NESTING: Final = 8
#: Most recipient entries (RecipientInfos / PKESKs) we parse in one message.
DEFAULT_MAX_RECIPIENTS: Final = 1000
#: Largest header structure (everything before the bulk body) we parse, in bytes.
DEFAULT_MAX_HEADER_BYTES: Final = 16 << 20
#: Smallest RSA modulus we encrypt to, in bits (decryption takes any size).
DEFAULT_MIN_RSA_BITS: Final = 2048
#: SEIPDv2 chunk size octet we write: 2**(c+6) bytes; 16 gives 4 MiB chunks.
DEFAULT_CHUNK_SIZE_OCTET: Final = 16
#: Largest header block (header fields and the empty line after them) of a mail, of
#: a MIME part or of a decrypted entity we read, in bytes; the same for mail given as
#: bytes, as a message object or as a stream. Mail servers cap far lower (Postfix's
#: header_size_limit is 100 KiB).
DEFAULT_MAX_MAIL_HEADER_BYTES: Final = 1 << 20
#: Most memory one Argon2 S2K derivation may use, in KiB: 2 GiB, the first option of
#: RFC 9106 §4 (t=1, p=4, m=2**21), which RFC 9580 §3.7.1.4 gives as its example and
#: its Appendix A sample locked key uses. Above it a key is refused before any work.
DEFAULT_MAX_ARGON2_MEMORY_KIB: Final = 1 << 21
#: Most work one Argon2 S2K derivation may do: passes times memory, in KiB. One pass
#: over 2 GiB; the second RFC 9106 option (t=3, 64 MiB), which OpenPGP.js and
#: go-crypto write by default, is a tenth of it. Every unlock attempt pays this,
#: a wrong passphrase included.
DEFAULT_MAX_ARGON2_WORK_KIB: Final = 1 << 21


class _Described:
    """A class attribute computed on first use: ``__dataclass_fields__`` or
    ``__dataclass_params__`` of a class made by :func:`_frozen_dataclass`, taken
    from a twin that :mod:`dataclasses` builds from the same annotations and
    defaults, then stored on the class."""

    def __init__(self, defaults: dict[str, object]) -> None:
        self.defaults = defaults

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type) -> object:
        import dataclasses

        namespace: dict[str, Any] = {
            "__annotations__": {n: owner.__annotations__[n] for n in self.defaults},
            "__module__": owner.__module__,
            "__qualname__": owner.__qualname__,
            **self.defaults,
        }
        twin: type = dataclasses.dataclass(frozen=True)(
            type(owner.__name__, (), namespace)
        )
        for name in ("__dataclass_fields__", "__dataclass_params__"):
            setattr(owner, name, getattr(twin, name))
        return getattr(owner, self.name)


def _frozen_dataclass(cls: type) -> type:
    """``cls`` (annotated fields, each with a default) as
    ``@dataclass(frozen=True, slots=True)`` would make it, without
    :mod:`dataclasses` (see the module docstring)."""
    names = tuple(cls.__annotations__)
    defaults = {n: cls.__dict__[n] for n in names}
    namespace = {k: v for k, v in cls.__dict__.items() if k not in defaults}
    for key in ("__dict__", "__weakref__"):
        namespace.pop(key, None)
    params = ", ".join(f"{n}=__defaults[{n!r}]" for n in names)
    body = "".join(f"    __set(self, {n!r}, {n})\n" for n in names)
    code = f"def __init__(self, {params}):\n{body}"
    scope: dict[str, Any] = {"__defaults": defaults, "__set": object.__setattr__}
    exec(code, scope)
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = {**cls.__annotations__, "return": None}
    namespace.update(
        __slots__=names,
        __match_args__=names,
        __init__=init,
        __dataclass_fields__=_Described(defaults),
        __dataclass_params__=_Described(defaults),
    )
    return type(cls.__name__, cls.__bases__, namespace)


if TYPE_CHECKING:
    from dataclasses import dataclass as _public_dataclass
else:

    def _public_dataclass(**_options: bool) -> Any:
        return _frozen_dataclass


@_public_dataclass(frozen=True, slots=True)
class Policy:
    """What is written and what is accepted.

    Attributes:
        profile: OpenPGP profile: "auto" chooses from the recipients' advertised
            features (RFC 9580 rules), "rfc9580" writes v6 / SEIPDv2, "rfc4880"
            writes v4 / SEIPDv1.
        allow_unauthenticated: open legacy unauthenticated CMS EnvelopedData (AES-CBC,
            3DES-CBC). Never affects OpenPGP: SED and SEIPDv1 without MDC stay
            refused.
        allow_rsa_pkcs1v15_encrypt: write CMS KeyTransRecipientInfo with RSA
            PKCS#1 v1.5.
        min_rsa_bits: smallest RSA modulus encrypted to, in both formats: encrypt,
            encrypt_stream and rewrap refuse a recipient certificate with a smaller
            RSA key (PolicyError). Decryption with one's own smaller RSA key is
            allowed in both formats: refusing it would protect nothing once the
            ciphertext exists, and would only lock the owner out of old mail.
        max_decompressed_bytes: bound on OpenPGP decompression (bombs are PolicyError).
        max_nesting: bound on nested OpenPGP containers.
        max_recipients: bound on recipient entries parsed in one message.
        max_header_bytes: bound on the non-body part of a message.
        max_mail_header_bytes: bound on one header block of a mail (S/MIME,
            PGP/MIME), a part or a decrypted entity, streamed or not.
        chunk_size_octet: SEIPDv2 chunk size octet written (RFC 9580 §5.13.2).
        max_argon2_memory_kib: bound on the memory of one Argon2 S2K derivation
            (OpenPGP secret keys, RFC 9580 §3.7.1.4), in KiB.
        max_argon2_work_kib: bound on passes times memory of one Argon2 S2K
            derivation, in KiB; what one unlock attempt of a key may cost.
        allow_expired_recipients: encrypt to a certificate past its validity end
            (X.509 notAfter, OpenPGP key expiration time) when the caller means to.
            A certificate not yet valid, revoked, or whose key usage forbids
            encryption is refused whatever this says.
        require_post_quantum: encrypt and re-wrap only when every recipient has
            a post-quantum key (OpenPGP ML-KEM+X25519/X448 per RFC 9980, X.509
            ML-KEM per RFC 9936); otherwise PolicyError names the others and
            nothing is written. Without it a recipient with a post-quantum key
            is still encrypted to with it, and the others classically.
    """

    profile: Profile = "auto"
    allow_unauthenticated: bool = False
    allow_rsa_pkcs1v15_encrypt: bool = False
    min_rsa_bits: int = DEFAULT_MIN_RSA_BITS
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    max_nesting: int = DEFAULT_MAX_NESTING
    max_recipients: int = DEFAULT_MAX_RECIPIENTS
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_mail_header_bytes: int = DEFAULT_MAX_MAIL_HEADER_BYTES
    chunk_size_octet: int = DEFAULT_CHUNK_SIZE_OCTET
    allow_expired_recipients: bool = False
    max_argon2_memory_kib: int = DEFAULT_MAX_ARGON2_MEMORY_KIB
    max_argon2_work_kib: int = DEFAULT_MAX_ARGON2_WORK_KIB
    require_post_quantum: bool = False

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in self.__match_args__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        mine: tuple[Any, ...] = self._values()
        return mine == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__match_args__)
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self) -> list[Any]:
        # The state ``@dataclass(frozen=True, slots=True)`` pickles: pickles
        # made by either load with the other.
        return list(self._values())

    def __setstate__(self, state: list[Any]) -> None:
        for name, value in zip(self.__match_args__, state, strict=True):
            object.__setattr__(self, name, value)


def post_quantum_refusal(names: list[str]) -> str:
    """The PolicyError text for recipients ``names`` that have no post-quantum key
    under a policy that requires one (the same in both formats)."""
    which = "this recipient has" if len(names) == 1 else "these recipients have"
    return (
        f"the policy requires post-quantum encryption and {which} no post-quantum "
        f"(ML-KEM) key: {', '.join(names)}; ask them for a post-quantum "
        "certificate, or leave them out"
    )


DEFAULT: Final = Policy()
RFC9580: Final = Policy(profile="rfc9580")
RFC4880: Final = Policy(profile="rfc4880")
LEGACY_DECRYPT: Final = Policy(allow_unauthenticated=True)
#: For organisations that send only what a quantum computer cannot open later.
POST_QUANTUM: Final = Policy(require_post_quantum=True)
