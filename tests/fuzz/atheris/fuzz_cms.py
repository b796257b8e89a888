"""atheris harness: CMS envelopes (DER and PEM) through e2ee_mail.decrypt."""

from __future__ import annotations

from _harness import e2ee_mail, run, strategies

ENVS = [e for e in strategies.envelopes() if e.family == "cms"]


def one_input(data: bytes) -> None:
    for env in ENVS[:1] + ENVS[3:4]:  # an RSA and an X25519 recipient key
        try:
            out = e2ee_mail.decrypt(data, env.key, policy=env.policy)
        except e2ee_mail.Error:
            continue
        assert bytes(out) == env.plaintext


if __name__ == "__main__":
    run(one_input, [e.data for e in ENVS])
