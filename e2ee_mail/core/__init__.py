"""The hot path: AEAD over body bytes, KDFs, key wrap, X25519 and RSA.

Nothing here knows what an OID, a packet tag or a MIME header means (`oid.py` only
spells an OID out). Every primitive comes from `cryptography` (or PyNaCl); none is
written here.
"""
