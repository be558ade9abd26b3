"""A preview runs the app's workers beside its web process (preview.apps.processes,
preview.runtime.processes): which are read from its files, and real previews whose
Celery worker (nobody declared) completes what the web process queues on its own Redis,
in the web process's sandbox; a crashing worker restarted; a Node app's Procfile worker;
a worker turned off; and nothing left running once the preview stops."""

from __future__ import annotations

import json
from dataclasses import astuple, replace
from datetime import datetime
from typing import Any

import psutil
import pytest
import trio

from preview import Settings
from preview.api.streams import _text_line
from preview.apps.detect import detect
from preview.apps.spec import workers_off, workers_option
from preview.backing.servers.redis import redis_binary
from preview.client.printing import print_event
from preview.errors import BadRequest
from preview.logs.event import Event, sse_frames

from ..conftest import SERVER_COMMAND, Service, auth, eventually, running_service, server_app
from ..launching import BUILD_WAIT, app_files, launched, messages
from ..sandbox.test_sandbox import require_sandbox


def _workers(files: dict[str, str], command: list[str] | None = None) -> dict[str, str]:
    found = detect({path: text.encode() for path, text in files.items()}, command)
    return {worker.name: " ".join(worker.argv) for worker in found.workers}


FLASK = {
    "app.py": "from flask import Flask\napp = Flask(__name__)\n",
    "requirements.txt": "flask\n",
}


def test_the_workers_are_read_from_the_files() -> None:
    procfile = "\n".join(
        [
            "web: gunicorn app:app",
            "release: python manage.py migrate",
            "worker: celery -A tasks worker",
            "beat: celery -A tasks beat -l info",
            "flower: celery -A tasks flower",
            "clock: python clock.py",
            "again: gunicorn app:app",
            "console: python -i",
            "mailer: python mailer.py",
        ]
    )
    app_json = json.dumps({"formation": {"web": {"quantity": 1}, "mailer": {"quantity": 0}}})
    found = _workers({**FLASK, "Procfile": procfile, "app.json": app_json})
    assert found == {
        "worker": "sh -c celery -A tasks worker --pool=solo",  # not a child per CPU
        "beat": "sh -c celery -A tasks beat -l info",  # schedules onto its own broker
        "clock": "sh -c python clock.py",
    }  # no release, flower (HTTP), web again, console, nor a type scaled to 0
    compose = """
services:
  api:
    build: ./backend
    command: uvicorn main:app --host 0.0.0.0
    ports: ["8000:8000"]
  worker:
    build: {context: ./backend}
    command: ["celery", "-A", "main.celery", "worker", "-c", "2"]
  other:
    build: ./elsewhere
    command: rq worker
  migrate:
    build: ./backend
    command: alembic upgrade head
  redis:
    image: redis:7
"""
    files = {"docker-compose.yml": compose, "backend/main.py": FLASK["app.py"]}
    assert _workers(files) == {"worker": "sh -c cd backend && celery -A main.celery worker -c 2"}
    # A worker an override file adds (``docker compose up`` merges it into the project).
    override = "services:\n  mailer:\n    build: ./backend\n    command: rq worker mail\n"
    found = _workers({**files, "docker-compose.override.yml": override})
    assert found["mailer"] == "sh -c cd backend && rq worker mail"
    heroku = "run:\n  web: gunicorn app:app\n  worker:\n    command:\n      - rq worker\n"
    assert _workers({**FLASK, "heroku.yml": heroku}) == {"worker": "sh -c rq worker"}
    celery_app = {
        **FLASK,
        "backend/manage.py": "",
        "backend/proj/__init__.py": "",
        "backend/proj/celery.py": "from celery import Celery\napp = Celery('proj')\n",
        "backend/api/views.py": "def view():\n    ping.delay()\n",
    }
    assert _workers(celery_app) == {
        "celery": "{python} -m celery --workdir backend -A proj.celery:app worker --pool=solo "
        "--concurrency=1 --loglevel=INFO"
    }
    queues_nothing = {k: v for k, v in celery_app.items() if k != "backend/api/views.py"}
    assert _workers(queues_nothing) == {}
    pings = {**queues_nothing, "backend/api/health.py": "app.control.ping(timeout=1)\n"}
    assert list(_workers(pings)) == ["celery"]  # its health route expects a worker
    procfile = "web: node index.js\nworker: node worker.js\njobs: yarn jobs\n"
    node = {
        "package.json": '{"scripts": {"start": "node index.js"}}',
        "index.js": "",
        "Procfile": procfile,
    }
    assert _workers(node) == {"worker": "sh -c node worker.js", "jobs": "sh -c yarn jobs"}
    scripted = {**node, "package.json": '{"scripts": {"start": "node index.js", "jobs": "x"}}'}
    assert _workers(scripted)["jobs"] == "sh -c npm run jobs"  # yarn is not installed here
    assert _workers({**FLASK, "Procfile": "jobs: rq worker\n"}, SERVER_COMMAND) == {
        "jobs": "sh -c rq worker"
    }  # a given command starts the web process; the app's workers still run


