"""A preview child's stdout and stderr: :class:`ChildOutput`.

Each pipe is read by one task of the preview's nursery (:meth:`ChildOutput.read`): its
bytes become lines (bounded, ``loglines.LineSplitter``), each with a level, published
to the preview's broadcast as ``app`` events; the lines of one read share one
timestamp. The last lines of both pipes are kept for the cause of a failure
(:meth:`ChildOutput.last_lines`).
"""

from __future__ import annotations

from collections import deque

import trio

from .broadcast import LogBroadcast
from .clock import utcnow
from .loglines import LevelClassifier, Line, LineSplitter

__all__ = ["SPLIT_MARK", "ChildOutput"]

SPLIT_MARK = " ⏎…"  # ends a piece of an over-long line: it continues in the next event
_KEPT_LINES = 40


class ChildOutput:
    """Readers of one child's two pipes (see the module doc)."""

    def __init__(self, broadcast: LogBroadcast, max_line_bytes: int) -> None:
        self._broadcast = broadcast
        self._max_line_bytes = max_line_bytes
        self._recent: deque[str] = deque(maxlen=_KEPT_LINES)
        self._open = 2
        self._ended = trio.Event()  # both pipes reached their end

    async def read(self, pipe: trio.abc.ReceiveStream, stream: str) -> None:
        """Publish ``pipe``'s lines as ``stream`` (``stdout`` / ``stderr``) until its end."""
        splitter = LineSplitter(self._max_line_bytes)
        classify = LevelClassifier().classify
        broadcast = self._broadcast

        async def publish(lines: list[Line]) -> None:
            self._recent.extend(line.text for line in lines)
            await broadcast.publish_lines(
                [
                    (classify(line.text), line.text + SPLIT_MARK if line.split else line.text)
                    for line in lines
                ],
                "app",
                stream,
                utcnow(),
            )

        try:
            async with pipe:
                async for chunk in pipe:
                    await publish(splitter.feed(chunk))
                await publish(splitter.finish())
        finally:
            self._open -= 1
            if not self._open:
                self._ended.set()

    async def last_lines(self, wait: float) -> list[str]:
        """The child's last lines, once it has exited: the pipes' ends are waited for
        (at most ``wait`` seconds: a grandchild may hold them), so a traceback printed
        as it died is read before the cause of death is looked for in it."""
        with trio.move_on_after(wait):
            await self._ended.wait()
        return list(self._recent)
