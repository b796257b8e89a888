"""OpenPGP: RFC 9580 (v6) and, for GnuPG and other RFC 4880 peers, v4."""

# The v4 compatibility module registers the legacy curves (EdDSALegacy, ECDH over
# Curve25519Legacy) with the key-material and PKESK seams. It is imported on first
# need (keymaterial.load_v4, called where those seams are looked up), not here:
# eagerly it cost ~200 ms of every CLI start (issue 6).
