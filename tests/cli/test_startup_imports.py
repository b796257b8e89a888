"""CLI start-up stays lean: what each command imports, checked without any timing.

The CLI at 1 KiB aims at no more than 1.5x the import floor of its job, and most of
what it spends above that floor is imports. The measured wins are structural: an
OpenPGP encrypt or decrypt never imports the CMS/MIME stacks, ``email``,
``asn1crypto``, ``pyasn1``, ``tempfile``/``shutil`` or the keyring; a CMS one never
imports the OpenPGP/MIME stacks, ``inspect()``'s descriptions or the general CMS
reader's ``pyasn1`` (the DER fast path reads our messages), and reading a recipient
certificate imports neither ``asn1crypto`` nor private-key serialization;
``import e2ee_mail`` costs only the exception classes, and the argument parser builds
only the chosen command.
These tests run the real command in a fresh interpreter and assert on
``sys.modules``, so a new eager import fails here instead of slowly eating the
start-up budget. They never assert a duration.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import e2ee_mail
from e2ee_mail import cli

# Runs the CLI in-process in a fresh interpreter, then writes sys.modules to the file
# named by the first argument (stdout belongs to the command).
_PROBE = """
import sys
from e2ee_mail.cli import main
status = main(sys.argv[2:])
with open(sys.argv[1], "w") as fh:
    fh.write("\\n".join(sorted(sys.modules)))
