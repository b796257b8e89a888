"""core/record.py: internal value types behave as frozen slotted dataclasses did."""

from __future__ import annotations

import copy
import pickle

import pytest

from e2ee_mail.core.chunked import ChunkParams
from e2ee_mail.errors import UsageError
from e2ee_mail.openpgp.packets.header import Packet
from e2ee_mail.openpgp.packets.pkesk import PKESKv3, PKESKv6


def test_equality_and_hash_follow_the_fields_within_one_class() -> None:
    a = PKESKv6(6, b"\x01" * 32, 25, b"m")
    assert a == PKESKv6(6, b"\x01" * 32, 25, b"m")
    assert hash(a) == hash(PKESKv6(6, b"\x01" * 32, 25, b"m"))
    assert a != PKESKv6(6, b"\x01" * 32, 25, b"n")
    assert len({a, PKESKv6(6, b"\x01" * 32, 25, b"m")}) == 1
    # Same values in another class, or as a tuple, are not equal.
    assert PKESKv3(b"k" * 8, 25, b"m") != (b"k" * 8, 25, b"m")
    assert Packet(1, b"x") != PKESKv3(b"k" * 8, 25, b"m")


def test_fields_cannot_be_assigned_added_or_deleted() -> None:
    p = Packet(1, b"body")
    with pytest.raises(AttributeError):
        p.tag = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.body
    with pytest.raises(AttributeError):
        p.other = 1  # type: ignore[attr-defined]
    assert (p.tag, p.body, p.legacy, p.partial) == (1, b"body", False, False)


def test_replace_copy_and_pickle_keep_the_values() -> None:
    p = Packet(11, b"data", legacy=True)
    assert p.replace(body=b"new") == Packet(11, b"new", True, False)
    assert copy.copy(p) == p
    assert copy.deepcopy(p) == p
    assert pickle.loads(pickle.dumps(p)) == p
    with pytest.raises(TypeError, match="no field 'bogus'"):
        p.replace(bogus=1)


def test_replace_goes_through_the_checks_of_init() -> None:
    params = ChunkParams("gcm", bytes(32), bytes(4), 64, b"")
    with pytest.raises(UsageError, match="chunk size"):
        params.replace(chunk_size=0)


def test_repr_lists_the_fields_but_never_a_key() -> None:
    assert repr(PKESKv3(b"k" * 8, 25, b"m")) == (
        "PKESKv3(key_id=b'kkkkkkkk', algorithm=25, material=b'm')"
    )
    secret = b"\xaa" * 32
    text = repr(ChunkParams("gcm", secret, bytes(4), 64, b"ad"))
    assert "chunk_size=64" in text
    assert repr(secret)[2:10] not in text
    # Secret-key packets show their size only.
    assert "hidden" not in repr(Packet(5, b"hidden"))
