"""Build and set-up steps (``runtime.steps``): each stream's last lines are kept apart,
and the cause of a failure is looked for in stderr first, as for the app itself."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import trio

from preview.apps.datainit import missing_tables_hint
from preview.builds import steps
from preview.builds.installers import installer_failure, installer_killed
from preview.builds.steps import StepResult, run_logged
from preview.logs import OutputTails
from preview.sandbox.process import ChildLimits

from ..conftest import SERVER_COMMAND, Service, server_app

# A migration that fails: its traceback on stderr, then (at exit, after the traceback)
# a line on stdout. The stdout line is the last one printed, not the cause.
_FAILING_STEP = """
import atexit, sys, time
def cleanup():
    time.sleep(0.2)  # the traceback's lines are read first
    print("cleaning up", flush=True)
atexit.register(cleanup)
print("applying migration 3", flush=True)
raise RuntimeError("migration 3 failed: no such table: users")
"""


def test_a_program_given_inline_is_shown_by_its_first_line() -> None:
    """A step's program (``node -e``) is shown by its first line, its comment, in the log
    and in a diagnosis naming the steps: not its text, nor a template's doubled braces
    (north-pole-api-hono's diagnosis quoted ``const {{ spawnSync }} = …``)."""
    program = "// the schema pushed\nconst {{ spawnSync }} = require('child_process');"
    assert steps.shown_command(("node", "-e", program)) == "node -e // the schema pushed …"
    assert steps.shown_command(["npm", "run", "build"]) == "npm run build"
    hint = missing_tables_hint({}, [steps.shown_command(("node", "-e", program))])
    assert "{{" not in hint and "(node -e // the schema pushed …)" in hint


async def test_a_steps_cause_is_found_in_stderr_before_a_later_stdout_line(
    tmp_path: Path,
) -> None:
    published: list[tuple[str, str]] = []

    async def publish(lines: list[tuple[str, str]], stream: str) -> None:
        published.extend((stream, text) for _, text in lines)

    with trio.fail_after(30):
        result = await run_logged(
            [sys.executable, "-c", _FAILING_STEP],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin"},
            limits=ChildLimits(memory_bytes=512 << 20),
            publish=publish,
            time_limit=20,
        )
    assert not result.ok and result.returncode == 1
    assert ("stdout", "cleaning up") in published
    assert result.tail[-1] == "cleaning up"  # both streams as they came
    cause, lines = result.cause()
    assert cause == "RuntimeError: migration 3 failed: no such table: users"
    assert lines[0] == "Traceback (most recent call last):" and lines[-1] == f"{cause}"
    assert "cleaning up" not in lines and "applying migration 3" not in lines


async def test_a_step_saying_nothing_and_using_no_cpu_is_ended_a_busy_one_is_not(
    tmp_path: Path,
) -> None:
    """kshtjsharma68's ExpressPortfolio: its migration runner, not given ``up``, said
    "Sucessfully connected to database" and held its connection open, silent and idle,
    to the launch's 240 s. A step that says nothing and uses no CPU for its idle limit is
    ended (``idle``); one that computes in silence runs on to its own end."""

    async def publish(lines: list[tuple[str, str]], stream: str) -> None:
        pass

    waiting = "import time; print('connected', flush=True); time.sleep(600)"
    busy = "import time\nend = time.time() + 4\nwhile time.time() < end: pass\nprint('done')"
    run = {
        "cwd": tmp_path,
        "env": {"PATH": "/usr/bin:/bin"},
        "limits": ChildLimits(memory_bytes=512 << 20),
        "publish": publish,
        "time_limit": 60,
        "idle_limit": 3.0,
    }
    with trio.fail_after(30):
        began = trio.current_time()
        idle = await run_logged([sys.executable, "-c", waiting], **run)
        took = trio.current_time() - began
        working = await run_logged([sys.executable, "-c", busy], **run)
    assert idle.idle and not idle.ok and not idle.timed_out, idle
    assert took < 20, took
    assert working.ok and not working.idle and working.tail == ["done"], working


async def test_a_step_that_says_nothing_on_stderr_gives_its_last_stdout_line(
    tmp_path: Path,
) -> None:
    async def publish(lines: list[tuple[str, str]], stream: str) -> None:
        pass

    with trio.fail_after(30):
        result = await run_logged(
            [sys.executable, "-c", "print('database not reachable'); raise SystemExit(3)"],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin"},
            limits=ChildLimits(memory_bytes=512 << 20),
            publish=publish,
            time_limit=20,
        )
    assert result.returncode == 3
    assert result.cause() == ("database not reachable", ["database not reachable"])


async def test_a_failed_setup_steps_message_and_lines_come_from_its_stderr(
    service: Service,
) -> None:
    setup = ["{python}", "-c", _FAILING_STEP]
    with trio.fail_after(60):
        gid = await service.upload(server_app())
        body = (await service.launch(gid, command=SERVER_COMMAND, setup=setup)).json()
    assert body["status"] == "failed", body
    assert body["errorMessage"].startswith("setup step failed (exited with code 1): python -c")
    assert body["errorMessage"].endswith(": RuntimeError: migration 3 failed: no such table: users")
    assert body["errorLines"][0] == "Traceback (most recent call last):", body["errorLines"]
    assert "cleaning up" not in body["errorLines"]


def test_an_installers_reason_comes_from_stderr_first() -> None:
    """npm writes its errors on stderr; a later stdout line that mentions errors (its
    audit's summary) is not the reason."""
    tails = OutputTails()
    tails.extend("stderr", ["npm error code E404", "npm error 404 Not Found - GET nopkg"])
    tails.extend("stdout", ["found 0 errors in 12 packages"])
    reason, lines = installer_failure(tails, "npm")
    assert reason == "404 Not Found - GET nopkg"
    assert lines == ["npm error code E404", "npm error 404 Not Found - GET nopkg"]
    quiet = OutputTails()
    quiet.extend("stdout", ["nothing useful"])
    assert installer_failure(quiet, "uv") == ("uv failed", ["nothing useful"])


def test_a_steps_missing_module_of_the_upload_is_not_told_to_be_installed() -> None:
    """drf-jwt-httponly-cookie's migrate failed on its own ``core`` package, and the cause
    said "add 'core' to requirements.txt" (the step's cause knew neither the upload nor
    its dependency file, a uv.lock)."""
    tails = OutputTails()
    tails.extend(
        "stderr",
        [
            "Traceback (most recent call last):",
            '  File "manage.py", line 22, in <module>',
            "ModuleNotFoundError: No module named 'core'",
        ],
    )
    result = StepResult(1, [], False, tails)
    cause, _ = result.cause((), upload=("backend/core/__init__.py",), listed_in="uv.lock")
    assert cause is not None and "'core' is in the upload (backend/core)" in cause
    bare, _ = result.cause(())
    assert bare is not None and bare.endswith("add 'core' to requirements.txt")


async def test_a_build_that_says_it_is_done_and_does_not_exit_is_ended_as_a_success(
    tmp_path: Path, monkeypatch
) -> None:
    """vue-cli-service build after its last line, as vuejs/vue-cli#1622 has it: its
    process stays; once the step's ``finished`` line came it is ended after a grace
    (here 0.5 s), its work kept; a command that says so and then fails still fails."""
    monkeypatch.setattr(steps, "_DONE_GRACE", 0.5)

    async def publish(lines: list[tuple[str, str]], stream: str) -> None:
        pass

    said = "print(' DONE  Build complete. The dist directory is ready to be deployed.', flush=True)"

    async def run(after: str) -> StepResult:
        return await run_logged(
            [sys.executable, "-c", f"import time\n{said}\n{after}"],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin"},
            limits=ChildLimits(memory_bytes=512 << 20),
            publish=publish,
            time_limit=60,
            finished=steps._BUNDLED,
        )

    with trio.fail_after(30):
        stays = await run("time.sleep(600)")
        assert stays.ok and stays.lingered and not stays.timed_out
        fails = await run("raise SystemExit(2)")
        assert not fails.ok and fails.returncode == 2 and not fails.lingered


async def test_an_npm_run_step_runs_its_script_as_npm_does_without_npm(tmp_path: Path) -> None:
    """``npm run build`` as its script under ``sh -c``, with what npm gives a script (its
    package's commands first on the PATH, its lifecycle event): npm's own start-up left out."""
    published: list[str] = []

    async def publish(lines: list[tuple[str, str]], stream: str) -> None:
        published.extend(text for _, text in lines)

    tools = tmp_path / "node_modules" / ".bin"
    tools.mkdir(parents=True)
    (tools / "own-tool").write_text('#!/bin/sh\necho "own tool for $npm_lifecycle_event"\n')
    (tools / "own-tool").chmod(0o755)
    build = 'own-tool && cat "/proc/$PPID/comm"'  # the shell's parent: npm, or the caller
    package = {"name": "app", "scripts": {"build": build}}
    (tmp_path / "package.json").write_text(json.dumps(package))
    with trio.fail_after(30):
        result = await run_logged(
            ["npm", "run", "build"],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin"},
            limits=ChildLimits(memory_bytes=1 << 30),
            publish=publish,
            time_limit=20,
        )
    assert result.ok, result.tail
    assert published[0] == "own tool for build", published
    assert len(published) == 2 and not published[1].startswith("npm"), published


async def test_an_installer_ended_by_the_file_size_limit_says_so(tmp_path: Path) -> None:
    """Harshith24's Flask-music lists tensorflow, a wheel of 546 MiB: uv, writing it past
    the size a build may write, was ended by SIGXFSZ without a word ("uv failed"). The
    reason names the limit and the downloads uv said were larger."""
    # (head, as uv, keeps SIGXFSZ's default: Python ignores it, and gets EFBIG instead)
    writer = "echo 'Downloading tensorflow (545.7MiB)'; exec head -c 4000000 /dev/zero > big"
    limits = ChildLimits(memory_bytes=512 << 20, file_bytes=1 << 20)

    async def publish(lines: list[tuple[str, str]], stream: str) -> None:
        pass

    with trio.fail_after(30):
        result = await run_logged(
            ["/bin/sh", "-c", writer],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin"},
            limits=limits,
            publish=publish,
            time_limit=20,
        )
    assert not result.ok and result.returncode == -signal.SIGXFSZ, result.tail
    reason, _ = installer_failure(result.tails, "uv")
    assert reason == "uv failed"  # nothing it printed says why
    said = installer_killed(result.returncode, "uv", result.tail, limits.file_bytes)
    assert said == (
        "uv was stopped writing a file larger than the 1 MiB a build may write "
        "(tensorflow 545.7 MiB)"
    )
    assert installer_killed(0, "uv", [], 1 << 20) is None
    assert installer_killed(2, "uv", [], 1 << 20) == "uv exited with code 2 without saying why"
    assert installer_killed(-signal.SIGKILL, "uv", [], 1 << 20) == "uv was ended by SIGKILL"
