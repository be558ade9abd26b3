"""A replay's comparison reports real differences: keys that merely end like a time or
an id word (``version``, ``format``, ``paid``) were read as volatile, case blind, and
``{"version": 1}`` against ``{"version": 2}`` was "the same"."""

from __future__ import annotations

import json

import pytest

from preview.history.compare import compare_answers


def _compared(method: str, path: str, before: object, after: object) -> dict:
    def answer(value: object) -> tuple[int, list[list[str]], bytes, bool]:
        return 200, [["content-type", "application/json"]], json.dumps(value).encode(), True

    return compare_answers(method, path, answer(before), answer(after))


@pytest.mark.parametrize(
    "key",
    ["version", "description", "location", "reason", "session", "format", "update", "lat",
     "paid", "valid", "data", "station", "total"],
)  # fmt: skip
def test_a_key_that_only_ends_like_a_time_or_an_id_is_compared(key: str) -> None:
    compared = _compared("GET", "/things/1", {key: 1}, {key: 2})
    assert compared["same"] is False
    assert compared["body"] == [{"path": f"$.{key}", "before": 1, "after": 2}]


@pytest.mark.parametrize(
    "key",
    ["createdAt", "updated_at", "timestamp", "date", "expires", "modifiedOn", "sent_ts",
     "deletedOn", "lastLoginTime"],
)  # fmt: skip
def test_a_key_naming_a_time_is_volatile(key: str) -> None:
    compared = _compared("GET", "/things", {key: 1}, {key: 2})
    assert compared["same"] is True and compared["ignored"] == [f"$.{key}"]


def test_ids_are_generated_only_in_the_answer_to_a_post() -> None:
    # A list read twice with other rows in it: a difference, not a generated id.
    listed = _compared("GET", "/items", [{"id": 3}], [{"id": 1}])
    assert listed["same"] is False and listed["body"][0]["path"] == "$[0].id"
    # A creation: the id it made is the server's to choose.
    made = _compared("POST", "/items", {"id": 8, "userId": 4}, {"id": 9, "userId": 5})
    assert made["same"] is True and made["ignored"] == ["$.id", "$.userId"]
    # ... unless the request itself names it.
    named = _compared("POST", "/items/8/copy", {"id": 8}, {"id": 9})
    assert named["same"] is False
