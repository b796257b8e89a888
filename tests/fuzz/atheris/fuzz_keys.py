"""atheris harness: certificates and secret keys (X.509, PKCS#8, OpenPGP v4/v6)
through load_certificate and load_key."""

from __future__ import annotations

from _harness import e2ee_mail, run, strategies


def one_input(data: bytes) -> None:
    for kind in ("cert", "key"):
        try:
            loaded = strategies.load_key_or_cert(kind, data, strategies.PASSPHRASE)
        except e2ee_mail.Error:
            continue
        repr(loaded)


if __name__ == "__main__":
    run(one_input, [blob for _, blob, _, _ in strategies.key_exports().values()])
