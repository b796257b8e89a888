"""Write e2ee_mail/vectors/data/openpgp/rfc9580-signatures.json from RFC 9580
Appendix A (data only; run by hand: python vectors/gen/rfc9580_signatures.py).

The samples are transcribed from https://www.rfc-editor.org/rfc/rfc9580 (A.1, A.2,
A.3, A.6, A.7). The negative cases change one octet of a sample; this script only
selects, labels and alters published data, so its output is checked by running
``e2ee-mail vectors verify``, not by trusting this script.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

OUT = (
    Path(__file__).resolve().parents[2]
    / "e2ee_mail"
    / "vectors"
    / "data"
    / "openpgp"
    / "rfc9580-signatures.json"
)

# A.1: the v4 Ed25519Legacy Public Key packet (no User ID, no self-signature).
A1_KEY_PACKET = (
    "98 33 04 53 f3 5f 0b 16  09 2b 06 01 04 01 da 47 "
    "0f 01 01 07 40 3f 09 89  94 bd d9 16 ed 40 53 19 "
    "79 34 e4 a8 7c 80 73 3a  12 80 d6 2f 80 10 99 2e "
    "43 ee 3b 24 06"
).replace(" ", "")
# A.2: its signature over "OpenPGP".
A2_SIGNATURE = """-----BEGIN PGP SIGNATURE-----

iF4EABYIAAYFAlX5X5UACgkQjP3hIZeWWpr2IgD/VvkMypjiECY3vZg/2xbBMd/S
ftgr9N3lYG4NdWrtM2YBANCcT6EVJ/A44PV/IgHYLy6iyQMyZfps60iehUuuYbQE
-----END PGP SIGNATURE-----
"""
# A.3: the v6 certificate.
A3_CERT = """-----BEGIN PGP PUBLIC KEY BLOCK-----

xioGY4d/4xsAAAAg+U2nu0jWCmHlZ3BqZYfQMxmZu52JGggkLq2EVD34laPCsQYf
GwoAAABCBYJjh3/jAwsJBwUVCg4IDAIWAAKbAwIeCSIhBssYbE8GCaaX5NUt+mxy
KwwfHifBilZwj2Ul7Ce62azJBScJAgcCAAAAAK0oIBA+LX0ifsDm185Ecds2v8lw
gyU2kCcUmKfvBXbAf6rhRYWzuQOwEn7E/aLwIwRaLsdry0+VcallHhSu4RN6HWaE
QsiPlR4zxP/TP7mhfVEe7XWPxtnMUMtf15OyA51YBM4qBmOHf+MZAAAAIIaTJINn
+eUBXbki+PSAld2nhJh/LVmFsS+60WyvXkQ1wpsGGBsKAAAALAWCY4d/4wKbDCIh
BssYbE8GCaaX5NUt+mxyKwwfHifBilZwj2Ul7Ce62azJAAAAAAQBIKbpGG2dWTX8
j+VjFM21J0hqWlEg+bdiojWnKfA5AQpWUWtnNwDEM0g12vYxoWM8Y81W+bHBw805
I8kWVkXU6vFOi+HWvv/ira7ofJu16NnoUkhclkUrk0mXubZvyl4GBg==
-----END PGP PUBLIC KEY BLOCK-----
"""
A3_FINGERPRINT = "CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9"
# A.6: the text signature of the cleartext-signed message, and the message text with
# its dash-escaping removed (RFC 9580 §7.2); its line ends are made CR LF when hashed.
A6_SIGNATURE = """-----BEGIN PGP SIGNATURE-----

wpgGARsKAAAAKQWCY5ijYyIhBssYbE8GCaaX5NUt+mxyKwwfHifBilZwj2Ul7Ce6
2azJAAAAAGk2IHZJX1AhiJD39eLuPBgiUU9wUA9VHYblySHkBONKU/usJ9BvuAqo
/FvLFuGWMbKAdA+epq7V4HOtAPlBWmU8QOd6aud+aSunHQaaEJ+iTFjP2OMW0KBr
NK2ay45cX1IVAQ==
-----END PGP SIGNATURE-----
"""
A6_TEXT = b"What we need from the grocery store:\n\n- tofu\n- vegetables\n- noodles\n"
# A.7: the same message and signature, inline-signed.
A7_MESSAGE = """-----BEGIN PGP MESSAGE-----

