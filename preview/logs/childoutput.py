"""A preview child's stdout and stderr: :class:`ChildOutput`.

Each pipe is read by one task of the preview's nursery (:meth:`ChildOutput.read`): its
bytes become lines (bounded, ``lines.LineSplitter``), each with a level, published
to the preview's broadcast as ``app`` events; the lines of one read share one
timestamp. The last lines of each pipe are kept apart, enough of them for a whole
traceback, for the cause of a failure (:meth:`ChildOutput.failure`): a traceback is
one stream's sequence, and stdout lines read between its lines are not part of it.

A read's lines are published ``_GROUP`` at a time, letting the other tasks run between:
a child that prints as fast as it can takes its turn of the event loop like any task,
for well under a millisecond, and the API keeps answering beside it.

A line without its newline yet is published once the pipe has been quiet for
``partial_line_flush`` seconds, as a terminal shows it: a prompt, or a progress line,
appears when printed, not when the child exits. The bytes of one line written in
several writes within that spell stay one event. A ``watch`` given sees each batch of
lines once published (the runtime's diagnoses of the app's output).

An app writes its access line as it answers, so a proxied call's line is in the pipe
once its answer is (:meth:`ChildOutput.call_began` / :meth:`~ChildOutput.call_answered`).
While calls are under way, a reader that emptied its pipe does not wait on it: it parks,
and each call, once answered, takes what the pipes hold in its own task, published as
the reader would (same splitter, same order: the reader reads nothing while parked).
The service is then not woken by the pipe apart from the answer (on this VM a wake-up
costs tens of µs of CPU). A call answered within ``_TAKE_SPELL`` of the last take,
while another is still under way, leaves its line to that one: at many calls a second,
one read then takes the lines of several. The last call out does not wake the reader
either: at one connection the next call, mostly within ``_YIELD_SPELL``, takes its own
line, where the reader woken by it just before the answer cost a wake-up and the line's
publication ahead of the answer (a fifth of such a call's CPU). The reader waits on its
pipe again when a call leaves a line without its newline (the quiet spell is the
reader's), at the pipe's end, or after ``_YIELD_SPELL``: a line printed during a long
call, or while no call is under way, is published within it. Once the child is gone
(:meth:`ChildOutput.release`) the readers read to the pipes' end at once.
"""

from __future__ import annotations

import errno
import fcntl
import math
import os
import re
import struct
import termios
from collections.abc import Awaitable, Callable, Collection, Sequence

import trio

from ..clock import utcnow
from .broadcast import LogBroadcast
from .causes import NO_SPACE, failure_cause, quiet_exit, shown_lines
from .lines import LevelClassifier, LineSplitter
from .tails import OutputTails

__all__ = ["ERROR_LINES", "SPLIT_MARK", "ChildOutput"]

SPLIT_MARK = " ⏎…"  # ends a piece of an over-long line: it continues in the next event
ERROR_LINES = 15  # lines shown with the cause of a failure (``errorLines``)
# Lines published per turn of the event loop: a pipe read holds hundreds of short
# lines, milliseconds of work, and a child printing as fast as it can would hand the
# loop one such read per turn, every API call waiting a turn at each of its awaits.
_GROUP = 128
# Bytes read from a pipe at a time. A child printing at full speed keeps its pipe full
# (64 KiB), so a line waits for the pipe ahead of it, then for the read it came in to be
# published: 16 KiB reads cut that second wait to a quarter (fan-out M=1 at full speed,
# p99 284-579 -> 197-224 ms on a loaded 2-core machine), for a read syscall per ~500
# short lines instead of ~2,000.
_READ = 16384
_YIELD_SPELL = 0.05  # s: the longest a reader leaves its pipe to the calls under way
# s: how long a call answered right after a take leaves its lines to another under
# way. A take (two pipe reads, a level each, a publication) cost 30 µs of a proxied
# call's ~300 at 8 connections; taken every 5 ms, the lines of ~6 calls go together.
_TAKE_SPELL = 0.005
_SAID_WAIT = 0.25  # s: the longest a failed call waits for the app's lines on why


