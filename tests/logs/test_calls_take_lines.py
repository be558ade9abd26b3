"""A proxied call takes the app's lines from its pipes once answered (``ChildOutput``
``call_began`` / ``call_answered``): every line is still published once, in the order
written, and a line left unfinished or printed during a long call still reaches the
log (the reader's own quiet spell and yield bound)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio
import trio.testing

from preview.logs import ChildOutput, LogBroadcast, Subscription
from preview.logs import childoutput as childoutput_module


@asynccontextmanager
async def _reading(
    stream: str,
) -> AsyncIterator[tuple[LogBroadcast, ChildOutput, int, Subscription]]:
    """A ``ChildOutput`` reading a new pipe as ``stream``: its broadcast, the output, the
    pipe's write end and a subscription; on leaving, the reader has ended (the test
    closes the write end and lets the reader see it)."""
    broadcast = LogBroadcast(ring_size=100, subscriber_buffer=100)
    output = ChildOutput(broadcast, 1024, partial_line_flush=0.1)
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    with trio.fail_after(20), broadcast.subscribe() as subscription:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(output.read, trio.lowlevel.FdStream(read_fd), stream)
            yield broadcast, output, write_fd, subscription


async def _next_messages(subscription: Subscription) -> list[str]:
    received = await subscription.receive()
    assert isinstance(received, list)
    return [event.message for event in received]


async def _parked_after(
    output: ChildOutput, write_fd: int, subscription: Subscription, line: str
) -> None:
    """A call under way and ``line`` written: read by the reader, which then parks (it
    leaves its pipe to the calls)."""
    output.call_began()
    os.write(write_fd, line.encode() + b"\n")
    assert await _next_messages(subscription) == [line]
    await trio.testing.wait_all_tasks_blocked()


async def test_a_call_takes_its_lines_in_order_and_leaves_a_partial_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(childoutput_module, "_YIELD_SPELL", 1000.0)  # parked for sure
    async with _reading("stdout") as (broadcast, output, write_fd, subscription):
        await _parked_after(output, write_fd, subscription, "before")
        os.write(write_fd, b"access 1\naccess 2\n")
        await trio.testing.wait_all_tasks_blocked()
        assert broadcast.last_id == 1  # left to the call under way
        output.call_began()
        assert output.call_answered() == ["access 1", "access 2"]
        assert await _next_messages(subscription) == ["access 1", "access 2"]
        os.write(write_fd, b"half")
        assert output.call_answered() is None  # no whole line; the pipes go back
        assert await _next_messages(subscription) == ["half"]  # after the quiet spell
        os.write(write_fd, b" more\nafter\n")
        os.close(write_fd)
        assert await _next_messages(subscription) == [" more", "after"]
    assert [event.id for event in broadcast.take_pending_nowait(100)] == [1, 2, 3, 4, 5, 6]


async def test_calls_answered_together_leave_their_lines_to_the_last_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(childoutput_module, "_YIELD_SPELL", 1000.0)  # parked for sure
    monkeypatch.setattr(childoutput_module, "_TAKE_SPELL", 1000.0)  # every call is "soon"
    async with _reading("stdout") as (broadcast, output, write_fd, subscription):
        for _ in range(2):
            output.call_began()
        await _parked_after(output, write_fd, subscription, "before")  # three under way
        os.write(write_fd, b"access 1\n")
        assert output.call_answered() == ["access 1"]  # the first take: at once
        os.write(write_fd, b"access 2\n")
        assert output.call_answered() is None  # just after it: left to the last call
        await trio.testing.wait_all_tasks_blocked()
        assert broadcast.last_id == 2  # not read meanwhile: the reader is parked
        os.write(write_fd, b"access 3\n")
        assert output.call_answered() == ["access 2", "access 3"]  # the last call out
        os.close(write_fd)
        output.call_began()
        assert output.call_answered() is None  # the pipe's end: the reader's again
    assert [event.message for event in broadcast.take_pending_nowait(100)] == [
        "before",
        "access 1",
        "access 2",
        "access 3",
    ]


async def test_the_last_call_out_leaves_the_reader_parked_for_the_next_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(childoutput_module, "_YIELD_SPELL", 1000.0)  # parked for sure
    async with _reading("stdout") as (broadcast, output, write_fd, subscription):
        # Written before the answer: the reader's.
        await _parked_after(output, write_fd, subscription, "access 1")
        assert output.call_answered() is None  # the last call out: nothing left
        output.call_began()
        os.write(write_fd, b"access 2\n")
        await trio.testing.wait_all_tasks_blocked()
        assert broadcast.last_id == 1  # the reader stayed parked: not woken by it
        assert output.call_answered() == ["access 2"]  # the call takes its own line
        assert await _next_messages(subscription) == ["access 2"]
        os.close(write_fd)
        output.call_began()
        assert output.call_answered() is None  # the pipe's end: the reader's again


async def test_a_released_output_reads_its_pipes_to_their_end_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(childoutput_module, "_YIELD_SPELL", 1000.0)  # parked for sure
    async with _reading("stdout") as (_broadcast, output, write_fd, subscription):
        await _parked_after(output, write_fd, subscription, "access")
        assert output.call_answered() is None  # the reader stays parked
        os.write(write_fd, b"last words\n")
        os.close(write_fd)  # the child is gone
        output.release()  # else the reader would wait out its bound (here: 1000 s)
        assert await _next_messages(subscription) == ["last words"]


async def test_a_line_printed_between_calls_is_published() -> None:
    async with _reading("stdout") as (_broadcast, output, write_fd, subscription):
        await _parked_after(output, write_fd, subscription, "access")
        assert output.call_answered() is None
        os.write(write_fd, b"between calls\n")  # no call to take it: the reader's bound
        assert await _next_messages(subscription) == ["between calls"]
        os.close(write_fd)


async def test_a_line_printed_during_a_long_call_is_published() -> None:
    async with _reading("stderr") as (_broadcast, output, write_fd, subscription):
        await _parked_after(output, write_fd, subscription, "first")  # never answered
        os.write(write_fd, b"during the call\n")
        assert await _next_messages(subscription) == ["during the call"]
        os.close(write_fd)
    assert output.call_answered() is None  # the pipe ended: nothing to take


async def test_a_failed_calls_words_just_read_by_the_reader_are_found() -> None:
    """A read that found the app's last words at once yields a turn: a failed call's
    ``error_since`` that runs in that turn finds the pipe empty, so the words must be in
    the tails already. Trio runs a turn's tasks in either order: over the trials, that
    turn comes about every other time."""
    size = childoutput_module._READ
    full_read = b"".join(b"%063d\n" % n for n in range(size // 64))  # a whole read's
    assert len(full_read) == size  # so the next read does not wait either
    words = b'Traceback (most recent call last):\n  File "app.py", line 3, in get\n'
    words += b"ConnectionError: the name api.example.com is not known\n"
    for trial in range(32):
        broadcast = LogBroadcast(ring_size=1000, subscriber_buffer=1000)
        output = ChildOutput(broadcast, 1024)
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        began = trio.current_time()
        os.write(write_fd, full_read + words)
        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(output.read, trio.lowlevel.FdStream(read_fd), "stderr")
                while broadcast.last_id == 0:  # the first read published
                    await trio.lowlevel.checkpoint()
                said, _lines = await output.error_since(began)
                os.close(write_fd)
        assert said == "ConnectionError: the name api.example.com is not known", (trial, said)
