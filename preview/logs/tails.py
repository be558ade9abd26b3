"""The last lines of a child's stdout and stderr, kept apart, for the cause of its
failure: :class:`OutputTails`.

A traceback, or an installer's error, is one stream's sequence: stdout lines read
between its lines are not part of it, and a stdout line inside a traceback was taken
for its exception line. So each stream keeps its own tail, and the cause is looked for
in stderr first, on its own. The app's output (``ChildOutput``) and a build's or
set-up step's (``builds.steps``) keep theirs the same way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from itertools import repeat

__all__ = ["OutputTails", "Tail"]

# A uvicorn import traceback is about 42 lines, a deep one a few hundred; the bytes bound
# keeps a tail of over-long pieces from costing more than this per stream.
_TAIL_LINES = 200
_TAIL_BYTES = 64 * 1024


class Tail:
    """The last lines of one stream: at most ``_TAIL_LINES`` and about ``_TAIL_BYTES``
    (the newest line is always kept)."""

    __slots__ = ("_bytes", "lines", "times")

    def __init__(self) -> None:
        self.lines: deque[str] = deque()
        self.times: deque[float] = deque()  # when each line was read (0: not said)
        self._bytes = 0

    def extend(self, texts: list[str], now: float = 0.0) -> None:
        lines, times = self.lines, self.times
        if len(texts) >= _TAIL_LINES:  # a big read: only its last lines can stay
            lines.clear()
            times.clear()
            self._bytes = 0
            texts = texts[-_TAIL_LINES:]
        lines.extend(texts)
        times.extend(repeat(now, len(texts)))
        self._bytes += sum(map(len, texts))
        while len(lines) > 1 and (len(lines) > _TAIL_LINES or self._bytes > _TAIL_BYTES):
            self._bytes -= len(lines.popleft())
            times.popleft()

    def since(self, moment: float | None) -> list[str]:
        """The lines read after ``moment`` (None: all of them)."""
        if moment is None:
            return list(self.lines)
        return [line for line, at in zip(self.lines, self.times, strict=True) if at > moment]


class OutputTails:
    """One :class:`Tail` for each of ``stdout`` and ``stderr``, and, when asked for
    (``interleaved``: how many), the last lines of both as they came."""

    __slots__ = ("lines", "streams")

    def __init__(self, interleaved: int = 0) -> None:
        self.streams = {"stdout": Tail(), "stderr": Tail()}
        self.lines: deque[str] = deque(maxlen=interleaved)

    def extend(self, stream: str, texts: list[str]) -> None:
        self.streams[stream].extend(texts)
        if self.lines.maxlen:
            self.lines.extend(texts)

    def cause(
        self, find: Callable[[list[str]], str | None], since: float | None = None
    ) -> tuple[str | None, list[str]]:
        """What ``find`` makes of stderr's lines, else of stdout's, with the lines of the
        stream it came from; (None, stderr's lines, or stdout's if stderr is empty).
        With ``since``, only the lines read after that moment can tell the cause (those
        before it did not stop the child: it answered after them)."""
        for stream in ("stderr", "stdout"):
            lines = self.streams[stream].since(since)
            found = find(lines) if lines else None
            if found is not None:
                return found, lines
        stderr = self.streams["stderr"].since(since)
        return None, stderr or self.streams["stdout"].since(since)