def test_the_launch_option_turning_workers_off_is_checked() -> None:
    assert workers_off(workers_option({}), ["worker", "beat"]) == ()
    every = workers_off(workers_option({"workers": False}), ["worker", "beat"])
    assert every == ("worker", "beat")
    one = workers_off(workers_option({"workers": {"beat": False}}), ["worker", "beat"])
    assert one == ("beat",)
    for bad in ("no", ["beat"], {"beat": "off"}, {"bad name!": False}):
        with pytest.raises(BadRequest) as raised:
            workers_option({"workers": bad})
        assert raised.value.code == "invalid_workers"
    with pytest.raises(BadRequest) as raised:
        workers_off({"flower": False}, ["worker"])
    assert raised.value.code == "invalid_workers"
    assert raised.value.details == {"unknown": ["flower"], "detected": ["worker"]}


def test_a_workers_lines_say_whose_they_are(capsys: pytest.CaptureFixture[str]) -> None:
    moment = datetime(2026, 11, 25, 12, 0, 0, 123000)
    line = Event(7, moment, "INFO", "celery@preview ready.", "app", "stderr", process="celery")
    assert json.loads(line.json) == line.to_dict()
    assert line.to_dict()["process"] == "celery"
    web = Event(8, moment, "INFO", "GET / 200", "app", "stdout")
    assert "process" not in web.json and "process" not in web.to_dict()  # as it always was
    assert sse_frames([Event(*astuple(line)[:8]), Event(*astuple(web)[:8])]) == line.sse + web.sse
    assert _text_line(line.to_dict()).endswith(" [app:celery/stderr] celery@preview ready.\n")
    print_event(line.to_dict(), colour=False)
    assert capsys.readouterr().out.endswith("INFO  [celery] celery@preview ready.\n")


