"""mime/hcp.py: the Header Confidentiality Policies of RFC 9788 §3.2, and the
checks on a caller's own."""

from __future__ import annotations

import pytest

from e2ee_mail.errors import UsageError
from e2ee_mail.mime import hcp as policies


def test_baseline_obscures_the_subject_and_removes_keywords_and_comments() -> None:
    hcp = policies.hcp_baseline
    assert hcp("Subject", "The figures") == "[...]"
    assert hcp("SUBJECT", "The figures") == "[...]"
    assert hcp("Keywords", "contract") is None
    assert hcp("comments", "not for the file") is None
    for name, value in [
        ("From", "Alice <alice@example.org>"),
        ("Date", "Sat, 20 Feb 2021 10:09:02 -0500"),
        ("List-Unsubscribe", "<https://example.org/u/1>"),
        ("X-SES-CONFIGURATION-SET", "transactional"),
    ]:
        assert hcp(name, value) == value


def test_minimal_obscures_the_subject_only() -> None:
    assert policies.hcp_minimal("Subject", "The figures") == "[...]"
    assert policies.hcp_minimal("Keywords", "contract") == "contract"
    assert policies.hcp_minimal("Comments", "c") == "c"


def test_no_confidentiality_shows_everything() -> None:
    assert policies.hcp_no_confidentiality("Subject", "The figures") == "The figures"


def test_shy_drops_display_names_and_the_time_zone() -> None:
    hcp = policies.hcp_shy
    assert hcp("From", "Alice <alice@example.org>") == "alice@example.org"
    assert (
        hcp("To", 'Bob <bob@example.org>, "Carol, C." <carol@example.org>')
        == "bob@example.org, carol@example.org"
    )
    assert hcp("Cc", "Team: Dan <dan@example.org>;") == "Team: dan@example.org;"
    assert hcp("Date", "Sat, 20 Feb 2021 10:09:02 -0500") == (
        "Sat, 20 Feb 2021 15:09:02 +0000"
    )
    assert hcp("Date", "Sat, 20 Feb 2021 10:09:02 -0000") == (
        "Sat, 20 Feb 2021 10:09:02 +0000"
    )
    # What it does not understand, it leaves alone.
    assert hcp("Date", "yesterday") == "yesterday"
    assert hcp("To", "undisclosed-recipients:;") == "undisclosed-recipients:;"
    # And the baseline rules still hold.
    assert hcp("Subject", "x") == "[...]"
    assert hcp("Keywords", "x") is None
    assert hcp("Reply-To", "Alice <a@example.org>") == "Alice <a@example.org>"


def test_a_policy_is_named_or_given() -> None:
    assert policies.resolve_hcp("shy")("Subject", "x") == "[...]"
    assert policies.resolve_hcp(lambda n, v: v.upper())("X-A", "b") == "B"
    with pytest.raises(UsageError, match="unknown header confidentiality policy"):
        policies.resolve_hcp("strong")
    with pytest.raises(UsageError):
        policies.resolve_hcp(3)


@pytest.mark.parametrize(
    ("answer", "name", "match"),
    [
        (lambda n, v: 1, "X-A", "returned int"),
        (lambda n, v: "a\r\nBcc: x@example.org", "X-A", "line break"),
        (lambda n, v: None, "From", "removed From"),
        (lambda n, v: None, "Date", "removed Date"),
    ],
)
def test_a_callers_policy_is_checked(answer: object, name: str, match: str) -> None:
    checked = policies.resolve_hcp(answer)
    with pytest.raises(UsageError, match=match):
        checked(name, "value")
