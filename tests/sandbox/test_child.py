"""preview.sandbox.child: what a child's command is prefixed with, run for real."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import trio

from preview.sandbox.child import dying_with_this_process

SETPRIV = shutil.which("setpriv")

# A parent that forks ``argv`` (its stdin a pipe whose other end this parent holds) and
# then, "go" in argv[1]: writes a line into that pipe and waits for it; otherwise exits
# at once. ``argv`` begins by reading that line, so it runs on only after its parent
# said go, or after its parent died (end of file).
_PARENT = """
import os, subprocess, sys
go, argv = sys.argv[1] == "go", sys.argv[2:]
argv = [a.replace("PARENT", str(os.getpid())) for a in argv]
read_end, write_end = os.pipe()
child = subprocess.Popen(argv, stdin=read_end)
os.close(read_end)
if go:
    os.write(write_end, b"go\\n")
    child.wait()
"""


async def _what_it_said(go: bool) -> bytes:
    assert SETPRIV is not None
    argv = [
        "/bin/sh",
        "-c",
        'read line; exec "$@"',  # its parent's go, or its parent's death
        "sh",
        *dying_with_this_process(SETPRIV, parent=-1),
        "/bin/echo",
        "the command ran",
    ]
    argv[argv.index("-1")] = "PARENT"
    with trio.fail_after(30):
        process = await trio.lowlevel.open_process(
            [sys.executable, "-c", _PARENT, "go" if go else "exit", *argv],
            stdout=subprocess.PIPE,
        )
        assert process.stdout is not None
        said = b""
        # Until the pipe's end: every process holding it (the orphan too) has ended.
        while chunk := await process.stdout.receive_some(1024):
            said += chunk
        await process.wait()
    return said


@pytest.mark.skipif(SETPRIV is None, reason="setpriv is not installed")
async def test_a_command_whose_parent_died_before_its_death_signal_was_asked_never_runs() -> None:
    # The kernel sends the parent-death signal only for a death after the prctl: without
    # the check, this orphan ran its command, adopted by init, for ever after.
    assert await _what_it_said(go=False) == b""


@pytest.mark.skipif(SETPRIV is None, reason="setpriv is not installed")
async def test_a_command_whose_parent_lives_runs() -> None:
    assert await _what_it_said(go=True) == b"the command ran\n"