xEYGAQobIHZJX1AhiJD39eLuPBgiUU9wUA9VHYblySHkBONKU/usyxhsTwYJppfk
1S36bHIrDB8eJ8GKVnCPZSXsJ7rZrMkBy0p1AAAAAABXaGF0IHdlIG5lZWQgZnJv
bSB0aGUgZ3JvY2VyeSBzdG9yZToKCi0gdG9mdQotIHZlZ2V0YWJsZXMKLSBub29k
bGVzCsKYBgEbCgAAACkFgmOYo2MiIQbLGGxPBgmml+TVLfpscisMHx4nwYpWcI9l
JewnutmsyQAAAABpNiB2SV9QIYiQ9/Xi7jwYIlFPcFAPVR2G5ckh5ATjSlP7rCfQ
b7gKqPxbyxbhljGygHQPnqau1eBzrQD5QVplPEDnemrnfmkrpx0GmhCfokxYz9jj
FtCgazStmsuOXF9SFQE=
-----END PGP MESSAGE-----
"""


def _a7_binary() -> bytes:
    body = "".join(A7_MESSAGE.splitlines()[2:-1])
    return base64.b64decode(body)


def _a7_altered() -> str:
    """A.7 with one octet of the literal data changed ("tofu" -> "tofv")."""
    binary = bytearray(_a7_binary())
    at = binary.index(b"tofu") + 3
    binary[at] ^= 0x03
    return bytes(binary).hex()


def _a7_stripped() -> str:
    """A.7 without its trailing Signature packet (signature stripping)."""
    binary = _a7_binary()
    return binary[: binary.index(b"noodles\n") + len(b"noodles\n")].hex()


def main() -> None:
    good = ["good"]
    doc = {
        "schema": "openpgp-signatures.json",
        "kind": "openpgp-signatures",
        "description": (
            "RFC 9580 Appendix A signature samples through "
            "e2ee_mail.openpgp.verifying: the v4 Ed25519Legacy signature of A.2 under "
            "the bare A.1 key packet, the v6 text signature of A.6 as a detached "
            "signature over its (dash-unescaped) text, the A.7 inline-signed message "
            "under the A.3 certificate, and "
            "one-octet alterations of these that must not verify."
        ),
        "source": {
            "name": "RFC 9580 (OpenPGP), Appendix A.1, A.2, A.3, A.6, A.7",
            "url": "https://www.rfc-editor.org/rfc/rfc9580#appendix-A",
        },
        "notes": {
            "Rfc9580": "Published sample from RFC 9580 Appendix A.",
            "Altered": "A published sample with one octet changed: never good.",
            "Stripped": "A published sample with its Signature packet removed.",
            "BareKey": (
                "The A.1 key is published as a lone key packet without "
                "self-signatures, so only the signature's mathematics is checked."
            ),
        },
        "groups": [
            {
                "comment": "v4 Ed25519Legacy (A.1 key, A.2 signature over 'OpenPGP')",
                "cases": [
                    {
                        "id": 1,
                        "comment": "A.2 signature under the A.1 key packet",
                        "flags": ["Rfc9580", "BareKey"],
                        "result": "valid",
                        "inputs": {
                            "op": "verify_with_key_packet",
                            "key_packet": A1_KEY_PACKET,
                            "signature": A2_SIGNATURE,
                            "data": b"OpenPGP".hex(),
                        },
                        "expected": {"statuses": good},
                    },
                    {
                        "id": 2,
                        "comment": "A.2 signature over 'OpenPGQ' instead",
                        "flags": ["Rfc9580", "BareKey", "Altered"],
                        "result": "valid",
                        "inputs": {
                            "op": "verify_with_key_packet",
                            "key_packet": A1_KEY_PACKET,
                            "signature": A2_SIGNATURE,
                            "data": b"OpenPGQ".hex(),
                        },
                        "expected": {"statuses": ["bad"]},
                    },
                ],
            },
            {
                "comment": "v6 Ed25519 text signature (A.3 certificate, A.6, A.7)",
                "cases": [
                    {
                        "id": 3,
                        "comment": "A.6 signature, detached, over the message text",
                        "flags": ["Rfc9580"],
                        "result": "valid",
                        "inputs": {
                            "op": "verify_detached",
                            "cert": A3_CERT,
                            "signature": A6_SIGNATURE,
                            "data": A6_TEXT.hex(),
                        },
                        "expected": {"statuses": good, "fingerprint": A3_FINGERPRINT},
                    },
                    {
                        "id": 4,
                        "comment": "A.6 signature over the text with CR LF line ends "
                        "(a text signature hashes canonical line ends)",
                        "flags": ["Rfc9580"],
                        "result": "valid",
                        "inputs": {
                            "op": "verify_detached",
                            "cert": A3_CERT,
                            "signature": A6_SIGNATURE,
                            "data": A6_TEXT.replace(b"\n", b"\r\n").hex(),
                        },
                        "expected": {"statuses": good, "fingerprint": A3_FINGERPRINT},
                    },
                    {
                        "id": 5,
                        "comment": (
                            "A.6 signature over the text with a dash-escape left in"
                        ),
                        "flags": ["Rfc9580", "Altered"],
                        "result": "valid",
                        "inputs": {
                            "op": "verify_detached",
                            "cert": A3_CERT,
                            "signature": A6_SIGNATURE,
                            "data": A6_TEXT.replace(b"- tofu", b"- - tofu").hex(),
                        },
                        "expected": {
                            "statuses": ["bad"],
                            "fingerprint": A3_FINGERPRINT,
                        },
                    },
                    {
                        "id": 6,
                        "comment": "A.7 inline-signed message",
                        "flags": ["Rfc9580"],
                        "result": "valid",
                        "inputs": {
                            "op": "verify_inline",
                            "cert": A3_CERT,
                            "message": A7_MESSAGE,
                        },
                        "expected": {
                            "statuses": good,
                            "fingerprint": A3_FINGERPRINT,
                            "plaintext": A6_TEXT.hex(),
                        },
                    },
                    {
                        "id": 7,
                        "comment": "A.7 with one octet of its literal data changed",
                        "flags": ["Rfc9580", "Altered"],
                        "result": "valid",
                        "inputs": {
                            "op": "verify_inline",
                            "cert": A3_CERT,
                            "message_hex": _a7_altered(),
                        },
                        "expected": {
                            "statuses": ["bad"],
                            "fingerprint": A3_FINGERPRINT,
                            "plaintext": A6_TEXT.replace(b"tofu", b"tofv").hex(),
                        },
                    },
                    {
                        "id": 8,
                        "comment": "A.7 with its Signature packet removed",
                        "flags": ["Rfc9580", "Stripped"],
                        "result": "valid",
                        "inputs": {
                            "op": "verify_inline",
                            "cert": A3_CERT,
                            "message_hex": _a7_stripped(),
                        },
                        "expected": {"statuses": ["bad"], "plaintext": A6_TEXT.hex()},
                    },
                ],
            },
        ],
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
