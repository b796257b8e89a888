"""The hot path: AEAD over body bytes, KDFs, key wrap, X25519 and RSA.

Nothing here knows an OID, a packet tag or a MIME header. Every primitive comes from
`cryptography` (or PyNaCl); none is written here.
"""
