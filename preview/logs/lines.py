"""Turn a child's raw pipe output into log lines and give each a level (the reason a
start failed, read from these lines, is in ``failure``).

Everything here is pure and synchronous so the streaming code can call it per chunk without
awaiting, and so it can be tested without processes. Levels come from the *structure* of a
line (where a level token sits, whether we are inside a Python traceback), never from a
word found anywhere in it: "GET /errors 200 OK" must not light up red in the UI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "JS_FRAME",
    "LEVELS",
    "LEVEL_WORD",
    "LevelClassifier",
    "Line",
    "LineSplitter",
    "classify_level",
    "strip_ansi",
]

LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")

# A Node stack frame naming a module's line, its path and line number the groups: "at fn
# (/srv/app/src/x.js:12:5)", "at /srv/app/x.js:12:5", "at file:///srv/app/x.mjs:3:1".
JS_FRAME = re.compile(r"^\s*at (?:.*? \()?(?:file://)?([^\s()]+?\.[cm]?[jt]sx?):(\d+):\d+\)?\s*$")


@dataclass(frozen=True, slots=True)
class Line:
    """One decoded line. ``split`` is True when the next Line continues this same line."""

    text: str
    split: bool


def _decode(data: bytes | bytearray | memoryview) -> str:
    # NUL is the one character PostgreSQL text columns refuse; everything else is kept.
    text = str(data, "utf-8", "replace")
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


_NO_PIECES: frozenset[int] = frozenset()


def _whole_lines(head: bytes | bytearray, bound: int) -> list[str] | None:
    """The lines of ``head`` (lines joined by newlines, without the last one), decoded
    at once, each without one trailing CR; None if one is longer than ``bound`` bytes.

    As each line decoded on its own: a newline byte is never part of a UTF-8 sequence,
    so an invalid one before it gets the same replacement character either way."""
    text = str(head, "utf-8", "replace")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    lines = text.split("\n")
    if text.isascii():
        if max(map(len, lines)) > bound:
            return None
    elif max(map(len, head.split(b"\n"))) > bound:
        return None
    if "\r" in text:
        lines = [line[:-1] if line[-1:] == "\r" else line for line in lines]
    return lines


def _utf8_cut(data: bytes | bytearray, pos: int, size: int) -> int:
    """Length <= size of the piece starting at pos that does not end inside a UTF-8 char."""
    end = pos + size
    for back in range(1, 4):
        byte = data[end - back]
        if byte < 0x80:  # ASCII: the boundary is clean
            return size
        if byte >= 0xC0:  # lead byte: does its sequence run past the cut?
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return size - back if back < need else size
    return size  # only continuation bytes: invalid anyway, cut where we are


class LineSplitter:
    """Split a pipe's byte stream into lines with bounded memory.

    A child can print a 100 MB line without a newline; we hand it out in pieces of at most
    ``max_line_bytes`` as soon as they exist instead of buffering it, so the retained buffer
    never exceeds ``max_line_bytes`` (+1 for a trailing CR that may belong to a CRLF).
    """

    __slots__ = ("_buf", "_finished", "_flushed", "_max")

    def __init__(self, max_line_bytes: int) -> None:
        if max_line_bytes < 4:  # room for one whole UTF-8 character per piece
            raise ValueError("max_line_bytes must be at least 4")
        self._max = max_line_bytes
        self._buf = bytearray()
        self._finished = False
        self._flushed = False  # flush() handed out a partial line: its newline is not a line

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished line currently held (for metrics and tests)."""
        return len(self._buf)

    def feed(self, data: bytes | bytearray) -> list[Line]:
        """Return the lines (and over-long pieces) completed by ``data``."""
        texts, pieces = self.feed_texts(data)
        return [Line(text, i in pieces) for i, text in enumerate(texts)]

    def feed_texts(self, data: bytes | bytearray) -> tuple[list[str], frozenset[int] | set[int]]:
        """:meth:`feed`'s lines as texts, and the indexes of those that are pieces of an
        over-long line (``Line.split``): no object per line, for the pipe readers."""
        if self._finished:
            raise RuntimeError("LineSplitter.feed() after finish()")
        if not data:
            return [], _NO_PIECES
        if self._flushed:
            self._flushed = False
            # The newline (CRLF) that ends a line flush() already handed out.
            if data.startswith(b"\n") or data.startswith(b"\r\n"):
                data = data[data.index(b"\n") + 1 :]
                if not data:
                    return [], _NO_PIECES
        end = data.rfind(b"\n")
        if end >= 0:
            head = bytes(self._buf) + data[:end] if self._buf else data[:end]
            texts = _whole_lines(head, self._max)
            if texts is not None:  # the common case: no line longer than the bound
                self._buf.clear()
                tail = data[end + 1 :]
                if not tail:
                    return texts, _NO_PIECES
                out: list[Line] = []
                self._emit(tail, False, out)
                pieces = set(range(len(texts), len(texts) + len(out)))
                return texts + [line.text for line in out], pieces
        out = self._feed_parts(data)
        return [line.text for line in out], {i for i, line in enumerate(out) if line.split}

    def _feed_parts(self, data: bytes | bytearray) -> list[Line]:
        """:meth:`feed` line by line: where a line may pass the bound."""
        out: list[Line] = []
        parts = data.split(b"\n")
        tail = parts.pop()
        mx = self._max
        for i, part in enumerate(parts):
            if i == 0 and self._buf:
                part = bytes(self._buf) + part
                self._buf.clear()
            if part.endswith(b"\r"):
                part = part[:-1]
            if len(part) <= mx:
                out.append(Line(_decode(part), False))
            else:
                self._emit(part, True, out)
        if tail:
            if self._buf:
                tail = bytes(self._buf) + tail
                self._buf.clear()
            self._emit(tail, False, out)
        return out

    def flush(self) -> list[Line]:
        """The unfinished line so far (a prompt, a progress dot): the next bytes start a
        new one, and a newline that comes next ends the flushed line, not an empty one."""
        if not self._buf or self._finished:
            return []
        data = bytes(self._buf)
        self._buf.clear()
        if data.endswith(b"\r"):
            data = data[:-1]
        self._flushed = True
        return [Line(_decode(data), False)]

    def finish(self) -> list[Line]:
        """Flush the last line if it had no newline. Idempotent; feed() is refused afterwards."""
        if self._finished:
            return []
        self._finished = True
        if not self._buf:
            return []
        data = bytes(self._buf)
        self._buf.clear()
        if data.endswith(b"\r"):
            data = data[:-1]
        return [Line(_decode(data), False)]

    def _emit(self, data: bytes | bytearray, terminated: bool, out: list[Line]) -> None:
        """Cut ``data`` (buffer already merged in) into pieces; keep an unterminated rest."""
        mx = self._max
        # Hold one extra byte for a trailing CR so "<max bytes>\r" + "\n" stays one line.
        hold = mx + 1 if not terminated and data.endswith(b"\r") else mx
        view = memoryview(data)
        pos, n = 0, len(data)
        while n - pos > hold:
            cut = _utf8_cut(data, pos, mx)
            out.append(Line(_decode(view[pos : pos + cut]), True))
            pos += cut
        if terminated:
            out.append(Line(_decode(view[pos:]), False))
        else:
            self._buf[:] = view[pos:]


