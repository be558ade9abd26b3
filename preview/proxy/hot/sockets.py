"""The hot path's socket calls (``hot.upstream``, ``hot.relay``, ``hot.path``): a system
call first, trio's wait only when it would block. trio's ``send_all`` and
``receive_some`` checkpoint at each call, a scheduler round trip each: the larger part
of a small call's cost where the socket takes or holds the bytes at once, as it mostly
does. ``tests/proxy/test_hot_path.py`` fails if the trio internal leaned on moves."""

from __future__ import annotations

import math
import socket
from typing import Any

import trio

from .watch import Watch

__all__ = ["receive_now", "send_now"]

_READ = 65536


def _raw(stream: trio.SocketStream) -> socket.socket:
    return stream.socket._sock  # type: ignore[attr-defined]  # trio's own; see the test


async def send_now(stream: trio.SocketStream, data: bytes, each_op_s: float = math.inf) -> None:
    """``stream.send_all(data)`` without trio's checkpoints when the socket takes it at
    once (a scheduler round trip each, the larger part of a small call's cost): only a
    socket that is full is waited for, at most ``each_op_s`` at a time
    (``trio.TooSlowError``). ``trio.BrokenResourceError`` when the peer is gone."""
    raw = _raw(stream)
    try:
        sent = raw.send(data)
    except BlockingIOError:
        sent = 0
    except OSError as error:
        raise trio.BrokenResourceError(str(error)) from None
    view = memoryview(data)[sent:] if sent < len(data) else None  # most: taken whole
    while view:
        try:
            view = view[raw.send(view) :]
        except BlockingIOError:
            await _wait(trio.lowlevel.wait_writable, raw, each_op_s)
        except OSError as error:
            raise trio.BrokenResourceError(str(error)) from None


async def receive_now(
    stream: trio.SocketStream,
    each_op_s: float = math.inf,
    watch: Watch | None = None,
    *,
    idle: bool = False,
    wait_first: bool = False,
) -> bytes:
    """``stream.receive_some()``, as :func:`send_now`: waits only when nothing came yet
    (with a ``watch``, one it keeps the deadline of; ``idle``: one the server's stop
    ends). ``wait_first``: the bytes cannot be there yet (an answer just asked for, the
    caller's next request just after the answer): wait before reading, rather than
    read, fail and wait."""
    raw = _raw(stream)
    if wait_first:
        if watch is not None:
            await watch.readable(raw, each_op_s, idle=idle)
        else:
            await _wait(trio.lowlevel.wait_readable, raw, each_op_s)
    while True:
        try:
            return raw.recv(_READ)
        except BlockingIOError:
            if watch is not None:
                await watch.readable(raw, each_op_s, idle=idle)
            else:
                await _wait(trio.lowlevel.wait_readable, raw, each_op_s)
        except OSError as error:
            raise trio.BrokenResourceError(str(error)) from None


async def _wait(until: Any, raw: socket.socket, each_op_s: float) -> None:
    """``until(raw)``, at most ``each_op_s``: a bare cancel scope, not ``fail_after``
    (whose context-manager generator costs as much again, at every call's waits)."""
    if each_op_s == math.inf:
        await until(raw)
        return
    with trio.CancelScope(deadline=trio.current_time() + each_op_s) as scope:
        await until(raw)
    if scope.cancelled_caught:
        raise trio.TooSlowError
