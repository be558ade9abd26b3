"""SSE streams kept while they wait, with no task and none of Hypercorn's state.

Under Hypercorn, a connected stream that waits for its preview's next line costs about
28 KiB: the connection's tasks, cancel scopes, h11 and Hypercorn state (about 20 KiB of
it before any code of ours) and the request's coroutines. A busy preview's browsers
mostly wait, so that is what an idle subscriber costs. :class:`ParkedStreams` keeps a
waiting stream as its socket, its suspended body (the ``sse_body`` generator, holding
its subscription) and its writer, about 2 KiB:

* The stream's task writes the backlog as usual. When its subscription would wait, the
  writer's ``on_wake`` makes it give ``PARKED`` instead; :meth:`ParkedStreams.adopt`
  then takes the connection from Hypercorn (``DirectBodyWriter.detach``) and the
  request's task returns. Hypercorn sees its side closed and frees its state.
* While the stream is parked, the broadcast's paced wake-ups write its events through
  the writer, as for a waiting task (``broadcast.Sink``). Where the broadcast would
  wake the task (a refused or partial write, events older than the ring, a heartbeat,
  the end, a drop), ``on_wake`` starts a task here that goes on with the body from
  where it stopped, until the body parks again or ends; then the writer writes the
  body's last chunk and the connection is closed.
* One task watches every parked socket with one ``epoll``: a client that leaves (or
  sends anything but its request) is noticed at once, its task is cancelled, its body
  closed and its socket closed. No other task reads these sockets.

Nothing is parked where the writer cannot detach (no ``DirectBodyWriter``, no
``select.epoll``) or while the service stops; such streams keep their task.
:meth:`ParkedStreams.aclose` lets running tasks finish their bodies for a grace period
(the previews' ``end`` events once the supervisor has stopped them), then cancels them
and closes every parked stream.
"""

from __future__ import annotations

import contextlib
import logging
import select
from collections.abc import AsyncGenerator
from typing import Any

import trio

from ..logs import PARKED
from .direct_body import DirectBodyWriter

__all__ = ["ParkedStream", "ParkedStreams"]

_log = logging.getLogger("preview")
_CLOSE_TIMEOUT = 1.0  # closing a body: a few in-memory steps, unless a bug waits
_HANGUP = select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR if hasattr(select, "epoll") else 0
_WATCH = select.EPOLLIN | _HANGUP if hasattr(select, "epoll") else 0


class ParkedStream:
    """One SSE response owned by :class:`ParkedStreams` (or about to be)."""

    __slots__ = ("_owner", "body", "fd", "gone", "running", "scope", "woken", "writer")

    def __init__(self, owner: ParkedStreams, writer: DirectBodyWriter) -> None:
        self._owner = owner
        self.writer = writer
        self.body: AsyncGenerator[Any, None] | None = None  # set once adopted
        self.fd = -1
        self.woken: trio.Event | None = None  # before adoption: set by wake()
        self.running = False  # a task goes on with the body
        self.scope: trio.CancelScope | None = None  # that task's, once it runs
        self.gone = False  # the client left (or sent more than its request)
        writer.on_wake = self.wake

    def wake(self) -> None:
        """``broadcast.Sink.on_wake``: go on with the body (in a task of the owner's)."""
        if self.body is None:  # not adopted: the request's task waits for this
            if self.woken is not None:
                self.woken.set()
        elif not self.running:
            self._owner._resume(self)

    async def wait_woken(self) -> None:
        """Before adoption (it was refused): wait where the broadcast would wake us."""
        self.woken = trio.Event()
        try:
            await self.woken.wait()
        finally:
            self.woken = None


