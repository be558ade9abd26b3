"""The deadline of a hot connection's waits for bytes (``path``, ``upstream``)."""

from __future__ import annotations

import math
import socket
from typing import Any

import trio

__all__ = ["Watch"]

_WATCH_STEP = 10.0  # s: the longest the watch of a connection sleeps


class Watch:
    """The deadline of one connection's current wait for bytes, kept by one task per
    connection (:meth:`run`), not a cancel scope per wait (entering and leaving one,
    twice a call, was an eighth of a call's CPU). A wait past its deadline is ended by
    ``notify_closing`` (``trio.TooSlowError`` to the waiter; its socket is then closed);
    so is a wait for the next request once the server stops (:meth:`stop`,
    ``trio.ClosedResourceError``). The watch wakes at the wait's deadline, or after the
    shortest timeout its waits had (no later wait can end sooner), at most
    ``_WATCH_STEP``; a wait due before that moves the wake-up: a timeout is noticed when
    due, and a busy connection's watch wakes about once per keep-alive timeout."""

    __slots__ = ("_sleep", "closing", "deadline", "expired", "idle", "shortest", "socket", "wake")

    def __init__(self) -> None:
        self.deadline = math.inf
        self.socket: socket.socket | None = None  # the one waited for, if any
        self.expired = self.closing = self.idle = False
        self.shortest = _WATCH_STEP
        self.wake = -math.inf  # when run() wakes next (not yet running: at once)
        self._sleep: trio.CancelScope | None = None

    async def run(self) -> None:
        while True:
            now = trio.current_time()
            if self.socket is not None and now >= self.deadline:
                self.expired = True
                trio.lowlevel.notify_closing(self.socket)
                self.socket = None
            wake = now + self.shortest
            if self.socket is not None and self.deadline < wake:
                wake = self.deadline
            self.wake = wake
            with trio.CancelScope(deadline=wake) as self._sleep:
                await trio.sleep_forever()

    async def stop_when(self, terminated: Any) -> None:
        """Hypercorn's ``terminated`` (an event): then :meth:`stop`."""
        await terminated.wait()
        self.stop()

    def stop(self) -> None:
        """The server stops: a wait for the next request ends now, and none begins."""
        self.closing = True
        if self.idle and self.socket is not None:
            trio.lowlevel.notify_closing(self.socket)
            self.socket = None

    async def readable(self, raw: socket.socket, seconds: float, *, idle: bool) -> None:
        deadline = self.deadline = trio.current_time() + seconds
        if seconds < self.shortest:
            self.shortest = seconds
        if deadline < self.wake and self._sleep is not None:  # before the watch wakes
            self.wake = self._sleep.deadline = deadline
        self.socket, self.idle, self.expired = raw, idle, False
        try:
            await trio.lowlevel.wait_readable(raw)
        except trio.ClosedResourceError:
            if self.expired:
                raise trio.TooSlowError from None
            raise
        finally:
            self.socket, self.idle = None, False