_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
LEVEL_WORD = r"(?P<level>trace|debug|info|warn(?:ing)?|error|critical|fatal)"
_TS = (
    r"(?:\d{4}[-/.]\d{2}[-/.]\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?"
    r"|\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?)(?: ?(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT))?"
)
_BRACKETS = r"(?:\[[^\[\]]{0,120}\]\s*){0,4}"
_STRUCTURES = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # "INFO:     Uvicorn running", "WARNING:root:msg", "ERROR - x", "INFO  [alembic.x] y"
        rf"{LEVEL_WORD}(?::|\]|\s+-\s|\s+\[)",
        # "ERROR something failed", "WARNING disk almost full": an upper-case level word
        # and a space (case-sensitive: "Error handling x" and "info about y" are prose)
        r"(?-i:(?P<level>TRACE|DEBUG|INFO|WARN(?:ING)?|ERROR|CRITICAL|FATAL))[ \t]+(?=\S)",
        # "[INFO] x", "[2024-01-01 12:00:00 +0000] [1234] [INFO] Starting gunicorn"
        rf"(?:{_TS}\s*)?{_BRACKETS}\[\s*{LEVEL_WORD}\s*\]",
        # "<ts> - name - WARNING - m", "<ts> ERROR name: m", "[<ts>] ERROR in app", "<ts> | INFO |"
        rf"(?:{_TS}|\[{_TS}\])\s*{_BRACKETS}(?:[-|:]\s*)?"
        rf"(?:[\w.<>-]+(?:\s+[-|]\s+|:\s+))?{LEVEL_WORD}(?=[\s:\]|]|$)",
        # NestJS's logger: "[Nest] 17  - 12/07/2026, 7:55:35 AM   ERROR [ExceptionHandler] x"
        r"\[Nest\]\s+\d+\s+-\s+[^\[\n]*?\s(?-i:(?P<level>LOG|ERROR|WARN|DEBUG|VERBOSE|FATAL))"
        r"\s+\[",
    )
)
_LEVEL_MAP: dict[str, str] = dict.fromkeys(("trace", "debug"), "DEBUG")
_LEVEL_MAP |= dict.fromkeys(("warn", "warning"), "WARN")
_LEVEL_MAP |= {"info": "INFO"} | dict.fromkeys(("error", "critical", "fatal"), "ERROR")
_LEVEL_MAP |= {"log": "INFO", "verbose": "DEBUG"}  # NestJS's words
# IGNORECASE matches the Turkish dotted and dotless I for "i"; lower() keeps them apart.
_TURKISH_I = str.maketrans({"\u0307": None, "\u0131": "i"})
_PY_WARNING = re.compile(r"\S.*?:\d+: [A-Z]\w*Warning: ")  # warnings.showwarning format
# (Node names an error's class or code beside its name: "ConnectionError
# [SequelizeConnectionError]: connect ENOENT …", "Error [ERR_MODULE_NOT_FOUND]: …")
_BARE_EXC = re.compile(
    r"[A-Za-z_][\w.]*(?:(?<=Error)|(?<=Exception))(?: \[[\w.]+\])?(?::(?: .*)?)?$"
)
_EXC_NAME = re.compile(r"[A-Za-z_][\w.]*(?::|$)")
_BOX = re.compile(r" *\| ?")  # ExceptionGroup frames: "  | ValueError: x"
_TB_START = "Traceback (most recent call last):"
_GROUP_START = "+ Exception Group Traceback"
_CHAIN = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
# Traceback states: none; inside frames; between blocks (chain text, exception groups);
# right after the exception line (blank lines may still precede a chained traceback).
_NONE, _TB, _BETWEEN, _AFTER = range(4)


