"""OpenPGP: RFC 9580 (v6) and, for GnuPG and other RFC 4880 peers, v4."""

# The v4 compatibility module registers the legacy curves (EdDSALegacy, ECDH over
# Curve25519Legacy) with the key-material and PKESK seams, so any use of the package
# can load and encrypt to v4 keys.
from . import v4keys as _v4keys  # noqa: F401
