"""Post-quantum OpenPGP signatures (ML-DSA-65+Ed25519, RFC 9980) from the command
line, as a subprocess: ``keygen --kind mldsa65-ed25519`` with a passphrase,
``inspect`` of the certificate, ``sign --detached`` and ``verify``, and the refusal of
the kind for v4 keys."""

from __future__ import annotations

from pathlib import Path

from clirun import assert_good_signature, ok, run, run_in

PASS = {"PQ_PASS": "quantum pass"}


def test_keygen_sign_and_verify_with_a_composite_key(tmp_path: Path) -> None:
    ok(
        "keygen",
        "--format",
        "openpgp",
        "--kind",
        "mldsa65-ed25519",
        "--uid",
        "PQ Signer <pq-signer@example.org>",
        "--out",
        str(tmp_path / "pq"),
        "--passphrase-env",
        "PQ_PASS",
        env=PASS,
    )
    listing = ok("inspect", "-i", str(tmp_path / "pq.pub"))
    assert "primary key:" in listing and "mldsa65-ed25519: usable" in listing
    assert "mlkem768-x25519: encryption key" in listing
    (tmp_path / "note.txt").write_bytes(b"signed after the quantum computer\n")
    ok(
        "sign",
        "--key",
        str(tmp_path / "pq.key"),
        "--passphrase-env",
        "PQ_PASS",
        "--format",
        "openpgp",
        "--detached",
        "--armor",
        "-i",
        str(tmp_path / "note.txt"),
        "-o",
        str(tmp_path / "note.sig"),
        env=PASS,
    )
    proc = run_in(
        tmp_path,
        "verify",
        "--cert",
        "pq.pub",
        "-i",
        "note.txt",
        "--signature",
        "note.sig",
    )
    assert_good_signature(proc, "pq-signer@example.org")


def test_keygen_refuses_the_composite_kind_for_v4(tmp_path: Path) -> None:
    proc = run(
        "keygen",
        "--kind",
        "mldsa65-ed25519",
        "--profile",
        "rfc4880",
        "--uid",
        "x@example.org",
        "--out",
        str(tmp_path / "x"),
    )
    assert proc.returncode == 2, proc.stderr
    assert "v6 keys only" in proc.stderr
    assert not list(tmp_path.iterdir())
