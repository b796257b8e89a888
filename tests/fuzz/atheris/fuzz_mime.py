"""atheris harness: S/MIME and PGP/MIME mails through decrypt_message."""

from __future__ import annotations

from _harness import e2ee_mail, run, strategies

MAILS = strategies.mails()


def one_input(data: bytes) -> None:
    for _, key in MAILS.values():
        try:
            msg = e2ee_mail.decrypt_message(data, key)
        except e2ee_mail.Error:
            continue
        assert strategies.mail_body(msg) == strategies.BODY_TEXT


if __name__ == "__main__":
    run(one_input, [wire for wire, _ in MAILS.values()])
