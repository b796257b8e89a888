"""The plain command lines parsed without argparse give argparse's namespace.

cli_fastparse.py reads a command line only when argparse would accept it and
leaves everything else (help, errors, abbreviations, ...) to argparse; these tests
hold both halves of that to argparse itself, command line by command line.
"""

from __future__ import annotations

import pytest

from e2ee_mail import cli, cli_fastparse


def _argparse(argv: list[str]) -> dict[str, object]:
    return vars(cli._build_parser(None).parse_args(argv))


@pytest.mark.parametrize(
    "argv",
    [
        ["encrypt", "--to", "a.pub", "-i", "plain", "-o", "out"],
        ["encrypt", "--to", "a.pub", "--to", "b.pub", "--armor", "-i", "x", "-o", "-"],
        ["encrypt", "--format", "cms", "--to", "a.pem", "--cipher", "aes-256-cbc"],
        ["encrypt", "-o", "out", "--to", "a", "--profile", "rfc4880", "--require-pq"],
        ["encrypt", "--to", "a", "--passphrase-env", "P", "--sign-with", "s.key"],
        ["encrypt", "--to", "", "-i", "-"],
        ["encrypt", "--to", "name with spaces", "--hcp", "shy", "--format", "smime"],
        ["decrypt", "--key", "a.key", "-i", "m", "-o", "o"],
        ["decrypt", "--key", "a.key", "--key", "b.key", "--allow-unauthenticated"],
        ["decrypt", "--keyring", "kr", "--include-retired", "--verify-with", "c"],
        ["decrypt", "--passphrase-file", "pw", "--key", "k"],
        ["decrypt"],
        ["keygen", "--uid", "A <a@example.org>", "--out", "a", "--kind", "rsa3072"],
        ["keygen", "--format", "x509", "--uid", "a@example.org", "--out", "x"],
        ["sign", "--key", "a.key", "-i", "m", "-o", "s"],
        ["verify", "--cert", "a.pub", "-i", "s", "--output", "o"],
        ["verify", "--cert", "a.pub", "--signature", "s.sig", "-o", "-"],
        ["inspect", "-i", "m"],
        ["inspect"],
        ["rewrap", "--key", "a.key", "--to", "b.pub", "-i", "m", "-o", "o"],
        ["demo"],
    ],
)
def test_plain_command_lines_parse_as_argparse_does(argv: list[str]) -> None:
    fast = cli_fastparse.parse(argv, cli._COMMANDS)
    assert fast is not None, "a plain command line went to argparse"
    assert vars(fast) == _argparse(argv)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--version"],
        ["-h"],
        ["bogus", "--to", "a"],
        ["encrypt", "--help"],
        ["encrypt", "-h", "--to", "a"],
        ["encrypt"],  # --to is required
        ["encrypt", "--to"],
        ["encrypt", "--to", "a", "-i"],
        ["encrypt", "--to=a"],
        ["encrypt", "--t", "a"],  # an abbreviation
        ["encrypt", "--to", "a", "-iplain"],
        ["encrypt", "--to", "a", "extra"],
        ["encrypt", "--to", "a", "--", "-i", "x"],
        ["encrypt", "--to", "-a"],
        ["encrypt", "--to", "a", "-i", "-1"],
        ["encrypt", "--to", "a", "--format", "pem"],  # not one of the choices
        ["encrypt", "--to", "a", "-i", "x", "-i", "y"],
        ["encrypt", "--to", "a", "--armor", "--armor"],
        ["decrypt", "--passphrase-env", "A", "--passphrase-file", "B"],
        ["decrypt", "--passphrase-fd", "3"],  # a converted value
        ["decrypt", "--mode", "640"],
        ["keyring", "--dir", "d", "list"],
        ["vectors", "verify"],
        ["rewrap", "--workers", "2"],
    ],
)
def test_everything_else_is_left_to_argparse(argv: list[str]) -> None:
    assert cli_fastparse.parse(argv, cli._COMMANDS) is None


def test_every_command_without_options_parses_as_argparse_does() -> None:
    for name in cli._COMMANDS:
        fast = cli_fastparse.parse([name], cli._COMMANDS)
        if fast is not None:
            assert vars(fast) == _argparse([name])


def test_the_namespace_takes_attributes_as_argparses_does() -> None:
    fast = cli_fastparse.parse(["decrypt", "--key", "k"], cli._COMMANDS)
    assert fast is not None
    assert "_passphrase" not in vars(fast)
    fast._passphrase = b"x"  # cli_io.passphrase_of keeps what it read
    assert vars(fast)["_passphrase"] == b"x"