# A JSON log record's level field: structlog/python-json-logger ("level", "levelname"),
# Google ("severity"), ECS ("log.level"), pino/bunyan (numbers: 30 info, 50 error).
_JSON_LEVEL = re.compile(
    r'"(?:level|levelname|severity|log\.level|lvl)"\s*:\s*(?:"(?P<word>[A-Za-z]{1,12})"|(?P<number>\d{1,3})\b)',
    re.IGNORECASE,
)
_JSON_WORDS = _LEVEL_MAP | dict.fromkeys(
    ("err", "crit", "alert", "emerg", "emergency", "panic"), "ERROR"
)
_JSON_WORDS |= {"notice": "INFO", "verbose": "DEBUG"}
_JSON_SCAN = 4096  # a level field sits near the start; a huge record is not searched whole


def _json_level(s: str) -> str | None:
    m = _JSON_LEVEL.search(s, 0, _JSON_SCAN)
    if m is None:
        return None
    if m.group("word") is not None:
        return _JSON_WORDS.get(m.group("word").lower())
    number = int(m.group("number"))  # pino and bunyan
    return "DEBUG" if number < 30 else "INFO" if number < 40 else "WARN" if number < 50 else "ERROR"


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text) if "\x1b" in text else text


# What a structured line can start with: a level word (the first two patterns), or a
# timestamp or a bracket (the other two). Any other first character rules all three out.
# (IGNORECASE also lets the dotted and dotless Turkish I stand for "i".)
_LEVEL_INITIALS = frozenset("tdiwecfTDIWECF\u0130\u0131")
# A mark before a bracketed level, as esbuild prints it and the tools built on it
# (wrangler, tsup, vite): "✘ [ERROR] You must be logged in to use wrangler dev in
# remote mode", "▲ [WARNING] …".
_MARKS = frozenset("\u2718\u2716\u2717\u00d7\u25b2\u26a0\u274c")


def _structural_level(s: str, first_pattern: int = 0) -> str | None:
    first = s[:1]
    if first in _MARKS:
        s = s[1:].lstrip()
        first = s[:1]
        if first != "[":
            return None
    if first in _LEVEL_INITIALS:
        patterns: tuple[re.Pattern[str], ...] = _STRUCTURES[first_pattern:2]
    elif first == "[" or first.isdecimal():  # what the patterns' \d matches
        patterns = _STRUCTURES[2:]
    else:  # most unstructured output ("bench 1 2", "Hello"): no regex needed
        return None
    for pattern in patterns:
        m = pattern.match(s)
        if m:
            return _LEVEL_MAP[m.group("level").lower().translate(_TURKISH_I)]
    return None


