"""S/MIME (RFC 8551) and PGP/MIME (RFC 3156) mail, with RFC 9788 header protection."""