def _process(status: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in status["processes"] if p["name"] == name)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _running_with(token: str) -> list[psutil.Process]:
    """This machine's processes whose command line holds ``token``."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if token in " ".join(process.info["cmdline"] or ()):
            found.append(process)
    return found


async def _until_said(service: Service, gid: str, text: str, count: int = 1) -> list[str]:
    """The system lines once ``count`` of them hold ``text`` (the caller's fail_after
    bounds the wait; each poll waits for the history's next change)."""
    while True:
        said = messages(await service.history(gid), "system")
        if sum(text in line for line in said) >= count:
            return said
        await trio.sleep(0.1)


def _process_lines(events: list[dict[str, Any]]) -> list[str]:
    return [e["message"] for e in events if e.get("process")]


async def _result(service: Service, body: dict[str, Any], task: str) -> dict[str, Any]:
    """A queued task's result once it has one (the caller's fail_after bounds the wait)."""
    while True:
        result = (await service.app_get(body, f"/result/{task}")).json()
        if result["state"] not in ("PENDING", "STARTED"):
            return result
        await trio.sleep(0.1)


async def test_a_celery_worker_completes_what_the_web_process_queues(
    builder_service: Service,
) -> None:
    service = builder_service
    require_sandbox(service)
    if redis_binary() is None:
        pytest.skip("redis-server is not installed")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("flask_celery"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
    gid = body["gid"]
    assert body["runtime"]["workers"] == [
        {
            "name": "celery",
            "detectedFrom": "jobs/celery.py",
            "command": "{python} -m celery -A jobs.celery:app worker --pool=solo --concurrency=1 "
            "--loglevel=INFO",
        }
    ]
    with trio.fail_after(90):
        while True:  # the worker connects to the broker: then the app's ping answers
            if (await service.app_get(body, "/health")).status_code == 200:
                break
            await trio.sleep(0.2)
        task = (await service.app_request(body, "POST", "/add/2/3")).json()["id"]
        assert await _result(service, body, task) == {"state": "SUCCESS", "value": 5}
        # The worker is in the web process's sandbox: its private /tmp, name and uid.
        task = (await service.app_request(body, "POST", "/where")).json()["id"]
        seen = await _result(service, body, task)
        assert seen["state"] == "SUCCESS", seen
        here = (await service.app_get(body, "/here")).json()
        assert {k: seen["value"][k] for k in ("uid", "host", "cwd", "seccomp")} == here
        assert here["seccomp"] == "2" and here["uid"] != 0  # filtered, not root
        assert seen["value"]["web"].isdigit()
        status = await service.status(gid)
        assert _process(status, "web")["status"] == "running"
        worker = _process(status, "celery")
        assert worker["status"] == "running" and worker["restarts"] == 0
        events = await service.history(gid)
        tagged = [e for e in events if e.get("process") == "celery"]
        assert any("adding 2 and 3" in e["message"] for e in tagged), tagged[-20:]
        assert all(e["source"] == "app" for e in tagged)
        assert not any("adding 2 and 3" in e["message"] for e in events if "process" not in e)
        assert _running_with("jobs.celery:app")
        await service.stop(gid)
        said = messages(await service.history(gid), "system")
        assert any(line.startswith("worker celery stopped") for line in said), said
        stopped = await service.status(gid)
        assert _process(stopped, "celery")["status"] == "stopped"
    assert _running_with("jobs.celery:app") == []
    assert not psutil.pid_exists(worker["pid"])


@pytest.mark.parametrize("sandbox", ["auto", "off"])
async def test_a_crashing_worker_is_restarted_and_said(settings: Settings, sandbox: str) -> None:
    async with running_service(replace(settings, sandbox=sandbox)) as service:
        if sandbox == "auto":
            require_sandbox(service)
        await _crash_and_restart(service)


async def _crash_and_restart(service: Service) -> None:
    crasher = "crasher: python3 -c \"print('crasher up', flush=True); raise SystemExit(3)\"\n"
    files = server_app(Procfile=crasher)
    with trio.fail_after(60):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND, tier="pro")).json()
        assert body["status"] == "running", body.get("errorMessage")
        said = await _until_said(service, gid, "worker crasher started", count=2)
        assert "worker crasher exited with code 3" in said
        assert any(line.startswith("worker crasher: restarting in 1 s") for line in said), said
        events = await service.history(gid)
        assert [e["message"] for e in events if e.get("process") == "crasher"][:1] == ["crasher up"]
        status = await service.status(gid)
        assert status["status"] == "running" and status["healthStatus"] == "healthy"
        assert _process(status, "crasher")["restarts"] >= 1
        # The history of one process, of the others (web: the lines of none), of both:
        # read once it has ended (the crasher, restarted, would add lines between reads).
        await service.stop(gid)
        crashers = await service.history(gid, process="crasher")
        assert crashers and {e.get("process") for e in crashers} == {"crasher"}
        web = await service.history(gid, process="web")
        assert web and not any(e.get("process") for e in web)
        both = await service.history(gid, process="crasher,web", level="INFO")
        assert {e["id"] for e in both} == {e["id"] for e in crashers + web if e["level"] == "INFO"}
        bad = await service.client.get(
            f"/api/generations/{gid}/preview/logs", params={"process": "a b"}, headers=auth()
        )
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_process"
        assert bad.json()["details"] == {"process": ["a b"]}


