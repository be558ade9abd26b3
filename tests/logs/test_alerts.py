"""The alert watch's rules on their own: a pattern, a level, both; one alert per rule per
interval with the matches meanwhile said in the next; a rule kept across a re-arm keeps
its counts; a pattern RE2 refuses is a ValueError."""

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
