"""Operations endpoints of a real service: /metrics moves with launches, stops, streams
and failures; /healthz and /readyz; the service's JSON log lines."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from dataclasses import replace
from functools import partial

import httpx
import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from preview import create_app
from preview.metrics import Metrics
from preview.runtime import free_port_block
from preview.serving import JsonFormatter
from preview.store import Store

from ..conftest import SERVER_COMMAND, Service, auth, emitter_app, running_service
from ..outages import throwaway_postgres


async def _scrape(service: Service) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await service.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_move_with_a_launch_a_stream_and_a_stop(service: Service) -> None:
    with trio.fail_after(60):
        before = await _scrape(service)
        assert _value(before, "preview_launches_total") == 0
        assert _value(before, "preview_previews", status="running") == 0

        gid = await service.upload(emitter_app())
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running"
        url = f"/api/generations/{gid}/preview/logs/stream"
        events: list = []
        subscribed = trio.Event()

        async def follow() -> None:
            async with service.client.stream("GET", url, headers=auth()) as stream:
                assert stream.status_code == 200
                async for line in stream.aiter_lines():
                    subscribed.set()  # its first event came: the subscriber is in
                    if line.startswith("data: "):
                        events.append(json.loads(line[6:]))
                    if line == "event: end":
                        return

        async with trio.open_nursery() as nursery:
            nursery.start_soon(follow)
            await subscribed.wait()
            running = await _scrape(service)
            assert _value(running, "preview_previews", status="running") == 1
            assert _value(running, "preview_subscribers") == 1
            emitted = await service.app_get(body, "/emit?n=50")
            assert emitted.status_code == 200
            assert (await service.stop(gid)).status_code == 200
        assert any(event.get("message") == "line 49" for event in events)

        after = await _scrape(service)
        assert _value(after, "preview_launches_total") == 1
        assert _value(after, "preview_launch_duration_seconds_count") == 1
        assert _value(after, "preview_previews", status="running") == 0
        assert _value(after, "preview_subscribers") == 0
        assert _value(after, "preview_writer_queue_depth") == 0
        published = _value(after, "preview_log_lines_published_total")
        assert published >= 50 + 4  # the app's lines and the lifecycle's
        assert 50 <= _value(after, "preview_log_lines_delivered_total") <= published
        assert _value(after, "preview_store_write_duration_seconds_count") >= 1
        assert _value(after, "preview_subscribers_dropped_total") == 0
        assert sum(v for (n, _), v in after.items() if n == "preview_failures_total") == 0


async def test_a_failed_start_counts_by_cause_and_builds_are_observed(service: Service) -> None:
    with trio.fail_after(60):
        files = {"server.py": "import sqlmodel_missing_module\n"}
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "failed"
        service.app.extensions["preview"].metrics.observe_build(4.2)
        samples = await _scrape(service)
        assert _value(samples, "preview_failures_total", cause="missing_module") == 1
        assert _value(samples, "preview_launch_duration_seconds_count") == 0
        assert _value(samples, "preview_build_duration_seconds_count") == 1
        assert _value(samples, "preview_build_duration_seconds_bucket", le="5.0") == 1
        assert _value(samples, "preview_build_duration_seconds_bucket", le="2.0") == 0


async def test_failed_builds_and_set_up_steps_count_under_causes_of_their_own(
    settings, tmp_path
) -> None:
    built = replace(settings, build="on", env_dir=str(tmp_path / "envs"))
    with trio.fail_after(120):
        async with running_service(built) as service:
            no_python = {"server.py": "print('never')\n", ".python-version": "3.99\n"}
            gid = await service.upload(no_python)
            body = (await service.launch(gid, command=SERVER_COMMAND)).json()
            assert body["status"] == "failed" and "3.99" in body["errorMessage"], body
            gid = await service.upload({"server.py": "print('never')\n"})
            setup = ["{python}", "-c", "import missing_module_for_setup"]
            body = (await service.launch(gid, command=SERVER_COMMAND, setup=setup)).json()
            assert body["status"] == "failed" and "missing_module" in body["errorMessage"]
            samples = await _scrape(service)
    assert _value(samples, "preview_failures_total", cause="build") == 1
    assert _value(samples, "preview_failures_total", cause="setup") == 1
    assert _value(samples, "preview_failures_total", cause="other") == 0
    assert _value(samples, "preview_failures_total", cause="missing_module") == 0


def test_two_apps_in_one_process_have_registries_of_their_own(settings) -> None:
    first, second = create_app(settings, fast_paths=True), create_app(settings, fast_paths=True)
    first.extensions["preview"].metrics.launches.inc()
    assert b"preview_launches_total 1.0" in first.extensions["preview"].metrics.render()
    assert b"preview_launches_total 0.0" in second.extensions["preview"].metrics.render()
    assert Metrics().registry is not Metrics().registry


async def test_healthz_and_readyz_answer_and_readyz_fails_without_the_store(
    service: Service,
) -> None:
    with trio.fail_after(30):
        health = await service.client.get("/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        ready = await service.client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        await service.store.aclose()
        down = await service.client.get("/readyz")
        assert down.status_code == 503
        assert down.headers["Retry-After"].isdigit()
        assert down.json()["status"] == "failed"
        assert down.json()["error"] == "not_ready"
        assert down.json()["details"] == {"store": "unavailable"}
        assert (await service.client.get("/healthz")).status_code == 200


async def test_readyz_fails_once_the_supervisor_stops(service: Service) -> None:
    with trio.fail_after(30):
        await service.supervisor.aclose()
        down = await service.client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["details"] == {"supervisor": "not running"}


@pytest.fixture
def outage_db_url():
    """A database of its own on the test PostgreSQL, so refusing its connections
    disturbs no other test; dropped afterwards."""
    with throwaway_postgres() as made:
        yield made


async def test_readyz_fails_while_postgresql_refuses_connections(settings, outage_db_url) -> None:
    url, admin, name = outage_db_url

    def refuse(allow: bool) -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(
                f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allow else "false"}'
            )
            if not allow:
                connection.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    f" WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                )

    with trio.fail_after(60):
        store = await Store.open(url)
        try:
            app = create_app(replace(settings, db_url=url), store=store, fast_paths=True)
            async with running_service(settings, app) as service:
                assert (await service.client.get("/readyz")).status_code == 200
                await trio.to_thread.run_sync(refuse, False)
                down = await service.client.get("/readyz")
                assert down.status_code == 503, down.text
                assert down.json()["details"] == {"store": "unavailable"}
                # Unauthenticated: the driver's error (host, port, database) is not shown.
                assert name not in down.text and "5432" not in down.text, down.text
                await trio.to_thread.run_sync(refuse, True)
                assert (await service.client.get("/readyz")).status_code == 200
        finally:
            await store.aclose()


def test_json_log_lines_have_time_level_logger_message_and_exc() -> None:
    formatter = JsonFormatter()
    logger = logging.getLogger("preview.test")
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        record = logger.makeRecord(
            "preview.test", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info()
        )
    line = formatter.format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert set(parsed) == {"time", "level", "logger", "message", "exc"}
    assert parsed["level"] == "ERROR" and parsed["logger"] == "preview.test"
    assert parsed["message"] == "failed x"
    assert parsed["time"].endswith("Z") and "T" in parsed["time"]
    assert parsed["exc"].startswith("Traceback") and "ValueError: boom" in parsed["exc"]
    plain = json.loads(
        formatter.format(logger.makeRecord("p", logging.INFO, "f", 1, "m", (), None))
    )
    assert plain["exc"] is None


async def test_preview_serve_writes_json_log_lines(tmp_path) -> None:
    """``python -m preview serve`` with PREVIEW_LOG_FORMAT=json: every line it writes to
    stderr (its own warnings, Hypercorn's error and access logs) is one JSON object."""
    port = free_port_block(1, lowest=20000)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREVIEW_")}
    env.update(
        PREVIEW_LOG_FORMAT="json",
        PREVIEW_DATA_DIR=str(tmp_path),
        PREVIEW_JWT_SECRET="s" * 48,
        PREVIEW_NO_SUCH_SETTING="1",  # makes the app log a warning
    )
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            process = await nursery.start(
                partial(
                    trio.run_process,
                    [sys.executable, "-m", "preview", "serve", "--bind", f"127.0.0.1:{port}"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    check=False,
                )
            )
            out = b""
            async for chunk in process.stdout:
                out += chunk
                if b"Preview service ready" in out:
                    break
            async with httpx.AsyncClient(trust_env=False) as client:
                assert (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
            process.send_signal(signal.SIGTERM)
            err = b""
            async for chunk in process.stderr:
                err += chunk
    records = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
    assert records and all(
        set(r) == {"time", "level", "logger", "message", "exc"} for r in records
    ), err
    loggers = {r["logger"] for r in records}
    assert {"preview", "hypercorn.error", "hypercorn.access"} <= loggers, loggers
    assert any("PREVIEW_NO_SUCH_SETTING" in r["message"] for r in records)
    assert any("/healthz" in r["message"] for r in records if r["logger"] == "hypercorn.access")


async def test_lines_delivered_count_a_catch_up_from_the_store(settings) -> None:
    with trio.fail_after(60):
        async with running_service(replace(settings, max_log_lines=10)) as service:
            gid = await service.upload(emitter_app())
            body = (await service.launch(gid, command=SERVER_COMMAND)).json()
            emitted = await service.app_get(body, "/emit?n=100")
            assert emitted.status_code == 200
            runtime = service.supervisor.get(body["previewInstanceId"])
            while not any(e.message == "line 99" for e in runtime.broadcast._ring):  # noqa: ASYNC110
                await trio.sleep(0.01)
            url = f"/api/generations/{gid}/preview/logs/stream"
            async with service.client.stream("GET", url, headers=auth()) as stream:
                async for line in stream.aiter_lines():  # from id 1: mostly from the store
                    if '"line 99"' in line:
                        break
            samples = await _scrape(service)
            assert _value(samples, "preview_log_lines_delivered_total") >= 100
            assert (await service.stop(gid)).status_code == 200