def _marked(texts: list[str], pieces: Collection[int]) -> list[str]:
    """The lines as shown: each piece of an over-long line ends with ``SPLIT_MARK``."""
    if not pieces:
        return texts
    return [t + SPLIT_MARK if i in pieces else t for i, t in enumerate(texts)]


# A file watcher's line saying the app it runs died and it waits for a file to change to
# start it again (nodemon's, node --watch's; ts-node-dev's error line, its time and the
# app's error or its compiler's: manishdubeit's typeorm-express-poc, "[ERROR] 05:16:07
# Error: Cannot find module 'multer'", then nothing until the start-up timeout): the
# child lives on and serves nothing.
_WATCHER_WAITS = re.compile(
    r"\[nodemon\] app crashed - waiting for file changes"
    r"|Failed running .* Waiting for file changes before restarting"
    r"|^\[ERROR\] \d\d:\d\d:\d\d (?:(?:[A-Z]\w*)?Error\b|⨯ Unable to compile TypeScript)"
)


class ChildOutput:
    """Readers of one child's two pipes (see the module doc). ``app_dir`` is cut from
    the paths of a failure's cause; the broadcast takes host paths out of what is shown
    (``hostpaths``)."""

    def __init__(
        self,
        broadcast: LogBroadcast,
        max_line_bytes: int,
        partial_line_flush: float = 0.1,
        app_dir: str = "",
        watch: Callable[[list[str]], Awaitable[None]] | None = None,
        needed: Sequence[str] = (),
    ) -> None:
        self._needed = needed  # variables required and unset (a failure names them)
        self._app_dir = app_dir
        self._watch = watch  # sees each batch of lines, once published
        self._broadcast = broadcast
        self._max_line_bytes = max_line_bytes
        self._partial_line_flush = partial_line_flush
        self._tails = OutputTails()
        self._open = 2
        self._ended = trio.Event()  # both pipes reached their end
        self._calls = 0  # proxied calls under way (call_began)
        self._parked = trio.lowlevel.ParkingLot()  # readers leaving their pipes to them
        self._takers: dict[str, Callable[[], list[str] | None]] = {}  # while parked
        self._unwatched: list[str] = []  # lines calls published, for ``watch``
        self._taken_at = -math.inf  # when a call last took the pipes' lines
        self._released = False  # the child is gone: the readers read to the pipes' end
        self._fds: dict[str, int] = {}  # each pipe's, while its reader reads it
        self._read = trio.lowlevel.ParkingLot()  # woken as a read's lines are in the tails
        # Set once a watcher says the app it runs died (_WATCHER_WAITS): its start failed.
        self.watcher_waits = trio.Event()

    def call_began(self) -> ChildOutput:
        """A proxied call is under way until :meth:`call_answered` (see the module doc);
        this output, for that."""
        self._calls += 1
        return self

    def call_answered(self) -> list[str] | None:
        """The call's end: what the parked readers' pipes hold now, read and published
        here (the lines, also kept for :meth:`forward_to_watch`; None if none, or if they are
        left to another call under way: ``_TAKE_SPELL``). The readers take their
        pipes back at their own bound (the module doc)."""
        self._calls -= 1
        now = trio.current_time()
        if self._calls and now - self._taken_at < _TAKE_SPELL:
            return None  # left to a call still under way (the module doc)
        return self._take(now)

    def _take(self, now: float) -> list[str] | None:
        """What the parked readers' pipes hold now, published (see call_answered)."""
        self._taken_at = now
        taken = None
        for read_now in list(self._takers.values()):
            texts = read_now()
            if texts:
                taken = texts if taken is None else taken + texts
        if taken and self._watch is not None:
            self._unwatched += taken
        return taken

    def release(self) -> None:
        """The child is gone (or going): the readers take their pipes back now and park
        no more, so that its last lines and the pipes' ends are read at once, not at
        the readers' bound (a stop just after a call waited for it)."""
        self._released = True
        self._parked.unpark_all()

    async def forward_to_watch(self) -> None:
        """``watch`` of the lines the calls published (:meth:`call_answered`)."""
        if self._unwatched:
            texts, self._unwatched = self._unwatched, []
            await self._watch(texts)  # type: ignore[misc]

    async def read(self, pipe: trio.abc.ReceiveStream, stream: str) -> None:
        """Publish ``pipe``'s lines as ``stream`` (``stdout`` / ``stderr``) until its end."""
        splitter = LineSplitter(self._max_line_bytes)
        classify = LevelClassifier().classify_many
        broadcast = self._broadcast
        tail = self._tails.streams[stream]
        watch = self._watch

        async def publish(texts: list[str], pieces: Collection[int] = ()) -> None:
            """A read's lines; ``pieces``: the indexes of over-long lines' pieces."""
            tail.extend(texts, trio.current_time())
            self._read.unpark_all()  # error_since waits for this
            self._note_watcher(texts)
            shown = _marked(texts, pieces)
            now = utcnow()
            for start in range(0, len(texts), _GROUP):
                if start:
                    await trio.lowlevel.cancel_shielded_checkpoint()  # lines read are published
                group = slice(start, start + _GROUP)
                await broadcast.publish_texts(
                    classify(texts[group]), shown[group], "app", stream, now
                )
            if watch is not None:
                await watch(texts)

        def hand_back() -> None:
            """The pipe is the reader's again: it wakes to read it."""
            self._takers.pop(stream, None)
            self._parked.unpark_all()

        def read_now() -> list[str] | None:
            """The pipe's bytes now, published: the reader is parked (see the module doc)."""
            if broadcast.closed or broadcast.writer_full():
                return None  # the reader waits for the writer as it publishes
            try:
                data = os.read(fd, _READ)
            except BlockingIOError:
                return None
            except OSError:
                data = b""
            if not data:  # its end (or broken): the reader's to tell
                hand_back()
                return None
            texts, pieces = splitter.feed_texts(data)
            if texts:
                tail.extend(texts, trio.current_time())
                self._note_watcher(texts)
                shown = _marked(texts, pieces)
                broadcast.add_texts(classify(texts), shown, "app", stream, utcnow())
            if splitter.buffered:  # a line without its newline: the reader's quiet spell
                hand_back()
            return texts

        fileno = getattr(pipe, "fileno", None)
        fd = fileno() if fileno is not None else -1
        if fd >= 0:
            self._fds[stream] = fd
        quiet = self._partial_line_flush
        chunk: bytes | bytearray | None = None
        try:
            async with pipe:
                while True:
                    if splitter.buffered and quiet > 0:
                        chunk, waited = None, True  # this wait yields before any read
                        with trio.move_on_after(quiet):
                            chunk = await pipe.receive_some(_READ)
                        if chunk is None:
                            chunk = _waiting(pipe)
                        if chunk is None:  # quiet: show the line so far
                            await publish([line.text for line in splitter.flush()])
                            continue
                    else:
                        # A read shorter than _READ emptied the pipe: the next waits first.
                        drained = chunk is not None and len(chunk) < _READ
                        if drained and self._calls and fd >= 0 and not self._released:
                            self._takers[stream] = read_now  # the calls under way read it
                            try:
                                with trio.move_on_after(_YIELD_SPELL):
                                    await self._parked.park()
                            finally:
                                self._takers.pop(stream, None)
                            chunk = None
                            if splitter.buffered:
                                continue  # a call left a line's start: the quiet spell
                            drained = False
                        chunk, waited = await _receive(pipe, wait_first=drained)
                    if not chunk:
                        break
                    await publish(*splitter.feed_texts(chunk))
                    if not waited:
                        # Its turn taken once the bytes are in the tails, not before: a
                        # failed call's ``error_since`` that finds the pipe empty finds
                        # what was read of it there.
                        await trio.lowlevel.checkpoint()
                await publish([line.text for line in splitter.finish()])
        finally:
            self._fds.pop(stream, None)
            self._read.unpark_all()
            self._open -= 1
            if not self._open:
                self._ended.set()

    def _note_watcher(self, texts: list[str]) -> None:
        if not self.watcher_waits.is_set() and any(_WATCHER_WAITS.search(t) for t in texts):
            self.watcher_waits.set()

    def recent_lines(self) -> list[str]:
        """The last lines of both streams (stdout's, then stderr's)."""
        return [*self._tails.streams["stdout"].lines, *self._tails.streams["stderr"].lines]

    async def error_since(self, moment: float) -> tuple[str | None, list[str]]:
        """The error the child printed after ``moment`` (trio time), read as a failed
        start's cause is (``failure_cause``; stderr first); None if it printed none:
        why a call it took since failed, in its own words; with the lines it was read
        from (the cause is clipped; they are whole). A server writes why before
        it hangs up, so what its pipes hold is read first: taken from parked readers,
        waited for (at most ``_SAID_WAIT``) from the others."""
        with trio.move_on_after(_SAID_WAIT):
            while any(_unread(fd) for fd in self._fds.values()):
                if not self._take(trio.current_time()):  # none parked: they read it
                    await self._read.park()
        return self._tails.cause(
            lambda lines: failure_cause(lines, root=self._app_dir or None), moment
        )

    async def failure(
        self,
        wait: float,
        requirements: str | None,
        listed_in: str = "requirements.txt",
        upload: Collection[str] = (),
        alive_at: float | None = None,
    ) -> tuple[str | None, list[str]]:
        """The cause of the child's failure (``lines.failure_cause``) and the last lines
        that show it, once it has exited. The pipes' ends are waited for (at most
        ``wait`` seconds: a grandchild may hold them), so a traceback printed as it died
        is read before the cause is looked for. stderr is searched first, on its own.

        ``alive_at`` (trio time): when the child last answered. The cause of an exit is
        the last error before it, so what was read before then did not end the child: a
        handled exception logged, an earlier crash of a request. (A line written just
        before an answer may be read just after it: the next answer, a health check's
        too, puts it behind.)"""
        self.release()
        with trio.move_on_after(wait):
            await self._ended.wait()
        cause, lines = self._tails.cause(
            lambda lines: failure_cause(
                lines, requirements, self._app_dir or None, listed_in, upload, self._needed
            ),
            alive_at,
        )
        return cause, shown_lines(lines, ERROR_LINES)

    def quiet_exit(self, returncode: int | None, cause: str | None) -> str | None:
        """Why a child that exited with code 0 before it served did (``quiet_exit``);
        None for another exit, or one for want of space (``cause`` says so)."""
        if returncode != 0 or (cause is not None and cause.startswith(NO_SPACE)):
            return None
        streams = self._tails.streams
        return quiet_exit([list(streams["stderr"].lines), list(streams["stdout"].lines)])


