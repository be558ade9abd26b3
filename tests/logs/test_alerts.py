"""The alert watch's rules on their own: a pattern, a level, both, a field condition; one
alert per rule per interval with the matches meanwhile said in the next; a rule kept
across a re-arm keeps its counts; a pattern RE2 refuses is a ValueError; a route's p95 and
error rate over a window, alerting as they cross their threshold and again a window later
while above."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import trio.testing

from preview.logs.alerts import AlertSpec, AlertWatch, compile_pattern
from preview.logs.event import Event


def _lines(*texts: tuple[str, str]) -> list[Event]:
    return [
        Event(n, datetime(2026, 1, 1), level, text, "app", "stdout")
        for n, (level, text) in enumerate(texts, 1)
    ]


async def test_rules_alert_once_per_interval_and_say_what_they_held_back(
    mock_clock: trio.testing.MockClock,
) -> None:
    made: list[tuple[Any, ...]] = []
    specs = [
        AlertSpec("a", "timeouts", pattern=r"timed? ?out"),
        AlertSpec("b", "errors", level="ERROR"),
        AlertSpec("c", "db errors", pattern="db", level="WARN"),
    ]
    watch = AlertWatch(specs, lambda *args: made.append(args), interval=10)
    watch(_lines(("INFO", "request timed out"), ("ERROR", "db down"), ("INFO", "db ok")))
    watch(_lines(("INFO", "timeout again"), ("INFO", "time out")))
    mock_clock.jump(10)
    watch(_lines(("WARN", "timed out, 3rd")))
    assert [(level, message.split(":")[0]) for level, message, _ in made] == [
        ("WARN", "alert 'timeouts'"),
        ("ERROR", "alert 'errors'"),
        ("ERROR", "alert 'db errors'"),
        ("WARN", "alert 'timeouts'"),
    ]
    assert all(source == "alert" for _, _, source in made)
    assert "(+2 more since its last alert): timed out, 3rd" in made[-1][1]
    counts = watch.counts()
    assert (counts["a"]["matched"], counts["a"]["fired"]) == (4, 2)
    assert (counts["b"]["matched"], counts["c"]["matched"]) == (1, 1)

    rearmed = AlertWatch([specs[0]], lambda *args: made.append(args), previous=watch)
    rearmed(_lines(("INFO", "timed out")))  # within its interval still: held back
    assert len(made) == 4 and rearmed.counts()["a"]["matched"] == 5


async def test_a_field_condition_holds_on_json_and_logfmt_lines_only(
    mock_clock: trio.testing.MockClock,
) -> None:
    made: list[tuple[Any, ...]] = []
    specs = [AlertSpec("f", "server errors", field="status>=500", level="WARN")]
    watch = AlertWatch(specs, lambda *args: made.append(args), interval=0)
    watch(
        _lines(
            ("ERROR", '{"status": 503, "path": "/pay"}'),  # JSON, at 503
            ("ERROR", '{"status": 404}'),  # below it
            ("ERROR", "status=500 msg=oops"),  # logfmt's text, a number
            ("ERROR", "status>=500 in prose, no fields"),
            ("INFO", '{"status": 500}'),  # below the level
        )
    )
    assert [message.split(": ")[1] for _, message, _ in made] == [
        "line 1 matched",
        "line 3 matched",
    ]


async def test_a_routes_p95_and_error_rate_alert_when_they_cross_and_again_a_window_later(
    mock_clock: trio.testing.MockClock,
) -> None:
    made: list[tuple[Any, ...]] = []
    specs = [
        AlertSpec("p", "slow", route="GET /items", metric="p95", threshold=100, window=60),
        AlertSpec("e", "failing", route="/pay", metric="errorRate", threshold=0.5, window=60),
    ]
    watch = AlertWatch(specs, lambda *args: made.append(args), interval=10)
    assert watch.watches_calls and not watch.watches_lines
    for elapsed in (20, 30, 250, 300):  # four calls: too few to judge
        watch.observe_call("GET", "/items?page=2", 200, elapsed)
    watch.observe_call("POST", "/items", 201, 900)  # another method: not the route's
    assert made == []
    watch.observe_call("GET", "/items", 200, 40)  # five: p95 300 ms
    assert [m for _, m, _ in made] == [
        "alert 'slow': GET /items p95 300 ms above 100 ms (5 calls) over the last 60 s"
    ]
    mock_clock.jump(30)
    watch.observe_call("GET", "/items", 200, 500)  # still above, within its window: held
    assert len(made) == 1 and watch.counts()["p"]["matched"] == 2
    mock_clock.jump(31)  # a window since its alert; the first five calls leave it
    for _ in range(3):
        watch.observe_call("GET", "/items", 200, 10)
    assert len(made) == 1  # the 500 ms call and three more: too few to judge
    watch.observe_call("GET", "/items", 200, 10)  # five: still above, a window later
    assert len(made) == 2 and "p95 500 ms above 100 ms (5 calls)" in made[-1][1]

    for status in (500, 200, None, 502, 200):  # 3 of 5 failed (None: no answer)
        watch.observe_call("POST", "/pay", status, 5)
    assert made[-1][0] == "WARN"
    assert made[-1][1] == (
        "alert 'failing': /pay error rate 60% above 50% (3 of 5 calls) over the last 60 s"
    )
    for _ in range(5):
        watch.observe_call("POST", "/pay", 200, 5)  # 3 of 6 …: not above, so cleared
    mock_clock.jump(11)
    for _ in range(5):  # 8 of 15 at the fifth: above again, crossing it, past the interval
        watch.observe_call("POST", "/pay", 500, 5)
    assert len(made) == 4
    assert "error rate 53% above 50% (8 of 15 calls)" in made[-1][1]


def test_a_pattern_re2_refuses_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="missing"):
        compile_pattern("(")
    with pytest.raises(ValueError):
        compile_pattern(r"(a)\1")  # a backreference: no linear-time engine has it


def test_an_alert_is_an_sse_event_of_its_own_kind_in_a_batch_of_lines() -> None:
    from preview.logs.event import sse_frames

    moment = datetime(2026, 1, 1)
    events = [
        Event(1, moment, "ERROR", "boom", "app", "stdout"),
        Event(2, moment, "ERROR", "alert 'x': line 1 matched: boom", "alert"),
        Event(3, moment, "INFO", "after", "app", "stdout"),
    ]
    fresh = [Event(e.id, e.timestamp, e.level, e.message, e.source, e.stream) for e in events]
    frames = sse_frames(events).decode().split("\n\n")
    assert frames[0].startswith("id: 1\ndata: ")
    assert frames[1].startswith("event: alert\nid: 2\ndata: ")
    assert frames[2].startswith("id: 3\ndata: ")
    assert sse_frames(events) == b"".join(event.sse for event in fresh)
