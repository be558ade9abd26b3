"""The environment an upload gives its app, tried from real sandboxed previews: it is the
app's alone. Neither its loader's variables (``LD_PRELOAD``, ``LD_DEBUG_OUTPUT`` …) act
on what confines it (root's shell, setpriv, bwrap, nsenter on the host), nor does its
``.env`` read the service's own environment (``${PREVIEW_JWT_SECRET}``)."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

from preview.sandbox import child

from ..conftest import SERVER_COMMAND, Service, server_app
from .test_sandbox import require_sandbox

ENV_APP = """
import json
import shutil

class Env(Handler):
    def do_GET(self):
        if self.path != "/env":
            return super().do_GET()
        body = json.dumps(dict(os.environ)).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Env
"""
WORKER = (
    "printer: python3 -c \"import os, time; print('worker sees', "
    "os.environ.get('LD_DEBUG_OUTPUT'), flush=True); time.sleep(600)\"\n"
)


async def _worker_says(service: Service, gid: str) -> str:
    """What the worker says it sees (the caller's fail_after bounds the wait; its other
    lines are its loader's statistics)."""
    while True:
        for event in await service.history(gid, process="printer"):
            if event["message"].startswith("worker sees"):
                return event["message"]
        await trio.sleep(0.05)


async def test_the_apps_loader_variables_act_only_inside_its_sandbox(
    service: Service, tmp_path: Path
) -> None:
    """``LD_PRELOAD=./lib.so`` in an upload's ``.env`` had root's shell joining the
    sandbox's cgroup, setpriv and bwrap load the upload's library on the host. Here the
    loader writes a file of its own for each program that obeys ``LD_DEBUG_OUTPUT``: a
    host path the app's sandbox does not have, so only what runs outside could write it.
    The app, its set-up step and its worker (entered by nsenter) still get the variable."""
    require_sandbox(service)
    output = tmp_path / "loader"
    files = server_app(
        before_serving=ENV_APP,
        Procfile=WORKER,
        **{".env": f"LD_DEBUG=statistics\nLD_DEBUG_OUTPUT={output}\nGCONV_PATH=./gconv\n"},
    )
    setup = ["{python}", "-c", "import os; print('setup sees', os.environ['LD_DEBUG_OUTPUT'])"]
    with trio.fail_after(60):
        gid = await service.upload(files)
        launched = await service.launch(gid, command=SERVER_COMMAND, setup=setup, tier="pro")
        body: dict[str, Any] = launched.json()
        assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
        env = (await service.app_get(body, "/env")).json()
        assert env["LD_DEBUG_OUTPUT"] == str(output) and env["GCONV_PATH"] == "./gconv"
        assert not [name for name in env if name.startswith("PREVIEW_HELD_")]
        assert await _worker_says(service, gid) == f"worker sees {output}"
        setup_lines = [e["message"] for e in await service.history(gid, source="setup")]
        assert f"setup sees {output}" in setup_lines
        await service.stop(gid)
    written = [p.name for p in await trio.Path(tmp_path).iterdir() if p.name.startswith("loader")]
    assert written == []


async def test_the_apps_shell_variables_act_only_inside_its_sandbox(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shell that joins the sandbox's cgroup runs as root on the host with the app's
    environment, and /bin/sh is bash on many systems: ``BASH_FUNC_echo%%`` in an
    upload's ``.env`` is a function bash runs in place of the ``echo`` its script calls,
    as root. Here that shell is bash, and the function would write a host path the
    sandbox lacks. The app, its set-up step and its worker (nsenter's chain) get the
    shell's other variables (``ENV``, ``SHELLOPTS``), none the function."""
    require_sandbox(service)
    if shutil.which("bash", path="/bin:/usr/bin") is None:
        pytest.skip("bash is not installed")
    monkeypatch.setattr(child, "PRIVILEGED_SHELL", shutil.which("bash", path="/bin:/usr/bin"))
    marker = tmp_path / "root-ran-the-apps-function"
    function = f'() {{ : >> {marker}; builtin echo "$@"; }}'
    files = server_app(
        before_serving=ENV_APP,
        Procfile=WORKER.replace("LD_DEBUG_OUTPUT", "ENV"),
        **{".env": f"BASH_FUNC_echo%%='{function}'\nSHELLOPTS=xtrace\nENV=production\n"},
    )
    setup = ["{python}", "-c", "import os; print('setup sees', os.environ['ENV'])"]
    with trio.fail_after(60):
        gid = await service.upload(files)
        launched = await service.launch(gid, command=SERVER_COMMAND, setup=setup, tier="pro")
        body: dict[str, Any] = launched.json()
        assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
        env = (await service.app_get(body, "/env")).json()
        assert (env["ENV"], env["SHELLOPTS"]) == ("production", "xtrace")
        assert not [name for name in env if name.startswith(("BASH_FUNC_", "PREVIEW_HELD_"))]
        assert await _worker_says(service, gid) == "worker sees production"
        setup_lines = [e["message"] for e in await service.history(gid, source="setup")]
        assert "setup sees production" in setup_lines
        await service.stop(gid)
    assert not await trio.Path(marker).exists()


async def test_an_uploads_env_file_never_reads_the_services_environment(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """python-dotenv fills ``${NAME}`` from the process's own environment too: the
    service's (its ``PREVIEW_JWT_SECRET``, database URLs). Only the file's own values
    above a line, and the default written in it, are used."""
    require_sandbox(service)
    canary = "canary-" + secrets.token_hex(8)
    monkeypatch.setenv("PREVIEW_TEST_CANARY", canary)
    dotenv = (
        "LEAK=${PREVIEW_TEST_CANARY}\nLEAK_DEFAULT=${PREVIEW_TEST_CANARY:-fallback}\n"
        "OWN=a\nREF=${OWN}-b\nMISSING=${NOWHERE:-d}\n"
    )
    files = server_app(before_serving=ENV_APP, **{".env": dotenv})
    with trio.fail_after(60):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
        env = (await service.app_get(body, "/env")).json()
        await service.stop(gid)
    assert canary not in json.dumps(env)
    assert (env["LEAK"], env["LEAK_DEFAULT"]) == ("", "fallback")
    assert (env["OWN"], env["REF"], env["MISSING"]) == ("a", "a-b", "d")


SHM_APP = """
import multiprocessing

class Shm(Handler):
    def do_GET(self):
        if self.path != "/shm":
            return super().do_GET()
        queue = multiprocessing.SimpleQueue()  # a pipe and a POSIX semaphore (/dev/shm)
        queue.put("queued")
        with multiprocessing.Lock():
            body = json.dumps({"got": queue.get()}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Shm
"""


async def _answer_of(service: Service, before_serving: str, path: str) -> Any:
    """The answer of a test app running ``before_serving`` to ``GET path``, once launched
    (then stopped); asserted 200."""
    files = server_app(before_serving=before_serving)
    with trio.fail_after(60):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
        answer = await service.app_get(body, path)
        await service.stop(gid)
    assert answer.status_code == 200, answer.text
    return answer


async def test_the_app_has_posix_shared_memory(service: Service) -> None:
    """multiprocessing's locks and queues take POSIX semaphores in /dev/shm, which
    bubblewrap's /dev has only as root's: fastapi-practices' template, whose loguru sink
    is ``enqueue=True``, failed at import (PermissionError: [Errno 13])."""
    require_sandbox(service)
    answer = await _answer_of(service, "import json\n" + SHM_APP, "/shm")
    assert answer.json() == {"got": "queued"}


def test_no_variable_of_the_apps_reaches_the_privileged_part_by_its_name() -> None:
    """Not only the variables known to be obeyed (the loader's, a shell's): every one the
    upload gives travels renamed through what confines the app (the next tool of that
    chain reads its own, which no list names), and the app's command gets them all back
    as given (a name no shell can give too); ``PORT`` (the service's number, which the
    forwarders' launcher reads) passes as it is, bash's functions not at all."""
    given = {
        "PYTHONSTARTUP": "/srv/app/evil.py",
        "PERL5OPT": "-Mevil",
        "TZ": ":/srv/app/tz",
        "LD_PRELOAD": "./x.so",
        "ODD.NAME": "kept",
        # Several such names (amaneasdf's simple-fastapi: TELEMETRY.ENABLED and 20 more in
        # its .env.example): "/usr/bin/env: '-u': No such file or directory", exit 127.
        "TELEMETRY.ENABLED": "FALSE",
        "LOGGING.AGENT_HOST": "localhost",
        "PORT": "8123",
        "PATH": "/usr/bin:/bin",
        "BASH_FUNC_echo%%": "() { :; }",
        "QUOTED": 'a "b" $c `d`\n\\e',
    }
    argv, env = child.hold_host_variables([sys.executable, "-c", _PRINT_ENV], given)
    assert {n for n in env if not n.startswith(child.HELD_PREFIX)} == {"PORT"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=True)
    seen = json.loads(done.stdout)
    expected = {n: v for n, v in given.items() if not n.startswith("BASH_FUNC_")}
    assert {n: v for n, v in seen.items() if n in given} == expected
    assert not [name for name in seen if name.startswith(child.HELD_PREFIX)]


_PRINT_ENV = "import json, os; print(json.dumps(dict(os.environ)))"


CPUS_APP = """
import json

class Cpus(Handler):
    def do_GET(self):
        if self.path != "/cpus":
            return super().do_GET()
        folder = "/sys/devices/system/cpu"
        body = json.dumps({
            "possible": open(folder + "/possible").read().strip(),
            "sys": os.listdir("/sys"),
            "cpu": sorted(os.listdir(folder)),
        }).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Cpus
"""


def _host_cpus() -> str | None:
    """The host's list of possible CPUs, None where it has none."""
    path = Path("/sys/devices/system/cpu/possible")
    return path.read_text().strip() if path.exists() else None


async def test_the_app_reads_the_kernels_lists_of_cpus_and_no_more_of_sys(
    service: Service,
) -> None:
    """tcmalloc aborts without /sys/devices/system/cpu/possible (CHECK in
    NumPossibleCPUsNoCache): workerd, which ``wrangler dev`` and ``wrangler d1 migrations
    apply --local`` start, died at once in every sandbox (tkak5's hono-drizzle-d1). The
    lists are shown read-only; nothing else of /sys is."""
    require_sandbox(service)
    possible = _host_cpus()
    if possible is None:
        pytest.skip("this machine has no /sys/devices/system/cpu/possible")
    answer = await _answer_of(service, CPUS_APP, "/cpus")
    seen = answer.json()
    assert seen["possible"] == possible
    assert seen["sys"] == ["devices"]
    assert set(seen["cpu"]) <= {"possible", "present", "online"}
