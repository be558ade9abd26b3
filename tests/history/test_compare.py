"""A replay's comparison reports real differences: keys that merely end like a time or
an id word (``version``, ``format``, ``paid``) were read as volatile, case blind, and
``{"version": 1}`` against ``{"version": 2}`` was "the same"."""

from __future__ import annotations

import json

import pytest

from preview.history.compare import VolatilePaths, compare_answers


def _compared(method: str, path: str, before: object, after: object) -> dict:
    def answer(value: object) -> tuple[int, list[list[str]], bytes, bool]:
        return 200, [["content-type", "application/json"]], json.dumps(value).encode(), True

    return compare_answers(method, path, answer(before), answer(after))


@pytest.mark.parametrize(
    "key",
    [
        "version",
        "description",
        "location",
        "reason",
        "session",
        "format",
        "update",
        "lat",
        "paid",
        "valid",
        "data",
        "station",
        "total",
    ],
)
def test_a_key_that_only_ends_like_a_time_or_an_id_is_compared(key: str) -> None:
    compared = _compared("GET", "/things/1", {key: 1}, {key: 2})
    assert compared["same"] is False
    assert compared["body"] == [{"path": f"$.{key}", "before": 1, "after": 2}]


@pytest.mark.parametrize(
    "key",
    [
        "createdAt",
        "updated_at",
        "timestamp",
        "date",
        "expires",
        "modifiedOn",
        "sent_ts",
        "deletedOn",
        "lastLoginTime",
    ],
)
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


def test_paths_the_user_marked_are_ignored_with_all_they_hold() -> None:
    marked = VolatilePaths(["$.meta", "$.items[*].token", "$['x-trace']"])

    def compared(before: object, after: object) -> dict:
        def answer(value: object) -> tuple[int, list[list[str]], bytes, bool]:
            return 200, [], json.dumps(value).encode(), True

        return compare_answers("GET", "/things", answer(before), answer(after), marked)

    found = compared(
        {"meta": {"n": 1}, "items": [{"token": "a", "n": 1}], "x-trace": "1", "gone": 1},
        {"meta": {"n": 2, "new": 1}, "items": [{"token": "b", "n": 1}], "x-trace": "2"},
    )
    assert found["ignored"] == ["$.items[0].token", "$.meta", "$['x-trace']"]
    assert found["body"] == [{"path": "$.gone", "before": 1, "after": None}]  # not marked
    # A key that only begins like a marked one is compared; so is a sibling.
    found = compared(
        {"metadata": 1, "items": [{"tokens": 1}]}, {"metadata": 2, "items": [{"tokens": 2}]}
    )
    assert [d["path"] for d in found["body"]] == ["$.items[0].tokens", "$.metadata"]
    # Added under a marked path: ignored too.
    assert compared({"meta": None}, {})["ignored"] == ["$.meta"]
    # Unmarked, the same answers differ.
    plain = compare_answers(
        "GET", "/t", (200, [], b'{"meta": 1}', True), (200, [], b'{"meta": 2}', True)
    )
    assert plain["same"] is False


@pytest.mark.parametrize(
    ("path", "fine"),
    [
        ("$", True),
        ("$.a.b", True),
        ("$[0].a", True),
        ("$.a[*].b", True),
        ("$['a-b']", True),
        ('$["it\'s"]', True),
        ("a", False),
        ("$.a b", False),
        ("$[x]", False),
        ("$..a", False),
        ("", False),
        ("$." + "a" * 300, False),
    ],
)
def test_a_marked_path_is_written_as_the_comparison_writes_them(path: str, fine: bool) -> None:
    assert (VolatilePaths.problem(path) is None) is fine
