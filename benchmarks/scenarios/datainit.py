"""Scenario datainit: a cached relaunch of an app whose data steps are migrations, with
the data-init cache (``PREVIEW_DATA_CACHE_MB``, issue 68) on and off, side by side.

The app is the tests' Django project (``tests/fixtures/apps/django_project``: Django and
DRF, its own app's migration beside Django's contrib apps', 19 in all, on SQLite), as
a generated backend most often is. Two services, builds on (sandboxed as the machine
allows, ``PREVIEW_SANDBOX=auto``): one with the cache at its default, one with it off
(``0``). Each builds the app's environment once (a cold launch, not counted, which on
the cache's side also keeps its data), then relaunches the same generation, the two
services alternating (this VM drifts by ±10 % over minutes): upload → ``running`` as
the launch call returns it, and the seconds its data steps took (off) or the kept
data's copy took (on), from the launch's own timeline.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from ..harness import ROOT, ServiceServer, free_port_block, log

APP = ROOT / "tests" / "fixtures" / "apps" / "django_project"
RELAUNCHES = 9


def _files() -> dict[str, str]:
    return {
        str(path.relative_to(APP)): path.read_text()
        for path in sorted(APP.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _service(cache_mb: str) -> ServiceServer:
    first = free_port_block(4)
    return ServiceServer(
        extra_env={
            "PREVIEW_BUILD": "on",
            "PREVIEW_SANDBOX": "auto",
            "PREVIEW_DATA_CACHE_MB": cache_mb,
            "PREVIEW_PORT_MIN": str(first),
            "PREVIEW_PORT_MAX": str(first + 3),
            "PREVIEW_STARTUP_TIMEOUT": "120",
        }
    )


def _relaunch(service: ServiceServer, gid: str) -> float:
    began = time.perf_counter()
    service.launch(gid)
    elapsed = (time.perf_counter() - began) * 1000
    service.stop(gid)
    return elapsed


def _said(service: ServiceServer, gid: str, text: str) -> bool:
    events = service.http.get(
        f"/api/generations/{gid}/preview/logs", params={"limit": 2000}
    ).json()["events"]
    return any(text in e["message"] for e in events)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def run(*, quick: bool = False, **_: Any) -> dict[str, Any]:
    runs = 3 if quick else RELAUNCHES
    files = _files()
    times: dict[str, list[float]] = {"on": [], "off": []}
    from_cache = 0
    with _service("512") as cached, _service("0") as uncached:
        services = {"on": cached, "off": uncached}
        gids = {}
        for side, service in services.items():
            log(f"datainit: cold launch, cache {side}")
            gids[side] = service.upload(files)
            service.launch(gids[side])
            service.stop(gids[side])
        for i in range(runs):
            for side in ("on", "off") if i % 2 == 0 else ("off", "on"):
                log(f"datainit: relaunch {i + 1}/{runs}, cache {side}")
                times[side].append(_relaunch(services[side], gids[side]))
            from_cache += _said(cached, gids["on"], "data initialised from cache")
    on, off = _median(times["on"]), _median(times["off"])
    return {
        "scenario": "datainit",
        "app": str(APP.relative_to(ROOT)),
        "relaunches": runs,
        "cached_relaunch_ms": {"cache_on": on, "cache_off": off, "saved": round(off - on, 1)},
        "p90_ms": {
            side: round(sorted(values)[max(0, int(len(values) * 0.9) - 1)], 1)
            for side, values in times.items()
        },
        "relaunches_from_cache": from_cache,
        "all_ms": times,
    }
