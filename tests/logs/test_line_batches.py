"""The pipe readers' batch paths agree, line for line, with the one-line-at-a-time
paths they stand in for: splitting a whole read at once (``LineSplitter.feed_texts``),
classifying a batch (``LevelClassifier.classify_many``) and scrubbing one
(``HostPaths.lines``)."""

from __future__ import annotations

import random

import pytest

from preview.logs import HostPaths, LevelClassifier, LineSplitter
from preview.logs.lines import Line

_PIECES = [
    b"a",
    b"bench 1 2",
    b"\n",
    b"\r\n",
    b"\r",
    b"\x00",
    b"\xc3\xa9",
    b"\xe2\x82\xac",
    b"\xf0\x9f\x98\x80",
    b"\xe2\x82",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b" ",
    b"x" * 20,
]


def _one_by_one(splitter: LineSplitter, data: bytes) -> list[Line]:
    return splitter._feed_parts(data)  # the line-by-line path


@pytest.mark.parametrize("seed", range(40))
def test_splitting_a_read_at_once_gives_the_lines_of_splitting_it_line_by_line(
    seed: int,
) -> None:
    rng = random.Random(seed)
    bound = rng.choice([4, 7, 16, 64, 1000])
    data = b"".join(rng.choice(_PIECES) for _ in range(rng.randrange(1, 400)))
    fast, slow = LineSplitter(bound), LineSplitter(bound)
    got: list[Line] = []
    expected: list[Line] = []
    at = 0
    while at < len(data):
        size = rng.randrange(1, 60)
        chunk, at = data[at : at + size], at + size
        if rng.random() < 0.1:  # a quiet spell: the partial line is flushed
            got += fast.flush()
            expected += slow.flush()
        got += fast.feed(chunk)
        if slow._flushed:  # what feed() does first, then the line-by-line path
            slow._flushed = False
            if chunk.startswith(b"\n") or chunk.startswith(b"\r\n"):
                chunk = chunk[chunk.index(b"\n") + 1 :]
        if chunk:
            expected += _one_by_one(slow, chunk)
        assert fast.buffered == slow.buffered
    assert got + fast.finish() == expected + slow.finish()


_LINES = [
    "bench 1 1763938000123456789",
    "Hello",
    "GET /errors 200 OK",
    "",
    " ",
    "\t  x",
    "INFO:     Uvicorn running",
    "WARNING:root:msg",
    "ERROR - x",
    "[INFO] x",
    "[",
    "{",
    "2024-01-01 12:00:00,123 - app - WARNING - m",
    "12:00:00 ERROR name: m",
    "9 lives",
    '{"level": "error", "msg": "x"}',
    '{"severity": 30}',
    "/srv/app/main.py:3: UserWarning: x",
    "ValueError: bad",
    "KeyError",
    "Exception",
    "Traceback (most recent call last):",
    '  File "/srv/app/main.py", line 1, in <module>',
    "    raise ValueError(1)",
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
    "  + Exception Group Traceback (most recent call last):",
    "  | ValueError: x",
    "\x1b[32mINFO\x1b[0m:     ok",
    "\u0130nfo: x",
    "\u0661 arabic digit",
    "\u2003em space",
    "\x1cfile separator",
    "ok\r",
    "plain text",
    "Errors are fine?",
    "über",
    "ß",
]


@pytest.mark.parametrize("seed", range(40))
def test_classifying_a_batch_gives_the_levels_of_classifying_line_by_line(seed: int) -> None:
    rng = random.Random(seed)
    texts = [
        rng.choice(_LINES) if rng.random() < 0.3 else rng.choice(_LINES[:3])
        for _ in range(rng.randrange(0, 300))
    ]
    default = "DEBUG" if seed % 2 else "INFO"
    batched, single = LevelClassifier(default), LevelClassifier(default)
    got: list[str] = []
    at = 0
    while at < len(texts):
        size = rng.randrange(1, 40)
        got += batched.classify_many(texts[at : at + size])
        at += size
    assert got == [single.classify(text) for text in texts]


@pytest.mark.parametrize("line", _LINES)
def test_a_batch_of_plain_lines_and_one_other_gives_that_line_its_level(line: str) -> None:
    texts = ["bench 1 2"] * 5 + [line] + ["plain"] * 5
    assert LevelClassifier().classify_many(texts) == list(map(LevelClassifier().classify, texts))


def test_scrubbing_a_batch_gives_the_lines_of_scrubbing_each(tmp_path) -> None:
    app = tmp_path / "previews" / "p1"
    paths = HostPaths(app_dir=app, service_dirs=[tmp_path / "data"], interpreters=["/usr/bin/py"])
    texts = ["plain", f'  File "{app}/main.py", line 3', f"{tmp_path}/data/x", "/usr/bin/py -m"]
    for batch in ([texts[0]] * 3, texts, [], [texts[0], texts[3]]):
        assert paths.lines(batch) == [paths(text) for text in batch]
    assert paths.lines(texts)[1:] == ['  File "main.py", line 3', "<service>/x", "python -m"]
