"""A preview child's stdout and stderr: :class:`ChildOutput`.

Each pipe is read by one task of the preview's nursery (:meth:`ChildOutput.read`): its
bytes become lines (bounded, ``lines.LineSplitter``), each with a level, published
to the preview's broadcast as ``app`` events; the lines of one read share one
timestamp. The last lines of each pipe are kept apart, enough of them for a whole
traceback, for the cause of a failure (:meth:`ChildOutput.failure`): a traceback is
one stream's sequence, and stdout lines read between its lines are not part of it.

A line without its newline yet is published once the pipe has been quiet for
``partial_line_flush`` seconds, as a terminal shows it: a prompt, or a progress line,
appears when printed, not when the child exits. The bytes of one line written in
several writes within that spell stay one event.
"""

from __future__ import annotations

from collections import deque

import trio

from ..clock import utcnow
from .broadcast import LogBroadcast
from .failure import failure_cause
from .lines import LevelClassifier, Line, LineSplitter

__all__ = ["ERROR_LINES", "SPLIT_MARK", "ChildOutput", "relative_to"]

SPLIT_MARK = " ⏎…"  # ends a piece of an over-long line: it continues in the next event
ERROR_LINES = 15  # lines shown with the cause of a failure (``errorLines``)
# A uvicorn import traceback is about 42 lines, a deep one a few hundred; the bytes bound
# keeps a tail of over-long pieces from costing more than this per stream.
_TAIL_LINES = 200
_TAIL_BYTES = 64 * 1024


class _Tail:
    """The last lines of one stream: at most ``_TAIL_LINES`` and about ``_TAIL_BYTES``
    (the newest line is always kept)."""

    __slots__ = ("_bytes", "lines")

    def __init__(self) -> None:
        self.lines: deque[str] = deque()
        self._bytes = 0

    def extend(self, texts: list[str]) -> None:
        lines = self.lines
        for text in texts:
            lines.append(text)
            self._bytes += len(text)
        while len(lines) > 1 and (len(lines) > _TAIL_LINES or self._bytes > _TAIL_BYTES):
            self._bytes -= len(lines.popleft())


def relative_to(text: str, directory: str) -> str:
    """``text`` with ``directory``'s absolute path made relative to it (``./`` once).

    The app's directory is a host path of the service's (its data folder); users see
    the app's own paths as they wrote them (``main.py``, not ``/srv/…/pv_…/main.py``).
    """
    if directory not in text:
        return text
    return text.replace(directory + "/", "").replace(directory, ".")


class ChildOutput:
    """Readers of one child's two pipes (see the module doc). Lines that name
    ``app_dir`` name it relatively (:func:`relative_to`)."""

    def __init__(
        self,
        broadcast: LogBroadcast,
        max_line_bytes: int,
        partial_line_flush: float = 0.1,
        app_dir: str = "",
    ) -> None:
        self._app_dir = app_dir
        self._broadcast = broadcast
        self._max_line_bytes = max_line_bytes
        self._partial_line_flush = partial_line_flush
        self._tails = {"stdout": _Tail(), "stderr": _Tail()}
        self._open = 2
        self._ended = trio.Event()  # both pipes reached their end

    async def read(self, pipe: trio.abc.ReceiveStream, stream: str) -> None:
        """Publish ``pipe``'s lines as ``stream`` (``stdout`` / ``stderr``) until its end."""
        splitter = LineSplitter(self._max_line_bytes)
        classify = LevelClassifier().classify
        broadcast = self._broadcast
        tail = self._tails[stream]
        app_dir = self._app_dir

        async def publish(lines: list[Line]) -> None:
            texts = [relative_to(line.text, app_dir) if app_dir else line.text for line in lines]
            tail.extend(texts)
            await broadcast.publish_lines(
                [
                    (classify(text), text + SPLIT_MARK if line.split else text)
                    for line, text in zip(lines, texts, strict=True)
                ],
                "app",
                stream,
                utcnow(),
            )

        quiet = self._partial_line_flush
        try:
            async with pipe:
                while True:
                    if splitter.buffered and quiet > 0:
                        chunk = None
                        with trio.move_on_after(quiet):
                            chunk = await pipe.receive_some()
                        if chunk is None:  # quiet: show the line so far
                            await publish(splitter.flush())
                            continue
                    else:
                        chunk = await pipe.receive_some()
                    if not chunk:
                        break
                    await publish(splitter.feed(chunk))
                await publish(splitter.finish())
        finally:
            self._open -= 1
            if not self._open:
                self._ended.set()

    async def failure(
        self, wait: float, requirements: str | None, listed_in: str = "requirements.txt"
    ) -> tuple[str | None, list[str]]:
        """The cause of the child's failure (``lines.failure_cause``) and the last lines
        that show it, once it has exited. The pipes' ends are waited for (at most
        ``wait`` seconds: a grandchild may hold them), so a traceback printed as it died
        is read before the cause is looked for. stderr is searched first, on its own."""
        with trio.move_on_after(wait):
            await self._ended.wait()
        for stream in ("stderr", "stdout"):
            lines = list(self._tails[stream].lines)
            cause = failure_cause(lines, requirements, self._app_dir or None, listed_in)
            if cause is not None:
                return cause, lines[-ERROR_LINES:]
        stderr = list(self._tails["stderr"].lines)
        return None, (stderr or list(self._tails["stdout"].lines))[-ERROR_LINES:]
