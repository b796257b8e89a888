"""Generate e2ee_mail/vectors/data/openpgp/rnp-librepgp.json with the real rnp (0.16
when this was run): LibrePGP OCB Encrypted Data messages (packet type 20).

    .venv/bin/python vectors/gen/rnp_librepgp.py [OUT]

Every key and message in the file is made by rnp in a temporary home (nothing in it
comes from e2ee_mail): a key from ``rnpkeys --generate-key`` (rnp's default, RSA-2048
primary and subkey, without an expiry, exported unprotected) and messages from
``rnp --encrypt --aead=ocb|eax`` at several chunk sizes and ciphers, compressed or
not, binary and armored, plus two damaged copies. rnp decrypts every "valid" message
again, so the file is confirmed by rnp.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UID = "Vector Rhea <rhea@example.org>"
#: Long enough for many chunks at the smallest chunk size (64 octets).
PLAINTEXT = b"Hello from rnp, in LibrePGP OCB encrypted data\r\n" * 40
MESSAGES = [
    # (comment, rnp options, armored, flags)
    ("--aead=ocb, default chunk size and compression", ["--aead=ocb"], True, []),
    ("--aead=eax, default chunk size and compression", ["--aead=eax"], True, ["eax"]),
    (
        "--aead=ocb --aead-chunk-bits 0 -z 0: 64-octet chunks",
        ["--aead=ocb", "--aead-chunk-bits", "0", "-z", "0"],
        False,
        ["multichunk"],
    ),
    (
        "--aead=eax --aead-chunk-bits 0 -z 0: 64-octet chunks",
        ["--aead=eax", "--aead-chunk-bits", "0", "-z", "0"],
        False,
        ["eax", "multichunk"],
    ),
    (
        "--aead=ocb --cipher AES128 --aead-chunk-bits 4",
        ["--aead=ocb", "--cipher", "AES128", "--aead-chunk-bits", "4"],
        False,
        ["multichunk"],
    ),
    (
        "--aead=eax --cipher AES192 -z 0",
        ["--aead=eax", "--cipher", "AES192", "-z", "0"],
        True,
        ["eax"],
    ),
]


def _run(home: Path, exe: str, *args: str) -> bytes:
    proc = subprocess.run(
        [exe, "--homedir", str(home), *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(f"{exe} {' '.join(args)}: {proc.stderr.decode()}")
    return proc.stdout


def _version() -> str:
    out = subprocess.run(["rnp", "--version"], capture_output=True, check=True)
    return out.stdout.decode().splitlines()[0]


def main(out: Path) -> None:
    cases: list[dict[str, object]] = []

    def case(comment: str, flags: list[str], inputs: dict[str, object], **kw: object):
        item: dict[str, object] = {
            "id": len(cases) + 1,
            "comment": comment,
            "flags": flags,
            "result": kw.pop("result", "valid"),
            "inputs": inputs,
        }
        item.update(kw)
        cases.append(item)

    def encrypted(home: Path, tmp: Path, options: list[str], armored: bool) -> bytes:
        source, target = tmp / "plain", tmp / "msg"
        source.write_bytes(PLAINTEXT)
        extra = ["--armor"] if armored else []
        _run(
            home,
            "rnp",
            "--encrypt",
            "--recipient",
            UID,
            *options,
            *extra,
            "--overwrite",
            "--output",
            str(target),
            str(source),
        )
        msg = target.read_bytes()
        _run(
            home,
            "rnp",
            "--decrypt",
            "--password",
            "",
            "--overwrite",
            "--output",
            str(tmp / "back"),
            str(target),
        )
        assert (tmp / "back").read_bytes() == PLAINTEXT  # confirmed by rnp
        return msg

    def message_input(msg: bytes, armored: bool) -> dict[str, object]:
        if armored:
            return {"op": "decrypt", "message": msg.decode()}
        return {"op": "decrypt", "message_b64": base64.b64encode(msg).decode()}

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        home = tmp / "home"
        home.mkdir()
        _run(
            home,
            "rnpkeys",
            "--generate-key",
            "--userid",
            UID,
            "--password",
            "",
            "--expiration",
            "0",
        )
        key = _run(home, "rnpkeys", "--export-key", "--secret", UID, "--password", "")
        listing = _run(home, "rnpkeys", "--list-keys").decode().split()
        primary, sub = [w.upper() for w in listing if len(w) == 40]
        case(
            "rnpkeys secret key export",
            [],
            {"op": "load_key"},
            expected={"fingerprint": primary, "encryption_key": sub},
        )
        for comment, options, armored, flags in MESSAGES:
            msg = encrypted(home, tmp, options, armored)
            case(
                f"rnp message: {comment}",
                flags,
                message_input(msg, armored),
                expected={"plaintext": PLAINTEXT.hex()},
            )
        msg = bytearray(encrypted(home, tmp, MESSAGES[2][1], False))
        msg[len(msg) // 2] ^= 0x10
        case(
            "64-octet OCB chunks, one bit flipped in a middle chunk",
            ["multichunk", "tampered"],
            message_input(bytes(msg), False),
            result="invalid",
            error="DecryptionError",
        )
        msg = bytearray(encrypted(home, tmp, MESSAGES[3][1], False))
        msg[-1] ^= 0x01
        case(
            "64-octet EAX chunks, one bit flipped in the final tag",
            ["eax", "multichunk", "tampered"],
            message_input(bytes(msg), False),
            result="invalid",
            error="DecryptionError",
        )
    doc = {
        "schema": "openpgp-librepgp.json",
        "kind": "openpgp-librepgp",
        "description": "LibrePGP OCB Encrypted Data messages (packet type 20, OCB and "
        "EAX) made by rnp to an rnp-made RSA key (v3 PKESK), opened by e2ee_mail "
        "with the bytes API and the stream API.",
        "source": {
            "name": f"generated by vectors/gen/rnp_librepgp.py with {_version()}",
            "url": "https://datatracker.ietf.org/doc/html/draft-ietf-openpgp-rfc4880bis-10#section-5.16",
            "confirmed_by": [_version()],
        },
        "notes": {
            "eax": "AEAD algorithm 1 (EAX, 16-octet starting IV); the others are OCB",
            "multichunk": "the body spans many chunks",
            "tampered": "one bit flipped after rnp wrote the message",
        },
        "groups": [
            {
                "comment": f"rnp key {UID}",
                "key": key.decode(),
                "cases": cases,
            }
        ],
    }
    out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else ROOT / "e2ee_mail" / "vectors" / "data" / "openpgp" / "rnp-librepgp.json"
    )