def _unread(fd: int) -> int:
    """How many bytes the pipe ``fd`` holds, unread."""
    try:
        return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    except OSError:
        return 0


def _waiting(pipe: trio.abc.ReceiveStream) -> bytes | None:
    """What the pipe holds now, once its quiet spell has run out; None if nothing (or
    it cannot tell). A loop that ran late (a long task, a garbage collection, a busy
    machine) times the read out with the line's rest already waiting: that is no
    quiet spell, and the line must not be cut in two events."""
    fileno = getattr(pipe, "fileno", None)
    if fileno is None:
        return None
    try:
        return os.read(fileno(), _READ)
    except OSError:  # empty (BlockingIOError), or broken: the next read tells
        return None


async def _receive(
    pipe: trio.abc.ReceiveStream, *, wait_first: bool = False
) -> tuple[bytes | bytearray, bool]:
    """``pipe.receive_some()`` with one scheduler round trip where it takes two: an
    ``FdStream``'s yields before it reads, then waits if the pipe is empty (each line of
    an app printing its access log, one line a request, cost both); here a read that
    finds the pipe empty waits. The bytes, and whether it waited: one that did not must
    yield once they are published (a child printing as fast as it can still lets the
    others run), which the reader does. ``wait_first``: the last read emptied the pipe,
    so this one waits before it reads (a line a request: the read would fail at once)."""
    fileno = getattr(pipe, "fileno", None)
    if fileno is None:
        return await pipe.receive_some(), True  # it yielded before it read
    fd = fileno()
    waited = wait_first
    if wait_first:
        await trio.lowlevel.wait_readable(fd)
    while True:
        try:
            data = os.read(fd, _READ)
        except BlockingIOError:
            await trio.lowlevel.wait_readable(fd)
            waited = True
            continue
        except OSError as error:
            if error.errno == errno.EBADF:
                raise trio.ClosedResourceError("the pipe was closed") from None
            raise trio.BrokenResourceError from error
        return data, waited