sys.exit(status)
"""

#: The probes import the e2ee_mail this test imported (a checkout, a worktree), not
#: whichever one the interpreter's own path would find first.
_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(
        filter(
            None,
            [str(Path(e2ee_mail.__file__).parent.parent), os.environ.get("PYTHONPATH")],
        )
    ),
}

#: Never needed by a bare OpenPGP encrypt or decrypt (file to file).
_NOT_FOR_OPENPGP = (
    # other formats and their parsers
    "asn1crypto",
    "pyasn1",
    "pyasn1_alt_modules",
    "email",
    "e2ee_mail.cms",
    "e2ee_mail.mime",
    "e2ee_mail.x509.certs",
    "e2ee_mail.keys.gnupg",
    "cryptography.x509",
    # v4 / RFC 4880 only, key generation, other commands
    "e2ee_mail.openpgp.keygen_v4",
    "e2ee_mail.openpgp.curves",
    "e2ee_mail.openpgp.pkesk_ecdh",
    "e2ee_mail.core.ecdh",
    "e2ee_mail.openpgp.seipdv1",
    "e2ee_mail.openpgp.compression",
    "e2ee_mail.openpgp.keygen",
    "e2ee_mail.openpgp.rotate",
    "e2ee_mail.keys.ring",
    "e2ee_mail.cli_keyring",
    "e2ee_mail.mailbox.rewrap",
    "e2ee_mail.vectors",
    "e2ee_mail._demo",
    # LibrePGP's OCB Encrypted Data and AES-EAX: read-only, for old messages
    "e2ee_mail.openpgp.ocbed",
    "e2ee_mail.openpgp.packets.ocbed",
    "e2ee_mail.core.eax",
    "cryptography.hazmat.primitives.cmac",
    # v4 armor CRC, PEM/SSH key serialization, inspect()'s descriptions
    "anycrc",
    "cryptography.hazmat.primitives.serialization",
    "e2ee_mail._inspect",
    # stdlib the CLI used to pull in for nothing (atomic writes, help width, keyring)
    "tempfile",
    "shutil",
    "bz2",
    "lzma",
    "pathlib",
    "datetime",
    "json",
    "subprocess",
    "concurrent",
    "multiprocessing",
    # dataclasses imports inspect (and ast, dis, tokenize): internal types build on
    # core.record.Record, Policy builds without it, and the public verdict types
    # (model.SignatureResult ...) are imported only by verifying
    "dataclasses",
    "inspect",
    # signature schemes no v6 key uses, and hmac (recipients are matched by their
    # public names; only an RSA session key's checksum is compared in constant time)
    "cryptography.hazmat.primitives.asymmetric.dsa",
    "cryptography.hazmat.primitives.asymmetric.ed448",
    "hmac",
)
#: Never needed by a bare CMS encrypt or decrypt (file to file). `email` is not
#: listed: `cryptography.x509`, which reads the certificates, imports it.
_NOT_FOR_CMS = (
    "e2ee_mail.openpgp",
    "e2ee_mail.mime",
    # signing and verifying: only for --sign-with, --verify-with, sign, verify
    "e2ee_mail.cms.signing",
    "e2ee_mail.cms.signenv",
    "e2ee_mail.cms.signed",
    "e2ee_mail.cms.verification",
    "e2ee_mail.core.signature",
    "e2ee_mail._inspect",
    "e2ee_mail.cms.inspection",
    # the general reader (cms/reference.py): only for what the DER fast path declines
    "pyasn1",
    "pyasn1_alt_modules",
    "e2ee_mail.x509.keygen",
    "e2ee_mail.keys",
    "e2ee_mail.cli_keyring",
    "e2ee_mail.mailbox",
    "e2ee_mail.vectors",
    "e2ee_mail._demo",
    "anycrc",
    "tempfile",
    "shutil",
    "json",
    "subprocess",
    "concurrent",
    "multiprocessing",
)
#: Reading a recipient certificate needs no second ASN.1 parser and none of
#: private-key serialization (its package brings the SSH key format and bcrypt).
_NOT_FOR_CMS_ENCRYPT = (
    "asn1crypto",
    "cryptography.hazmat.primitives.serialization",
    "bcrypt",
    "nacl.bindings",
)
#: A plain command line (the command, its options in full) is parsed without
#: argparse, which imports gettext and, to look up its messages, locale (which
#: `cryptography.x509` imports for CMS anyway, through `email`).
_NOT_FOR_PLAIN_COMMAND_LINE = ("argparse", "gettext", "e2ee_mail.cli_parser")
#: S2K and Argon2 only unlock a passphrase-protected secret key.
_NOT_FOR_UNPROTECTED_KEY = (
    "e2ee_mail.openpgp.s2k",
    "cryptography.hazmat.primitives.kdf.argon2",
)
#: Secret-key protection is for loading secret keys only. The sender's ephemeral
#: X25519 key comes from libsodium's compiled module alone: ``nacl.bindings``
#: imports some twenty binding modules.
_NOT_FOR_ENCRYPT = (
    "e2ee_mail.openpgp.keyprotect",
    "e2ee_mail.openpgp.inner",
    "nacl.bindings",
    *_NOT_FOR_UNPROTECTED_KEY,
)
#: Decrypting uses `cryptography` only.
_NOT_FOR_DECRYPT = ("nacl",)


def _interpreter_modules() -> set[str]:
    """What this interpreter imports before any of our code (site, .pth hooks...)."""
    out = subprocess.run(
        [sys.executable, "-c", "import sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_ENV,
        check=True,
    ).stdout
    return set(out.split())


def _cli_modules(tmp_path: Path, *argv: str) -> set[str]:
    listing = tmp_path / "modules.txt"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(listing), *argv],
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
        env=_ENV,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return set(listing.read_text().split())


def _offenders(
    loaded: set[str], banned: tuple[str, ...], baseline: set[str]
) -> list[str]:
    return sorted(
        name
        for name in loaded - baseline
        if any(name == b or name.startswith(b + ".") for b in banned)
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("startup")
    key = e2ee_mail.generate_key("Startup <startup@example.org>")
    (work / "a.pub").write_bytes(key.public.export())
    (work / "a.key").write_bytes(key.export())
    (work / "m.bin").write_bytes(os.urandom(1024))
    (work / "m.gpg").write_bytes(
        e2ee_mail.encrypt((work / "m.bin").read_bytes(), key.public)
    )
    return work


def test_openpgp_encrypt_imports_no_other_format_or_secret_key_code(
    keys: Path,
) -> None:
    loaded = _cli_modules(
        keys, "encrypt", "--to", "a.pub", "-i", "m.bin", "-o", "out.gpg"
    )
    assert "e2ee_mail.openpgp.message" in loaded  # the probe ran the real command
    assert "nacl._sodium" in loaded  # the ephemeral key: libsodium, directly
    banned = (
        _NOT_FOR_OPENPGP + _NOT_FOR_ENCRYPT + _NOT_FOR_PLAIN_COMMAND_LINE + ("locale",)
    )
    assert _offenders(loaded, banned, _interpreter_modules()) == []


def test_openpgp_decrypt_with_unprotected_key_imports_no_other_format(
    keys: Path,
) -> None:
    loaded = _cli_modules(keys, "decrypt", "--key", "a.key", "-i", "m.gpg", "-o", "o")
    assert (keys / "o").read_bytes() == (keys / "m.bin").read_bytes()
    banned = (
        _NOT_FOR_OPENPGP
        + _NOT_FOR_UNPROTECTED_KEY
        + _NOT_FOR_DECRYPT
        + _NOT_FOR_PLAIN_COMMAND_LINE
        + ("locale",)
    )
    assert _offenders(loaded, banned, _interpreter_modules()) == []


@pytest.fixture(scope="module")
def x509_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("startup-cms")
    key = e2ee_mail.generate_key("Startup <startup@example.org>", format="x509")
    (work / "a.pem").write_bytes(key.public.export())
    (work / "a.key").write_bytes(key.export())
    (work / "m.bin").write_bytes(os.urandom(1024))
    (work / "m.p7").write_bytes(
        e2ee_mail.encrypt((work / "m.bin").read_bytes(), key.public)
    )
    return work


def test_cms_encrypt_imports_no_other_format_or_second_asn1_parser(
    x509_keys: Path,
) -> None:
    loaded = _cli_modules(
        x509_keys, "encrypt", "--to", "a.pem", "-i", "m.bin", "-o", "out.p7"
    )
    assert "e2ee_mail.cms.build" in loaded  # the probe ran the real command
    banned = _NOT_FOR_CMS + _NOT_FOR_CMS_ENCRYPT + _NOT_FOR_PLAIN_COMMAND_LINE
    assert _offenders(loaded, banned, _interpreter_modules()) == []


def test_cms_decrypt_imports_no_other_format(x509_keys: Path) -> None:
    loaded = _cli_modules(
        x509_keys, "decrypt", "--key", "a.key", "-i", "m.p7", "-o", "o"
    )
    assert (x509_keys / "o").read_bytes() == (x509_keys / "m.bin").read_bytes()
    banned = _NOT_FOR_CMS + _NOT_FOR_DECRYPT + _NOT_FOR_PLAIN_COMMAND_LINE
    assert _offenders(loaded, banned, _interpreter_modules()) == []


def test_import_e2ee_mail_loads_only_the_exception_classes() -> None:
    code = "import sys, e2ee_mail; print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=_ENV,
        check=True,
    ).stdout.split()
    ours = sorted(m for m in out if m.split(".")[0] == "e2ee_mail")
    assert ours == ["e2ee_mail", "e2ee_mail.errors"]
    heavy = ("cryptography", "nacl", "dataclasses", "inspect", "tempfile")
    assert _offenders(set(out), heavy, _interpreter_modules()) == []


def test_import_cli_loads_neither_the_library_nor_cryptography() -> None:
    # `e2ee-mail --help` and usage errors must not pay for the library.
    code = "import sys, e2ee_mail.cli; print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=_ENV,
        check=True,
    ).stdout.split()
    heavy = (
        "cryptography",
        "nacl",
        "dataclasses",
        "e2ee_mail._api",
        "e2ee_mail._keys_api",
        "e2ee_mail._mail_api",
        "e2ee_mail.policy",
    )
    assert _offenders(set(out), heavy, _interpreter_modules()) == []


def test_lazy_public_names_are_the_real_objects() -> None:
    from e2ee_mail import _api, _inspect, _keys_api, _mail_api, model, policy
    from e2ee_mail.keys import ring

    assert e2ee_mail.encrypt is _api.encrypt
    assert e2ee_mail.load_key is _keys_api.load_key
    assert e2ee_mail.encrypt_message is _mail_api.encrypt_message
    assert e2ee_mail.Inspection is _inspect.Inspection
    assert e2ee_mail.Certificate is model.Certificate
    assert e2ee_mail.DEFAULT is policy.DEFAULT
    assert e2ee_mail.Keyring is ring.Keyring
    namespace: dict[str, object] = {}
    exec("from e2ee_mail import *", namespace)  # the star-import itself
    assert set(e2ee_mail.__all__) <= set(namespace)
    assert set(e2ee_mail.__all__) <= set(dir(e2ee_mail))
    with pytest.raises(AttributeError, match="no attribute 'encrpyt'"):
        e2ee_mail.encrpyt  # noqa: B018


@pytest.mark.parametrize(
    "argv",
    [
        ["encrypt", "--to", "a.pub", "--to", "b.pub", "--armor", "-i", "x", "-o", "y"],
        ["decrypt", "--key", "a.key", "--allow-unauthenticated"],
        ["keygen", "--uid", "A <a@example.org>", "--out", "a", "--kind", "rsa3072"],
        ["rewrap", "--mailbox", "mb", "--keyring", "kr", "--workers", "2"],
        ["keyring", "--dir", "d", "due", "--max-age", "30d"],
        ["vectors", "verify", "dir"],
        ["inspect", "-i", "m"],
        ["demo"],
    ],
)
def test_parser_for_one_command_parses_like_the_full_parser(argv: list[str]) -> None:
    lazy = cli._build_parser(argv)
    full = cli._build_parser(None)
    assert vars(lazy.parse_args(argv)) == vars(full.parse_args(argv))
    sub = next(a for a in lazy._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == [argv[0]]  # only the chosen command was built


@pytest.mark.parametrize("argv", [["--help"], ["bogus"], ["-h", "encrypt"]])
def test_without_a_known_command_every_command_is_offered(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        cli.main(argv)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    for name in ("keygen", "encrypt", "decrypt", "inspect", "rewrap", "keyring"):
        assert name in text


@pytest.mark.parametrize("columns", ["57", "123", "", "junk"])
def test_help_width_matches_argparse(
    columns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", columns)

    def help_text(formatter: type[argparse.HelpFormatter]) -> str:
        parser = argparse.ArgumentParser(prog="p", formatter_class=formatter)
        parser.add_argument("--long-option-name", help="word " * 40)
        return parser.format_help()

    from e2ee_mail.cli_parser import Formatter

    assert help_text(Formatter) == help_text(argparse.HelpFormatter)


def test_command_help_is_printed_in_full() -> None:
    with contextlib.redirect_stdout(io.StringIO()) as out, pytest.raises(SystemExit):
        cli.main(["encrypt", "--help"])
    assert "--to CERT" in out.getvalue()
    assert "--cipher" in out.getvalue()


def test_the_cli_key_kinds_are_the_models() -> None:
    from e2ee_mail import cli_options
    from e2ee_mail.model import KEY_KINDS

    assert list(KEY_KINDS) == cli_options._KINDS
