"""A swap tells where its time went (``apply.timings``), and what it runs is decided
against the revision that is running, not the one saved just before: a migration saved
with ``apply: false`` runs with the next revision applied, even one changing no
migration of its own; a revision whose start cannot be found fails with nothing left
behind (its directory was written beside the detection)."""

from __future__ import annotations

import itertools

import trio

from preview.runtime.swaps.codedirs import REVISIONS_DIR

from ..conftest import Service, auth, eventually, server_app
from ..proxy.test_origins import TARGET, _files
from .test_swaps import (
    TABLES,
    _launch,
    _migration,
    _proxied,
    _revisions,
    alembic_app,
)

# The steps, in the order they end ((detected, written): side by side, either first).
STEPS = [
    "received",
    "validated",
    "stored",
    "apply",
    "turn",
    ("detected", "written"),
    "environment",
    "sandbox",
    "spawned",
    "answered",
    "switched",
]


async def test_a_swap_reports_its_steps_times_in_order(service: Service) -> None:
    with trio.fail_after(120):
        gid, _ = await _launch(service, server_app(TABLES, **{"notes.txt": "a"}))
        posted = await service.client.post(
            _revisions(gid), json={"files": {"notes.txt": "b"}}, headers=auth()
        )
        body = posted.json()
        assert body["applied"] is True, posted.text
        timings = body["apply"]["timings"]
        order = [step for step in timings if step != "tree"]
        want = [s for step in STEPS for s in ((step,) if isinstance(step, str) else step)]
        assert sorted(order) == sorted(want), timings
        for before, after in itertools.pairwise(STEPS):
            ended = [before] if isinstance(before, str) else before
            later = [after] if isinstance(after, str) else after
            assert max(timings[s] for s in ended) <= min(timings[s] for s in later), timings
        assert timings["received"] == 0.0
        # readyMs: from after its sandbox to its answer, its spawn included.
        ready = body["apply"]["readyMs"]
        spawned_to_answer = timings["answered"] - timings["spawned"]
        assert spawned_to_answer - 1 <= ready <= timings["answered"] - timings["sandbox"] + 1
        assert (await service.stop(gid)).status_code == 200


async def test_a_migration_saved_unapplied_runs_with_the_next_revision_applied(
    service: Service,
) -> None:
    with trio.fail_after(120):
        files = alembic_app()
        gid, launched = await _launch(service, files)
        token = launched["previewToken"]
        added = {"migrations/versions/0002_notes.py": _migration("0002", "0001", "notes")}
        saved = await service.client.post(
            _revisions(gid), json={"files": added, "apply": False}, headers=auth()
        )
        assert saved.status_code == 201 and saved.json()["applied"] is False, saved.text
        assert "notes" not in (await _proxied(service, gid, token, "tables")).split()
        # Revision 3 changes no migration, but revision 2's is new to the running one.
        posted = await service.client.post(
            _revisions(gid), json={"files": {"notes.txt": "x"}}, headers=auth()
        )
        assert posted.json()["applied"] is True, posted.text
        assert "notes" in (await _proxied(service, gid, token, "tables")).split()
        setup = [e["message"] for e in await service.history(gid) if e["source"] == "setup"]
        assert sum("Running upgrade 0001 -> 0002" in m for m in setup) == 1
        assert (await service.stop(gid)).status_code == 200


async def test_a_revision_whose_start_is_not_found_fails_and_leaves_no_directory(
    service: Service,
) -> None:
    with trio.fail_after(120):
        gid = await service.upload(_files(TARGET))
        launched = (await service.launch(gid)).json()  # its start detected
        assert launched["status"] == "running", launched.get("errorMessage")
        posted = await service.client.post(
            _revisions(gid), json={"files": {"app/main.py": None}}, headers=auth()
        )
        body = posted.json()
        assert body["applied"] is False and body["apply"]["state"] == "failed", posted.text
        assert body["apply"]["errorMessage"].startswith("Found no way to start this app")
        runtime = service.supervisor.get(launched["previewInstanceId"])
        assert runtime is not None
        written = runtime.temp_dir / REVISIONS_DIR
        # Written, then removed (just after the answer: the failure is told first).
        await eventually(lambda: not written.exists() or not any(written.iterdir()))
        status = await service.status(gid)
        assert status["status"] == "running" and status["revision"] == 1
        assert (await service.stop(gid)).status_code == 200
