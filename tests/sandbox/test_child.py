"""preview.sandbox.child: what a child's command is prefixed with, run for real."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys

import psutil
import pytest
import trio

from preview.sandbox.child import dying_with_this_process

SETPRIV = shutil.which("setpriv")

# A parent that forks ``argv`` (its stdin a pipe whose other end this parent holds),
# says the child's pid on its stderr, and then, "go" in argv[1]: writes a line into
# that pipe and waits for it; otherwise exits at once. ``argv`` begins by reading that
# line, so it runs on only after its parent said go, or once its parent is dying (end
# of file: the kernel closes a dying process's files before it hands its children to
# init).
_PARENT = """
import os, subprocess, sys
go, argv = sys.argv[1] == "go", sys.argv[2:]
argv = [a.replace("PARENT", str(os.getpid())) for a in argv]
read_end, write_end = os.pipe()
child = subprocess.Popen(argv, stdin=read_end)
os.close(read_end)
print(child.pid, file=sys.stderr, flush=True)
if go:
    os.write(write_end, b"go\\n")
    child.wait()
"""


async def _run_under_a_parent(go: bool, command: list[str]) -> bytes:
    """What ``command``, behind :func:`dying_with_this_process`, printed until every
    process holding its output ended (the orphan too, were it left running)."""
    assert SETPRIV is not None
    argv = [
        "/bin/sh",
        "-c",
        'read line; exec "$@"',  # its parent's go, or its parent's death
        "sh",
        *dying_with_this_process(SETPRIV, parent=-1),
        *command,
    ]
    argv[argv.index("-1")] = "PARENT"
    child: psutil.Process | None = None
    try:
        with trio.fail_after(20):
            process = await trio.lowlevel.open_process(
                [sys.executable, "-c", _PARENT, "go" if go else "exit", *argv],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            assert process.stdout is not None and process.stderr is not None
            pid = b""
            while not pid.endswith(b"\n"):
                pid += await process.stderr.receive_some(64)
            try:
                child = psutil.Process(int(pid))
            except psutil.NoSuchProcess:
                child = None
            said = b""
            while chunk := await process.stdout.receive_some(1024):
                said += chunk
            await process.wait()
        return said
    finally:
        if child is not None:  # left running (the check failed): never outlives the test
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()  # (psutil's: not a later process given its pid)


@pytest.mark.skipif(SETPRIV is None, reason="setpriv is not installed")
async def test_a_command_whose_parent_died_before_its_death_signal_was_asked_ends() -> None:
    # The kernel sends the parent-death signal only for a death after the prctl: without
    # the check, this orphan slept on, adopted by init, holding its output open (and
    # the wait above ran out). A parent still dying when it is checked (its files closed,
    # its children not yet handed on) sends the signal as it ends.
    command = ["/bin/sh", "-c", "echo ran; exec sleep 60"]
    said = await _run_under_a_parent(go=False, command=command)
    assert said in (b"", b"ran\n")


@pytest.mark.skipif(SETPRIV is None, reason="setpriv is not installed")
async def test_a_command_whose_parent_lives_runs() -> None:
    said = await _run_under_a_parent(go=True, command=["/bin/echo", "the command ran"])
    assert said == b"the command ran\n"