async def test_a_failure_of_the_services_own_ends_a_worker_not_the_preview(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug of the service's")

    for spawn in ("spawn_child", "spawn_entered"):  # the workers' alone, not the web's
        monkeypatch.setattr(f"preview.runtime.processes.worker.{spawn}", broken)
    files = server_app(Procfile="ticker: python3 -c \"print('tick')\"\n")
    with trio.fail_after(60):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", body.get("errorMessage")
        await _until_said(service, gid, "worker ticker: the service failed to run it")
        status = await service.status(gid)
        assert status["status"] == "running" and _process(status, "ticker")["status"] == "failed"
        await service.stop(gid)


async def test_a_worker_turned_off_does_not_run(service: Service) -> None:
    files = server_app(Procfile="ticker: python3 -c \"print('should not run')\"\n")
    with trio.fail_after(60):
        gid = await service.upload(files)
        refused = await service.launch(gid, command=SERVER_COMMAND, workers={"other": False})
        assert refused.status_code == 400
        assert refused.json() == {
            "status": "failed",
            "error": "invalid_workers",
            "message": refused.json()["message"],
            "details": {"unknown": ["other"], "detected": ["ticker"]},
        }
        bad = await service.launch(gid, command=SERVER_COMMAND, workers="none")
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_workers"
        body = (await service.launch(gid, command=SERVER_COMMAND, workers={"ticker": False})).json()
        assert body["status"] == "running", body.get("errorMessage")
        assert _process(body, "ticker") == {"name": "ticker", "role": "worker", "status": "off"}
        await service.stop(gid)
        events = await service.history(gid)
        assert not any("ticker" in e["message"] or e.get("process") for e in events)


async def test_a_node_apps_procfile_worker_runs(builder_service: Service) -> None:
    service = builder_service
    require_sandbox(service)
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_procfile_worker"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
    gid = body["gid"]
    with trio.fail_after(60):
        while True:
            events = await service.history(gid)
            ticks = [e for e in events if e.get("process") == "worker"]
            if len(ticks) >= 3:
                break
            await trio.sleep(0.1)
        assert ticks[0]["message"] == "worker tick 1" and ticks[0]["stream"] == "stdout"
        assert _process(await service.status(gid), "worker")["status"] == "running"
        assert _running_with("node worker.js")
        await service.stop(gid)
        stopping = [e for e in await service.history(gid) if e.get("process") == "worker"]
        assert stopping[-1]["message"] == "worker stopping"  # SIGTERM first, as the web's
    assert _running_with("node worker.js") == []


@pytest.mark.parametrize("sandbox", ["auto", "off"])
async def test_a_revision_applied_live_runs_its_own_workers_and_stops_the_old_ones(
    settings: Settings, sandbox: str
) -> None:
    """The new revision's process brings its workers, from its files, once it answers;
    the workers of the process it replaced stop with it."""
    async with running_service(replace(settings, sandbox=sandbox)) as service:
        if sandbox == "auto":
            require_sandbox(service)
        await _swap_with_workers(service)


async def _swap_with_workers(service: Service) -> None:
    ticker = (
        "ticker: python3 -c \"import time; print('ticker-rev', open('v.txt').read(), "
        'flush=True); time.sleep(3600)"\n'
    )
    files = server_app(Procfile=ticker, **{"v.txt": "one"})
    with trio.fail_after(120):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", body.get("errorMessage")
        await _until_said(service, gid, "worker ticker started")
        # The old worker has read its file (its own line) before the revision changes it:
        # under load the interpreter's start can outlast the revision's apply.
        while True:
            if "ticker-rev one" in _process_lines(await service.history(gid)):
                break
            await trio.sleep(0.1)
        posted = await service.client.post(
            f"/api/generations/{gid}/revisions", json={"files": {"v.txt": "two"}}, headers=auth()
        )
        assert posted.status_code == 201, posted.text
        assert posted.json()["apply"]["state"] == "switched", posted.json()["apply"]
        while True:
            lines = _process_lines(await service.history(gid))
            if "ticker-rev two" in lines:
                break
            await trio.sleep(0.1)
        assert lines[0] == "ticker-rev one"
        # The old revision's worker is stopped once its process is drained.
        said = await _until_said(service, gid, "worker ticker started", count=2)
        old, new = (
            int(line.split("(pid ")[1].split(")")[0])
            for line in said
            if line.startswith("worker ticker started")
        )
        await eventually(lambda: not _alive(old))
        assert _alive(new)
        status = await service.status(gid)
        assert _process(status, "ticker")["status"] == "running"
        await service.stop(gid)
        assert not _running_with("ticker-rev")


async def test_the_smoke_check_waits_for_a_celery_worker_to_say_it_is_ready(
    settings: Settings,
) -> None:
    """PaskarRules' drf-orders-platform: its /api/health/ pings its Celery workers, which
    its compose file declares and which were ready ten seconds after the web process: the
    smoke check (and the user's first call) got 503 "no workers". A worker that says when
    it is ready (Celery's ``celery@host ready.``) is waited for, bounded, before the smoke
    check; one that never says so (a ticker) is not."""
    ready = (
        "worker: python3 -c \"import time; time.sleep(2); print('celery@preview ready.',"
        ' flush=True); time.sleep(120)" celery worker\n'
    )
    files = server_app(Procfile=ready + 'ticker: python3 -c "import time; time.sleep(120)"\n')
    async with running_service(replace(settings, smoke_check="on")) as service:
        await _smoke_after_ready(service, files)


async def _smoke_after_ready(service: Service, files: dict[str, str]) -> None:
    with trio.fail_after(60):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", body.get("errorMessage")
        await _until_said(service, gid, "smoke check:")
        events = await service.history(gid)
        texts = [e["message"] for e in events]
        checked = next(i for i, t in enumerate(texts) if t.startswith("smoke check:"))
        assert "celery@preview ready." in texts[:checked], texts  # its own line, before
        await service.stop(gid)