# A batch of lines where no line can be anything but the default level: no line starts
# as a structured one can (_structural_level's first characters, a brace, a space: a
# traceback's frame or an exception group), none has an ANSI escape or the words the
# last checks of _fresh look for. Searched in the batch's lines joined, after a newline.
_MAYBE_STRUCTURED = re.compile(
    "\n(?:[" + re.escape("".join(sorted(_LEVEL_INITIALS | _MARKS))) + r"\[{\d]|[^\S\n])"
)
_MAYBE_WORDS = ("Error", "Exception", "Warning: ", "\x1b")


class LevelClassifier:
    """Per-stream level detection; stateful because a traceback spans many lines."""

    __slots__ = ("_default", "_mode", "_prefix", "_prefix_level")

    def __init__(self, default: str = "INFO") -> None:
        if default not in LEVELS:
            raise ValueError(f"default level must be one of {LEVELS}, not {default!r}")
        self._default = default
        self._mode = _NONE
        # What the first structure matched of the last line it matched ("INFO:" of
        # "INFO:     127.0.0.1:5000 - ..."), and its level: a line that starts the same
        # has that level (an app's access lines, one a proxied call). That structure
        # looks at nothing past what it matched, so the same start matches the same.
        self._prefix: str | None = None
        self._prefix_level = default

    def classify(self, text: str) -> str:
        """Level of ``text`` (one line, no newline), given the lines classified before it."""
        return self.step(strip_ansi(text))[0]

    def classify_many(self, texts: list[str]) -> list[str]:
        """The levels of consecutive lines, as :meth:`classify` gives them one by one;
        a batch of plain lines (most output: no structure a level could come from) is
        found so by a few searches of the batch as a whole, not line by line."""
        if self._mode == _NONE and texts:
            joined = "\n" + "\n".join(texts)
            if _MAYBE_STRUCTURED.search(joined) is None and not any(
                word in joined for word in _MAYBE_WORDS
            ):
                return [self._default] * len(texts)
        classify = self.classify
        return [classify(text) for text in texts]

    def step(self, s: str) -> tuple[str, str | None]:
        """(level, exception line if ``s`` is one) for an ANSI-free line: the exception
        line is what ``failure`` reports as a failed start's cause."""
        mode = self._mode
        if mode != _NONE:
            if not s.strip():
                return "ERROR", None
            if s[0].isspace():
                if mode != _AFTER:  # frames, source lines, "^^^" markers, group boxes
                    return "ERROR", self._boxed_exception(s)
            elif (
                mode == _TB
                and not s.startswith((_TB_START, *_CHAIN))
                and _structural_level(s) is None  # not a new record: the exception line
            ):
                self._mode = _AFTER
                return "ERROR", s
            self._mode = _NONE  # _fresh() re-enters a traceback state if needed
        return self._fresh(s), None

    @staticmethod
    def _boxed_exception(s: str) -> str | None:
        m = _BOX.match(s)
        if m is None:
            return None
        body = s[m.end() :]
        return body if body and not body[0].isspace() and _EXC_NAME.match(body) else None

    def _fresh(self, s: str) -> str:
        prefix = self._prefix
        if prefix is not None and s.startswith(prefix):  # a level word: no traceback's
            level: str | None = self._prefix_level
        else:
            if s.startswith(_TB_START):
                self._mode = _TB
                return "ERROR"
            if s.startswith(_CHAIN) or (s[:1].isspace() and s.lstrip().startswith(_GROUP_START)):
                self._mode = _BETWEEN
                return "ERROR"
            level = self._structural(s)
        if level is not None:
            if s.rstrip().endswith(_TB_START):  # uvicorn: logger.error(traceback.format_exc())
                self._mode = _TB
            return level
        if s[:1] == "{" and (level := _json_level(s)) is not None:
            return level
        if "Warning: " in s and _PY_WARNING.match(s):
            return "WARN"
        if ("Error" in s or "Exception" in s) and _BARE_EXC.match(s):
            return "ERROR"
        return self._default

    def _structural(self, s: str) -> str | None:
        """``_structural_level``, remembering what the first structure matched."""
        if s[:1] in _LEVEL_INITIALS:
            m = _STRUCTURES[0].match(s)
            if m is not None:
                level = _LEVEL_MAP[m.group("level").lower().translate(_TURKISH_I)]
                self._prefix, self._prefix_level = s[: m.end()], level
                return level
        return _structural_level(s, 1)


def classify_level(text: str, default: str = "INFO") -> str:
    """Level of a single line on its own (no traceback context)."""
    return LevelClassifier(default).classify(text)
