"""atheris harness: OpenPGP messages (binary and armored) through decrypt and
decrypt_stream."""

from __future__ import annotations

import io

from _harness import e2ee_mail, run, strategies

ENVS = [e for e in strategies.envelopes() if e.family == "openpgp"]
KEYS = {id(e.key): e for e in ENVS}


def one_input(data: bytes) -> None:
    for env in KEYS.values():
        try:
            out = e2ee_mail.decrypt(data, env.key)
        except e2ee_mail.Error:
            pass
        else:
            assert bytes(out) == env.plaintext
    env = ENVS[0]
    sink = io.BytesIO()
    try:
        e2ee_mail.decrypt_stream(io.BytesIO(data), sink, env.key)
    except e2ee_mail.Error:
        assert env.plaintext.startswith(sink.getvalue())


if __name__ == "__main__":
    run(one_input, [e.data for e in ENVS])
