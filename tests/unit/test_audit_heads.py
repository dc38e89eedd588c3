"""Stored chain heads: the file `audit heads --json` writes, and its digest."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from pyproj_rpc.audit import Head, Heads, InvalidHeadsFile, heads_digest, parse_heads

FIRST = Head(UUID("00000000-0000-0000-0000-00000000000b"), 3, "ab" * 32)
SECOND = Head(UUID("00000000-0000-0000-0000-00000000000a"), 1, "cd" * 32)
TAKEN = datetime(2026, 1, 31, 9, 12, 3, tzinfo=UTC)


def document() -> dict[str, Any]:
    return Heads((FIRST, SECOND), TAKEN).document()


def test_the_digest_is_sha256_of_one_line_per_head_in_mentor_order() -> None:
    lines = f"{SECOND.mentor_id} 1 {'cd' * 32}\n{FIRST.mentor_id} 3 {'ab' * 32}\n"
    assert heads_digest([FIRST, SECOND]) == hashlib.sha256(lines.encode()).hexdigest()


def test_a_heads_file_reads_back_as_written() -> None:
    heads = parse_heads(document())
    assert (heads.heads, heads.taken_at) == ((FIRST, SECOND), TAKEN)
    assert document()["taken_at"] == "2026-01-31T09:12:03Z"
    assert document()["mentors"] == 2


def test_a_head_changed_in_the_file_is_refused() -> None:
    changed = document()
    changed["heads"][0]["hash"] = "ef" * 32
    with pytest.raises(InvalidHeadsFile, match="digest does not match"):
        parse_heads(changed)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "something else"}, "is not a pyproj-rpc/audit-heads/v1 document"),
        ({"heads": [{"mentor_id": "x", "sequence": 1, "hash": "ab" * 32}]}, "malformed"),
        ({"heads": [{"mentor_id": str(FIRST.mentor_id), "sequence": 0, "hash": "ab" * 32}]},
         "positive integer"),
        ({"heads": [{"mentor_id": str(FIRST.mentor_id), "sequence": 1, "hash": "AB" * 32}]},
         "64 lowercase hex"),
        ({"heads": [vars(FIRST) | {"mentor_id": str(FIRST.mentor_id)}] * 2}, "a mentor twice"),
        ({"digest": None}, "digest does not match"),
    ],
    ids=["format", "mentor-id", "sequence", "hash", "duplicate", "digest"],
)  # fmt: skip
def test_a_malformed_heads_file_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidHeadsFile, match=message):
        parse_heads(document() | change)
