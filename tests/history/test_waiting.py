"""The requests waiting for the history's writer: kept unshaped by the calls, shaped by
the writer in slices, and of a preview past its bound only its newest."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
import trio

from preview import Settings
from preview.history import RequestHistory
from preview.history import waiting as waiting_module
from preview.history.rows import ROW_FIELDS, shape_row
from preview.history.waiting import shaped
from preview.services import CallOutcome, CallRecord, ProxiedCall

_PATH = ROW_FIELDS.index("path")


def _keep(history: RequestHistory, pid: str, numbers: range) -> None:
    runtime = SimpleNamespace(id=pid, spec=SimpleNamespace(generation_id="g1"))
    for n in numbers:
        _, capture = history.start(None)
        call = ProxiedCall(
            "proxy", "GET", f"/n/{n}", [(b"accept", b"*/*")], f"req_{n}", trio.current_time()
        )
        capture.record(
            runtime, call, CallOutcome(200, [(b"content-type", b"application/json")], 1.0), n
        )


@pytest.fixture
def shaped_paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests ``rows.shape_row`` shapes, in order."""
    paths: list[str] = []

    def counted(item: CallRecord) -> tuple:
        paths.append(item.path)
        return shape_row(item)

    monkeypatch.setattr(waiting_module, "shape_row", counted)
    return paths


def _never() -> None:
    raise AssertionError("a request could not be shaped")


async def test_a_call_keeps_its_request_unshaped_and_the_writer_shapes_only_what_is_kept(
    shaped_paths: list[str],
) -> None:
    history = RequestHistory(dataclasses.replace(Settings(), capture_requests=10))
    _keep(history, "p1", range(50))  # past its bound of 10
    _keep(history, "p2", range(3))
    assert shaped_paths == []  # nothing shaped by the calls
    assert len(history._waiting["p1"].items) == 11  # the bound and one more wait
    rows = await shaped(history._waiting, 10, 2**20, _never)
    assert [row[_PATH] for row in rows] == [f"/n/{n}" for n in range(39, 50)] + [
        f"/n/{n}" for n in range(3)
    ]  # in the order recorded
    assert sorted(shaped_paths) == sorted(row[_PATH] for row in rows)  # no row shaped to be cut


async def test_a_batch_is_shaped_in_slices_that_let_the_calls_run(monkeypatch) -> None:
    monkeypatch.setattr(waiting_module, "_SLICE", 0.0)  # a checkpoint after every row
    history = RequestHistory(dataclasses.replace(Settings(), capture_requests=100))
    _keep(history, "p1", range(40))
    turns: list[int] = []
    done = False

    async def a_call() -> None:
        while not done:
            turns.append(len(turns))
            await trio.lowlevel.checkpoint()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(a_call)
            await trio.lowlevel.checkpoint()  # the call's first turn
            before = len(turns)
            rows = await shaped(history._waiting, 100, 2**20, _never)
            done = True
    assert len(rows) == 40
    assert len(turns) - before >= 39  # a turn between every two rows, not one batch


async def test_a_request_with_a_large_body_is_shaped_by_its_call_and_once(
    shaped_paths: list[str],
) -> None:
    history = RequestHistory(dataclasses.replace(Settings(), capture_requests=10))
    runtime = SimpleNamespace(id="p1", spec=SimpleNamespace(generation_id="g1"))
    for n, body in enumerate((b"x" * waiting_module.SHAPED_AT_ONCE, b"small")):
        _, capture = history.start(body)
        call = ProxiedCall("proxy", "POST", f"/n/{n}", [], f"req_{n}", trio.current_time())
        capture.record(runtime, call, CallOutcome(200, [], 1.0), n)
    assert shaped_paths == ["/n/0"]  # its masking is the call's: no slice holds it
    rows = await shaped(history._waiting, 10, 2**20, _never)
    assert [row[_PATH] for row in rows] == ["/n/0", "/n/1"]
    assert shaped_paths == ["/n/0", "/n/1"]  # each once
