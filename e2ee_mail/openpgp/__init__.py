"""OpenPGP: RFC 9580 (v6) and, for GnuPG and other RFC 4880 peers, v4."""
