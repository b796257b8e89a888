"""e2ee-sop: sign, verify, inline-sign, inline-verify, inline-detach, armor,
dearmor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from soprun import fails, ok, sop

from e2ee_mail.sop import status

TEXT = b"Dear Bob,\r\nsee you at noon.   \n-- \nAlice\n"
LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ [0-9A-F]{40,64} [0-9A-F]{40,64} "
    r"mode:(binary|text) .+$"
)


def _file(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("mode", ["binary", "text"])
def test_sign_verify(tmp_path: Path, alice_files: tuple[Path, Path], mode: str) -> None:
    key, cert = alice_files
    sig = _file(tmp_path, "sig", ok("sign", f"--as={mode}", key, stdin=TEXT))
    assert sig.read_bytes().startswith(b"-----BEGIN PGP SIGNATURE-----")
    lines = ok("verify", sig, cert, stdin=TEXT).decode().splitlines()
    assert len(lines) == 1 and LINE.match(lines[0]), lines
    fields = lines[0].split(" ")
    assert fields[3] == f"mode:{mode}"
    fails(status.NO_SIGNATURE, "verify", sig, cert, stdin=TEXT + b"!")


def test_sign_several_keys_micalg(
    tmp_path: Path, alice_files: tuple[Path, Path], bob_files: tuple[Path, Path]
) -> None:
    micalg = tmp_path / "micalg"
    sig = ok(
        "sign",
        "--no-armor",
        "--micalg-out",
        micalg,
        alice_files[0],
        bob_files[0],
        stdin=TEXT,
    )
    assert sig[0] & 0x80
    assert micalg.read_bytes() == b"pgp-sha512"
    sig_file = _file(tmp_path, "sig", sig)
    lines = ok(
        "verify", sig_file, alice_files[1], bob_files[1], stdin=TEXT
    ).splitlines()
    assert len(lines) == 2
    # Only the signer whose certificate is given counts.
    assert len(ok("verify", sig_file, bob_files[1], stdin=TEXT).splitlines()) == 1


def test_verify_window(tmp_path: Path, alice_files: tuple[Path, Path]) -> None:
    key, cert = alice_files
    sig = _file(tmp_path, "sig", ok("sign", key, stdin=TEXT))
    assert ok(
        "verify",
        "--not-before=2000-01-01T00:00:00Z",
        "--not-after=now",
        sig,
        cert,
        stdin=TEXT,
    )
    assert ok("verify", "--not-before=-", "--not-after=-", sig, cert, stdin=TEXT)
    fails(
        status.NO_SIGNATURE, "verify", "--not-after=2000-01-01", sig, cert, stdin=TEXT
    )
    fails(
        status.NO_SIGNATURE,
        "verify",
        "--not-before=2999-01-01T00:00:00Z",
        sig,
        cert,
        stdin=TEXT,
    )
    fails(
        status.UNSUPPORTED_OPTION,
        "verify",
        "--not-before=yesterday",
        sig,
        cert,
        stdin=TEXT,
    )


def test_sign_refusals(tmp_path: Path, alice_files: tuple[Path, Path]) -> None:
    key, cert = alice_files
    fails(status.EXPECTED_TEXT, "sign", "--as=text", key, stdin=b"\xff\xfe")
    fails(status.UNSUPPORTED_OPTION, "sign", "--as=mime", key, stdin=TEXT)
    fails(status.BAD_DATA, "sign", cert, stdin=TEXT)
    fails(status.MISSING_ARG, "verify", stdin=TEXT)
    sig = _file(tmp_path, "sig", ok("sign", key, stdin=TEXT))
    fails(status.MISSING_ARG, "verify", sig, stdin=TEXT)


@pytest.mark.parametrize("mode", ["binary", "text", "clearsigned"])
def test_inline_round_trip(
    tmp_path: Path,
    alice_files: tuple[Path, Path],
    bob_files: tuple[Path, Path],
    mode: str,
) -> None:
    signed = ok("inline-sign", f"--as={mode}", alice_files[0], bob_files[0], stdin=TEXT)
    verifications = tmp_path / "verifications"
    content = ok(
        "inline-verify",
        "--verifications-out",
        verifications,
        alice_files[1],
        bob_files[1],
        stdin=signed,
    )
    lines = verifications.read_text().splitlines()
    assert len(lines) == 2 and all(LINE.match(line) for line in lines)
    expected_mode = "binary" if mode == "binary" else "text"
    assert all(line.split(" ")[3] == f"mode:{expected_mode}" for line in lines)
    if mode == "clearsigned":
        # What a cleartext signature covers: trailing whitespace is not signed.
        assert content == b"Dear Bob,\nsee you at noon.\n--\nAlice\n"
    else:
        assert content == TEXT
    sigs = tmp_path / "sigs"
    body = ok("inline-detach", "--signatures-out", sigs, stdin=signed)
    assert len(ok("verify", sigs, alice_files[1], stdin=body).splitlines()) == 1


def test_inline_refusals(
    tmp_path: Path, alice_files: tuple[Path, Path], bob_files: tuple[Path, Path]
) -> None:
    signed = ok("inline-sign", "--no-armor", alice_files[0], stdin=TEXT)
    fails(status.NO_SIGNATURE, "inline-verify", bob_files[1], stdin=signed)
    fails(
        status.INCOMPATIBLE_OPTIONS,
        "inline-sign",
        "--as=clearsigned",
        "--no-armor",
        alice_files[0],
        stdin=TEXT,
    )
    fails(
        status.EXPECTED_TEXT,
        "inline-sign",
        "--as=clearsigned",
        alice_files[0],
        stdin=b"\xff",
    )
    fails(status.MISSING_ARG, "inline-detach", stdin=signed)
    fails(
        status.BAD_DATA, "inline-detach", "--signatures-out", tmp_path / "s", stdin=TEXT
    )
    fails(
        status.BAD_DATA,
        "inline-verify",
        alice_files[1],
        stdin=b"-----BEGIN PGP SIGNED MESSAGE-----\n",
    )


def test_cleartext_dash_escaping(alice_files: tuple[Path, Path]) -> None:
    text = b"-----BEGIN PGP SIGNATURE-----\n- item\nend\n"
    signed = ok("inline-sign", "--as=clearsigned", alice_files[0], stdin=text)
    assert b"\n- -----BEGIN PGP SIGNATURE-----\n- - item\n" in signed
    assert ok("inline-verify", alice_files[1], stdin=signed) == text


def test_armor_dearmor(alice_files: tuple[Path, Path]) -> None:
    key, cert = alice_files
    binary_key = ok("dearmor", stdin=key.read_bytes())
    assert binary_key[0] & 0x80
    assert ok("armor", stdin=binary_key).startswith(
        b"-----BEGIN PGP PRIVATE KEY BLOCK-----"
    )
    binary_cert = ok("dearmor", stdin=cert.read_bytes())
    assert ok("armor", stdin=binary_cert).startswith(
        b"-----BEGIN PGP PUBLIC KEY BLOCK-----"
    )
    sig = ok("sign", "--no-armor", key, stdin=TEXT)
    assert ok("armor", stdin=sig).startswith(b"-----BEGIN PGP SIGNATURE-----")
    message = ok("encrypt", "--no-armor", cert, stdin=TEXT)
    armored = ok("armor", stdin=message)
    assert armored.startswith(b"-----BEGIN PGP MESSAGE-----")
    # Both are idempotent.
    assert ok("armor", stdin=armored) == armored
    assert ok("dearmor", stdin=message) == message
    assert ok("dearmor", stdin=armored) == message
    both = ok("dearmor", stdin=cert.read_bytes() + b"\n" + key.read_bytes())
    assert both == binary_cert + binary_key
    fails(status.BAD_DATA, "armor", stdin=b"plain text")
    fails(status.BAD_DATA, "dearmor", stdin=b"-----BEGIN PGP MESSAGE-----\n\n!!!\n")


def test_stdout_untouched_on_failure(alice_files: tuple[Path, Path]) -> None:
    result = sop("inline-verify", alice_files[1], stdin=b"\x00garbage")
    assert result.code == status.BAD_DATA and result.out == b""


def test_crc_line_for_v4_only(
    alice_files: tuple[Path, Path], bob_files: tuple[Path, Path]
) -> None:
    def has_crc(armored: bytes) -> bool:
        return re.search(rb"\n=[A-Za-z0-9+/]{4}\n-----END", armored) is not None

    # GnuPG 2.2 wants the CRC24 line on v4 material; RFC 9580 leaves it out.
    assert has_crc(ok("sign", bob_files[0], stdin=TEXT))
    assert has_crc(ok("extract-cert", stdin=bob_files[0].read_bytes()))
    assert not has_crc(ok("sign", alice_files[0], stdin=TEXT))
    assert not has_crc(ok("extract-cert", stdin=alice_files[0].read_bytes()))
