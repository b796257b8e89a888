"""The options of each ``e2ee-mail`` command: one ``configure_*`` per sub-parser.

Only the chosen command's function runs at start-up (the entry point builds that
sub-parser alone); ``--help`` without a command runs them all.
"""

from __future__ import annotations

import argparse

__all__ = [
    "configure_decrypt",
    "configure_demo",
    "configure_encrypt",
    "configure_inspect",
    "configure_keygen",
    "configure_keyring",
    "configure_rewrap",
    "configure_vectors",
]


_INPUT_HELP = "read from IN (default: stdin)"
_OUTPUT_HELP = (
    "write to OUT, which appears only once the command succeeded (default: "
    "stdout; binary data goes to a terminal only with -o -)"
)


def _passphrase_options(p: argparse.ArgumentParser, use: str, note: str = "") -> None:
    """--passphrase-env, --passphrase-file, --passphrase-fd (one at most): "``use``
    from ..." says what the passphrase is for; ``note`` ends the last help text."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help=f"{use} from environment variable VAR",
    )
    group.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help=f"{use} from the first line of FILE",
    )
    group.add_argument(
        "--passphrase-fd",
        type=_descriptor,
        metavar="N",
        help=f"{use} from the first line read from file descriptor N{note}",
    )


def _descriptor(text: str) -> int:
    """``--passphrase-fd``: a file descriptor number."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a file descriptor number")
    return int(text)


def _key_options(
    p: argparse.ArgumentParser,
    *,
    required: bool,
    use: str = "unlock the --key files with the passphrase",
) -> None:
    p.add_argument(
        "--key",
        action="append",
        required=required,
        metavar="KEY",
        help="secret key file (PKCS#8 or OpenPGP); repeat for several keys",
    )
    _passphrase_options(
        p,
        use,
        "; with none of these, a protected key asks for its passphrase on the "
        "terminal (when stdin is a terminal)",
    )


def configure_keygen(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=["openpgp", "x509"],
        default="openpgp",
        help="OpenPGP key or X.509 certificate and key (default: openpgp)",
    )
    p.add_argument(
        "--kind",
        choices=["x25519", "rsa3072", "rsa4096"],
        default="x25519",
        help="key algorithm (default: x25519)",
    )
    p.add_argument(
        "--profile",
        choices=["rfc9580", "rfc4880"],
        help="OpenPGP key version: v6 (rfc9580, the default) or v4 for GnuPG 2.2",
    )
    p.add_argument(
        "--uid",
        required=True,
        help='user ID: "Name <addr>" or a bare address',
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="PREFIX",
        help="write PREFIX.pub (certificate) and PREFIX.key (secret key, 0600)",
    )
    _passphrase_options(p, "protect PREFIX.key with the passphrase")


def configure_encrypt(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=["openpgp", "cms", "pgpmime", "smime"],
        help="openpgp or cms encrypt IN as it is; pgpmime or smime take a whole "
        "mail (RFC 5322) and write the encrypted mail (default: cms for X.509 "
        "certificates, openpgp for OpenPGP ones)",
    )
    p.add_argument(
        "--to",
        action="append",
        required=True,
        metavar="CERT",
        help="recipient certificate file (X.509 for cms/smime, OpenPGP for "
        "openpgp/pgpmime), or with --keyring an address; repeat for several "
        "recipients",
    )
    p.add_argument(
        "--armor",
        action="store_true",
        help="ASCII armor (openpgp) or PEM (cms) instead of binary",
    )
    p.add_argument(
        "--profile",
        choices=["auto", "rfc9580", "rfc4880"],
        help="OpenPGP container: auto picks SEIPDv2 (rfc9580) when every recipient "
        "supports it, else SEIPDv1 (rfc4880) (default: auto)",
    )
    p.add_argument(
        "--cipher",
        choices=["aes-256-gcm", "aes-256-cbc"],
        default="aes-256-gcm",
        help="aes-256-cbc writes legacy, unauthenticated CMS EnvelopedData for old "
        "S/MIME clients (cms/smime only; default: aes-256-gcm)",
    )
    p.add_argument(
        "--hcp",
        choices=["baseline", "minimal", "shy", "no-confidentiality"],
        help="smime/pgpmime: which header fields the outer mail shows (RFC 9788 "
        "header confidentiality policy; default baseline: Subject [...], "
        "Keywords and Comments left out, every other field as it is)",
    )
    p.add_argument("-i", dest="input", metavar="IN", help=_INPUT_HELP)
    p.add_argument("-o", dest="output", metavar="OUT", help=_OUTPUT_HELP)
    p.add_argument(
        "--keyring",
        metavar="DIR",
        help="--to may name recipients by address: their active certificate in "
        "this keyring (of the format --format asks for)",
    )
    _passphrase_options(p, "unlock a protected --keyring with the passphrase")


def configure_decrypt(p: argparse.ArgumentParser) -> None:
    _key_options(
        p,
        required=False,
        use="unlock the --key files (and a protected --keyring) with the passphrase",
    )
    p.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="also open legacy CMS EnvelopedData (AES-CBC, 3DES-CBC; no integrity)",
    )
    p.add_argument("-i", dest="input", metavar="IN", help=_INPUT_HELP)
    p.add_argument("-o", dest="output", metavar="OUT", help=_OUTPUT_HELP)
    p.add_argument(
        "--mode",
        type=_file_mode,
        metavar="OCTAL",
        help="permissions of OUT, exactly (default: 0600 less the umask)",
    )
    p.add_argument(
        "--keyring",
        metavar="DIR",
        help="also try this keyring's keys: active and decrypt-only versions",
    )
    p.add_argument(
        "--include-retired",
        action="store_true",
        help="with --keyring: retired versions too",
    )


def _file_mode(text: str) -> int:
    """``--mode``: permission bits in octal, as chmod(1) takes them."""
    try:
        mode = int(text, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o777:
        raise argparse.ArgumentTypeError(f"{text!r} is not an octal mode (0 to 777)")
    return mode


def configure_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", dest="input", metavar="IN", help=_INPUT_HELP)


def configure_rewrap(p: argparse.ArgumentParser) -> None:
    _key_options(
        p,
        required=False,
        use="unlock the --key files (or the --keyring) with the passphrase",
    )
    p.add_argument(
        "--to",
        action="append",
        metavar="CERT",
        help="new recipient certificate file; repeat for several recipients",
    )
    p.add_argument(
        "-i",
        dest="input",
        metavar="IN",
        help="read the message (CMS, OpenPGP, S/MIME or PGP/MIME mail) from IN "
        "(default: stdin)",
    )
    p.add_argument("-o", dest="output", metavar="OUT", help=_OUTPUT_HELP)
    from . import cli_keyring

    cli_keyring.configure_rewrap(p)


def configure_keyring(p: argparse.ArgumentParser) -> None:
    from . import cli_keyring

    cli_keyring.configure_keyring(p)


def configure_vectors(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["verify"], help="run every test vector")
    p.add_argument(
        "dir",
        nargs="?",
        default=None,
        metavar="DIR",
        help="the vectors directory (default: the one next to the package)",
    )


def configure_demo(p: argparse.ArgumentParser) -> None:
    """``demo`` takes no options."""
