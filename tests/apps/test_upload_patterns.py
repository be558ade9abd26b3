"""What an upload or its build prints is read with re, which holds the GIL while it
matches: a pattern quadratic in a long run of blanks or name characters stops the whole
service, not only the launch that reads it. Each is read here in a child process, bounded
(the old patterns took minutes on these)."""

from __future__ import annotations

import sys

import pytest
import trio

_READS = {
    # a Poetry constraint of 60,000 blanks (pyproject.toml's dependencies)
    "poetry": "from preview.apps.poetry import _alternative\n"
    "print(_alternative('>=1 ' + ' ' * 60_000 + '!'))",
    # drizzle-kit's range in package.json
    "drizzle": "from preview.apps.node.migrations import _OLD_DRIZZLE_KIT\n"
    "print(_OLD_DRIZZLE_KIT.match(' ' * 200_000 + '!'))",
    # a build's line (setup.py prints it) searched for a call's rejected keyword
    "build line": "from preview.builds.remedies.candidates import _NO_KEYWORD, _SEPARATE_PROJECT\n"
    "line = 'a' * 100_000\n"
    "print(_NO_KEYWORD.search(line), _SEPARATE_PROJECT.search(line))",
}


@pytest.mark.parametrize("read", list(_READS.values()), ids=list(_READS))
async def test_a_long_run_is_read_at_once(read: str) -> None:
    with trio.fail_after(60):
        done = await trio.run_process([sys.executable, "-c", read], capture_stdout=True)
    assert done.stdout.strip() in (b"None", b"None None")


def test_the_patterns_read_what_they_did() -> None:
    from preview.apps.node.migrations import _OLD_DRIZZLE_KIT
    from preview.apps.poetry import _alternative
    from preview.builds.remedies.candidates import _NO_KEYWORD

    assert _alternative(">=1.2, <2") == [(">=", "1.2"), ("<", "2")]
    assert _alternative(" ~1.2 ") == [(">=", "1.2"), ("<", "1.3")]
    assert _alternative(">= 1.2 x") is None
    assert _OLD_DRIZZLE_KIT.match(" ^0.19.1 ").group(1) == "19"
    found = _NO_KEYWORD.search("TypeError: x.y() got an unexpected keyword argument 'loop'")
    assert found.groups() == ("x.y", "loop")
