"""Policy stays the frozen, slotted dataclass callers know, though it is built
without :mod:`dataclasses` (see policy.py): every :mod:`dataclasses` function,
equality, hash, repr, pickles and the frozen-instance error work as before."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle

import pytest

from e2ee_mail import policy
from e2ee_mail.policy import DEFAULT, Policy


def test_dataclasses_functions_work_on_policy() -> None:
    assert dataclasses.is_dataclass(Policy) and dataclasses.is_dataclass(DEFAULT)
    names = [f.name for f in dataclasses.fields(Policy)]
    assert names[:3] == [
        "profile",
        "allow_unauthenticated",
        "allow_rsa_pkcs1v15_encrypt",
    ]
    assert list(Policy.__match_args__) == names == list(Policy.__slots__)
    defaults = {f.name: f.default for f in dataclasses.fields(DEFAULT)}
    assert defaults == dataclasses.asdict(DEFAULT)
    assert Policy.__dataclass_params__.frozen
    changed = dataclasses.replace(DEFAULT, profile="rfc9580", max_nesting=2)
    assert (
        changed
        == Policy(profile="rfc9580", max_nesting=2)
        == policy.RFC9580.__class__(profile="rfc9580", max_nesting=2)
    )
    assert (
        dataclasses.replace(changed, profile="rfc9580", max_nesting=8) == policy.RFC9580
    )
    with pytest.raises(TypeError):
        dataclasses.replace(DEFAULT, no_such_field=1)


def test_policy_constructs_compares_and_prints_like_a_dataclass() -> None:
    params = inspect.signature(Policy).parameters
    assert list(params) == [f.name for f in dataclasses.fields(Policy)]
    assert params["min_rsa_bits"].default == 2048
    assert Policy(min_rsa_bits=3072) == Policy(min_rsa_bits=3072) != DEFAULT
    assert hash(Policy(min_rsa_bits=3072)) == hash(Policy(min_rsa_bits=3072))
    assert len({DEFAULT, Policy(), policy.LEGACY_DECRYPT}) == 2
    assert DEFAULT.__eq__(object()) is NotImplemented
    assert repr(policy.RFC4880).startswith("Policy(profile='rfc4880', allow_unauth")
    with pytest.raises(TypeError):
        Policy(bogus=1)  # type: ignore[call-arg]
    with pytest.raises(dataclasses.FrozenInstanceError, match="'profile'"):
        DEFAULT.profile = "rfc4880"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del DEFAULT.max_nesting  # type: ignore[misc]
    assert not hasattr(DEFAULT, "__dict__")


def test_policy_pickles_and_copies() -> None:
    for preset in (DEFAULT, policy.POST_QUANTUM, Policy(max_recipients=3)):
        assert pickle.loads(pickle.dumps(preset)) == preset
        assert copy.deepcopy(preset) == preset
    # The state a frozen slotted dataclass pickles: the field values, in order.
    assert DEFAULT.__getstate__() == list(dataclasses.astuple(DEFAULT))


def test_a_dataclass_can_extend_policy() -> None:
    @dataclasses.dataclass(frozen=True)
    class Stricter(Policy):
        note: str = ""

    made = Stricter(min_rsa_bits=4096, note="x")
    assert (made.min_rsa_bits, made.note, made.profile) == (4096, "x", "auto")
    assert dataclasses.replace(made, note="y").note == "y"
