"""Re-key an archive of stored mail on a Dask cluster.

    python examples/dask_rekey_archive.py --demo 2000 --workers 2
    python examples/dask_rekey_archive.py --archive s3://bucket/mail \\
        --keyring /srv/keyring --journals /shared/journals --scheduler tcp://host:8786

``--demo N`` builds a throwaway keyring and an archive of N S/MIME messages in a
temp directory, rotates the key, and re-keys the archive on a local cluster of
``--workers`` processes. Otherwise the named archive is re-keyed with the named
keyring, on the cluster at ``--scheduler`` or on a local one. Needs
``pip install 'e2ee_mail[dask]'`` (and ``s3fs`` or another fsspec back end for
object storage).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

import e2ee_mail
from e2ee_mail.keys.ring import Keyring
from e2ee_mail.mailbox.dask_archive import rekey_archive

IDENTITY = "archive@example.org"


def build_demo(where: Path, count: int) -> tuple[str, Path]:
    """A keyring whose identity has just rotated, and ``count`` messages to the
    previous key in ``where/archive/YYYY/NN/``."""
    ring = Keyring.open(where / "keyring")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    ring.rotate(IDENTITY, format="x509", kind="x25519", now=start)
    certs = ring.recipients(IDENTITY)
    archive = where / "archive"
    for i in range(count):
        blob = e2ee_mail.encrypt(b"message %d\r\n" % i * 20, certs, format="cms")
        text = base64.encodebytes(blob).replace(b"\n", b"\r\n")
        path = archive / f"{2020 + i % 5}" / f"{i % 12:02d}" / f"{i:06d}.eml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            b"From: sender@example.org\r\nTo: archive@example.org\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime;"
            b" smime-type=authEnveloped-data\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + text
        )
    ring.rotate(IDENTITY, format="x509", kind="x25519")
    return str(archive), ring.path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", type=int, metavar="N", help="build a demo archive")
    parser.add_argument("--archive", help="an fsspec URL or a directory")
    parser.add_argument("--keyring", help="the keyring directory")
    parser.add_argument("--journals", help="the journal directory (shared)")
    parser.add_argument("--scheduler", help="a Dask scheduler address")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--partition-size", type=int, default=256)
    args = parser.parse_args(argv)

    from distributed import Client, LocalCluster

    with tempfile.TemporaryDirectory() as scratch:
        if args.demo:
            archive, keyring = build_demo(Path(scratch), args.demo)
        elif args.archive and args.keyring:
            archive, keyring = args.archive, args.keyring
        else:
            parser.error("give --demo N, or --archive and --keyring")
        journals = args.journals or os.path.join(scratch, "journals")
        if args.scheduler:
            client = Client(args.scheduler)
            cluster = None
        else:
            cluster = LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                dashboard_address=None,
                worker_dashboard_address=None,
            )
            client = Client(cluster)
        try:
            summary = rekey_archive(
                archive,
                keyring,
                journals,
                client=client,
                partition_size=args.partition_size,
            )
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    print(summary)
    workers = "the cluster's" if args.scheduler else str(args.workers)
    print(f"{summary.rate:.0f} messages/s on {workers} workers")
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
