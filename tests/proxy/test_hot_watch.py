"""The hot path's watch of a connection's waits (``hot.upstream.Watch``): a wait's
timeout is noticed when due, a shorter one after longer ones too, and the server's stop
ends a wait for the next request at once.

The timeouts are checked on Trio's autojump clock: time moves only from one deadline to
the next while every task waits, so "when due" is exact and no load of the machine can
stretch it, yet a watch that woke a period late (at the longer wait's deadline, or its
step) shows that much more time gone."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import trio

from preview.proxy.hot.upstream import receive_now
from preview.proxy.hot.watch import Watch


async def test_each_wait_times_out_when_due_whatever_came_before(autojump_clock: Any) -> None:
    left, right = socket.socketpair()
    stream = trio.SocketStream(trio.socket.from_stdlib_socket(left))
    watch = Watch()
    with trio.fail_after(30), right:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch.run)
            right.send(b"x")  # a wait that ends with bytes, under a long timeout
            assert await receive_now(stream, 20.0, watch, wait_first=True) == b"x"
            for seconds in (0.8, 0.2):  # the watch slept for the longer one
                began = trio.current_time()
                with pytest.raises(trio.TooSlowError):
                    await receive_now(stream, seconds, watch, wait_first=True)
                # Noticed when due, not a period late (the clock jumps deadline to
                # deadline: the watch's wake-up is the next one, at the wait's).
                assert trio.current_time() - began == pytest.approx(seconds, abs=1e-6)
                # The socket is closed by the expiry: a new one for the next wait.
                left, right = socket.socketpair()
                stream = trio.SocketStream(trio.socket.from_stdlib_socket(left))
            nursery.cancel_scope.cancel()
    right.close()
    await stream.aclose()


async def test_the_servers_stop_ends_a_wait_for_the_next_request() -> None:
    left, right = socket.socketpair()
    stream = trio.SocketStream(trio.socket.from_stdlib_socket(left))
    watch = Watch()
    with trio.fail_after(30), right:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch.run)

            async def stop_soon() -> None:
                await trio.sleep(0.1)
                watch.stop()

            nursery.start_soon(stop_soon)
            with pytest.raises(trio.ClosedResourceError):
                await receive_now(stream, 20.0, watch, idle=True, wait_first=True)
            assert watch.closing
            nursery.cancel_scope.cancel()
    await stream.aclose()
