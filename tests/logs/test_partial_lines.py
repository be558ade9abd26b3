"""A line without its newline is published after a quiet spell (a prompt), while a
line written in several quick writes stays one event."""

from __future__ import annotations

import os
from dataclasses import replace

import trio
import trio.testing

from preview.logs import ChildOutput, LineSplitter, LogBroadcast

from ..conftest import SERVER_COMMAND, running_service, server_app


def test_flush_hands_out_the_partial_line_and_its_newline_ends_it() -> None:
    splitter = LineSplitter(64)
    assert splitter.feed(b"name? ") == []
    assert [line.text for line in splitter.flush()] == ["name? "]
    assert splitter.flush() == []
    assert [line.text for line in splitter.feed(b"\r\nnext\n")] == ["next"]
    assert splitter.feed(b"a") == [] and [line.text for line in splitter.flush()] == ["a"]
    assert [line.text for line in splitter.feed(b"b\n\n")] == ["b", ""]  # not a newline


async def test_a_partial_line_is_published_after_the_quiet_spell(autojump_clock) -> None:
    broadcast = LogBroadcast(ring_size=100, subscriber_buffer=100)
    output = ChildOutput(broadcast, 1024, partial_line_flush=0.1)
    send, receive = trio.testing.memory_stream_one_way_pair()

    def published() -> list[str]:
        return [event.message for event in broadcast.take_pending_nowait(100)]

    async with trio.open_nursery() as nursery:
        nursery.start_soon(output.read, receive, "stdout")
        await send.send_all(b"hello ")
        await trio.sleep(0.09)
        await send.send_all(b"world\n")  # within the spell: one line
        await trio.sleep(0.01)
        assert published() == ["hello world"]
        await send.send_all(b"Enter your name: ")
        began = trio.current_time()
        while broadcast.last_id != 2:  # noqa: ASYNC110 (virtual time)
            await trio.sleep(0.001)
        assert 0.1 <= trio.current_time() - began < 0.102
        assert published() == ["Enter your name: "]
        await send.send_all(b"\nbye\n")
        await send.aclose()
    assert published() == ["bye"]


class _LatePipe(trio.abc.ReceiveStream):
    """A pipe whose reads the loop schedules too late (as when a long task or a garbage
    collection stalls it past the quiet spell): only its file descriptor has the bytes."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        await trio.sleep_forever()
        raise AssertionError

    async def aclose(self) -> None:
        os.close(self._fd)
        await trio.lowlevel.checkpoint()


async def test_a_line_whose_rest_waits_when_the_spell_runs_out_stays_one_event() -> None:
    broadcast = LogBroadcast(ring_size=100, subscriber_buffer=100)
    output = ChildOutput(broadcast, 1024, partial_line_flush=0.05)
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            os.write(write_end, b"hel")
            nursery.start_soon(output.read, _LatePipe(read_end), "stdout")
            await trio.testing.wait_all_tasks_blocked()  # "hel" read, the spell runs
            os.write(write_end, b"lo\n")  # there before the spell ends, read after it
            while broadcast.last_id < 1:  # noqa: ASYNC110 (the spell's real 50 ms)
                await trio.sleep(0.01)
            os.close(write_end)
    assert [event.message for event in broadcast.take_pending_nowait(100)] == ["hello"]


async def test_a_real_childs_prompt_appears_while_it_runs(settings) -> None:
    # A spell well above the child's 10 ms between its two writes of one line, on a
    # machine under load; the prompt still shows half a second after it was printed.
    files = server_app(
        after_bind="""
        sys.stdout.write("loading"); sys.stdout.flush()
        time.sleep(0.01)
        sys.stdout.write(" done\\n"); sys.stdout.flush()
        sys.stdout.write("ready> "); sys.stdout.flush()
        """
    )
    with trio.fail_after(30):
        async with running_service(replace(settings, partial_line_flush=0.5)) as service:
            gid = await service.upload(files)
            body = (await service.launch(gid, command=SERVER_COMMAND)).json()
            assert body["status"] == "running"
            lines: list[str] = []
            while "ready> " not in lines:  # until it shows, with the child still running
                events = await service.history(gid)
                lines = [e["message"] for e in events if e["source"] == "app"]
                await trio.sleep(0.02)
            assert lines == ["loading done", "ready> "]
            assert (await service.status(gid))["status"] == "running"
            assert (await service.stop(gid)).status_code == 200


async def test_a_large_read_is_published_in_turns_letting_other_tasks_run() -> None:
    # A child printing as fast as it can hands the reader 64 KiB reads of ~600 lines:
    # published in one go, nothing else would run meanwhile (an API call waits a turn
    # at each of its awaits); in groups, the other tasks run between them.
    broadcast = LogBroadcast(ring_size=10_000, subscriber_buffer=100)
    output = ChildOutput(broadcast, 1024)
    send, receive = trio.testing.memory_stream_one_way_pair()
    turns: list[int] = []  # the events published when the other task got a turn

    async def other_task() -> None:
        while broadcast.last_id < 600:
            turns.append(broadcast.last_id)
            await trio.lowlevel.checkpoint()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(output.read, receive, "stdout")
            await trio.testing.wait_all_tasks_blocked()
            await send.send_all(b"".join(b"line %d\n" % n for n in range(600)))
            nursery.start_soon(other_task)
            await send.aclose()
    during = [published for published in turns if 0 < published < 600]
    assert len(during) >= 3, turns
    # At most two groups of 128 between two turns of the other (trio runs a turn's
    # tasks in either order).
    assert max(b - a for a, b in zip([0, *during], [*during, 600], strict=True)) <= 256
    assert [e.message for e in broadcast.take_pending_nowait(1000)] == [
        f"line {n}" for n in range(600)
    ]
