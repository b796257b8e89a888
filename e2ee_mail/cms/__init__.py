"""CMS (RFC 5652): DER codecs, enveloped-data composers, recipient wraps, PEM."""