class ParkedStreams:
    """Owner of parked SSE streams (see the module doc); ``serve`` runs it."""

    def __init__(self) -> None:
        self._epoll: select.epoll | None = None  # while serving, where there is epoll
        self._by_fd: dict[int, ParkedStream] = {}
        self._nursery: trio.Nursery | None = None
        self._running = 0
        self._idle = trio.lowlevel.ParkingLot()  # woken when no task runs
        self._stopped = trio.Event()
        self._scope = trio.CancelScope()

    def __len__(self) -> int:
        """Streams owned now, parked or running."""
        return len(self._by_fd)

    def prepare(self, writer: DirectBodyWriter) -> ParkedStream | None:
        """Let ``writer``'s stream park (it sets ``writer.on_wake``); None if it cannot."""
        return ParkedStream(self, writer) if self._adopting() else None

    def adopt(self, parked: ParkedStream, body: AsyncGenerator[Any, None]) -> bool:
        """Take the connection and ``body`` (which just gave ``PARKED``); False, with
        nothing changed, if the writer cannot detach or the service stops."""
        if not self._adopting():
            return False
        stream = parked.writer.detach()
        if stream is None:
            return False
        parked.body = body
        parked.fd = stream.socket.fileno()
        self._by_fd[parked.fd] = parked
        assert self._epoll is not None
        self._epoll.register(parked.fd, _WATCH)
        return True

    def _adopting(self) -> bool:
        """Serving, with an epoll to watch parked sockets (not while stopping)."""
        return self._nursery is not None and self._epoll is not None

    @property
    def adopting(self) -> bool:
        """Whether a stream that would wait can be parked now (see :meth:`_adopting`)."""
        return self._adopting()

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run until :meth:`aclose` (or cancelled); then every stream is closed."""
        if hasattr(select, "epoll"):
            self._epoll = select.epoll()
        try:
            with self._scope:
                async with trio.open_nursery() as nursery:
                    self._nursery = nursery
                    task_status.started()
                    if self._epoll is None:
                        await trio.sleep_forever()
                    await self._watch(self._epoll)
        finally:
            self._nursery = None
            with trio.CancelScope(shield=True):
                for parked in list(self._by_fd.values()):
                    await self._discard(parked)
            if self._epoll is not None:
                self._epoll.close()
                self._epoll = None
            self._stopped.set()

    async def aclose(self, grace: float) -> None:
        """Let running tasks finish for up to ``grace`` seconds, then close everything."""
        with trio.move_on_after(grace):
            while self._running:
                await self._idle.park()
        self._scope.cancel()
        if self._nursery is not None:  # serve() closes every stream, then returns
            with trio.move_on_after(grace):
                await self._stopped.wait()

    async def _watch(self, epoll: select.epoll) -> None:
        """Notice clients that leave (or send anything): one task for all sockets.

        It runs in the app's nursery, so an error escaping it would stop the service:
        a failure while handling one socket ends that stream alone, logged.
        """
        while True:
            await trio.lowlevel.wait_readable(epoll.fileno())
            for fd, events in epoll.poll(0):
                parked = self._by_fd.get(fd)
                if parked is None:
                    # Left registered by a failure: level-triggered, it would wake this
                    # loop for ever.
                    with contextlib.suppress(OSError):
                        epoll.unregister(fd)
                    continue
                try:
                    if events & _HANGUP or not parked.writer.drain():
                        self._hang_up(parked)
                except Exception:
                    _log.exception("a parked log stream failed")
                    self._hang_up(parked, failed=True)

    def _hang_up(self, parked: ParkedStream, *, failed: bool = False) -> None:
        """End the stream: its task is cancelled, or one starts that only closes it.
        ``failed``: even if that was begun, as handling it raised part-way."""
        if parked.gone and not failed:
            return
        parked.gone = True
        self._unregister(parked)
        if parked.scope is not None:
            parked.scope.cancel()
        elif not parked.running:
            self._resume(parked)  # its task only closes it

    def _resume(self, parked: ParkedStream) -> None:
        nursery = self._nursery
        if nursery is None:
            return  # stopping: serve() closes it
        parked.running = True
        self._running += 1
        nursery.start_soon(self._run, parked)

    async def _run(self, parked: ParkedStream) -> None:
        parked_again = False
        try:
            if not parked.gone:
                with trio.CancelScope() as parked.scope:
                    parked_again = await self._go_on(parked)
        except Exception:
            # As a request's failure would under Hypercorn: this stream ends, logged;
            # the others and the service go on.
            _log.exception("a parked log stream failed")
        finally:
            parked.scope = None
            parked.running = False
            self._running -= 1
            if not self._running:
                self._idle.unpark_all()
            if not parked_again:
                with trio.CancelScope(shield=True):
                    await self._discard(parked)

    async def _go_on(self, parked: ParkedStream) -> bool:
        """Write what the body gives until it parks again (True) or ends (False)."""
        body, writer = parked.body, parked.writer
        assert body is not None
        try:
            while True:
                try:
                    chunk = await body.__anext__()
                except StopAsyncIteration:
                    await writer.finish()
                    return False
                if chunk is PARKED:
                    return True
                await writer.write(chunk)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return False

    async def _discard(self, parked: ParkedStream) -> None:
        """Close its body and its socket (shielded by the caller).

        Called where nothing catches (``_run``'s ``finally``, ``serve``'s), in the app's
        nursery: a body or socket that fails to close is logged, and the others close.
        """
        self._unregister(parked)
        body, parked.body = parked.body, None
        try:
            with trio.move_on_after(_CLOSE_TIMEOUT):
                if body is not None:
                    await body.aclose()
        except Exception:
            _log.exception("closing a parked log stream failed")
        try:
            parked.writer.close()
        except Exception:
            _log.exception("closing a parked log stream's connection failed")

    def _unregister(self, parked: ParkedStream) -> None:
        if self._by_fd.get(parked.fd) is parked:
            del self._by_fd[parked.fd]
            if self._epoll is not None:
                # Already gone from the epoll if its socket was closed: nothing to undo.
                with contextlib.suppress(OSError):
                    self._epoll.unregister(parked.fd)
