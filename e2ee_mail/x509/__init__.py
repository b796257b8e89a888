"""X.509 certificates and PKCS#8 keys for CMS recipients: loading and generation."""
