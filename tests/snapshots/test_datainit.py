"""The data-init cache (snapshots.datainit, issue 68): a launch's migrations run once per
inputs; each later launch of those inputs starts from a copy of what they made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from preview.store.datadir import DATA_INIT_DIR

from ..conftest import Service, auth
from ..launching import BUILD_WAIT, app_files, launched, messages

_FROM_CACHE = "data initialised from cache"
_UPGRADE = "flask db upgrade"


def _blog() -> dict[str, str]:
    """flask_migrate (its schema is its Alembic history) with a route that writes a row."""
    files = app_files("flask_migrate")
    files["blog/__init__.py"] = files["blog/__init__.py"].replace(
        "    return app\n",
        '    @app.post("/posts")\n'
        "    def add_post():\n"
        '        db.session.add(Post(title="written by the first launch"))\n'
        "        db.session.commit()\n"
        '        return jsonify("ok"), 201\n\n'
        "    return app\n",
    )
    return files


async def _relaunched(service: Service, gid: str) -> dict[str, Any]:
    response = await service.launch(gid, tier="pro")
    assert response.status_code == 200, response.text
    return {"gid": gid, **response.json()}


async def _said(service: Service, body: dict[str, Any]) -> list[str]:
    return messages(await service.history(body["gid"], previewId=body["previewInstanceId"]))


async def test_migrations_run_once_per_inputs_and_each_launch_has_data_of_its_own(
    builder_service: Service,
) -> None:
    service = builder_service
    kept_root = Path(service.supervisor.settings.data_dir) / DATA_INIT_DIR
    with trio.fail_after(BUILD_WAIT * 2):
        first = await launched(service, _blog())
        assert first["status"] == "running", (first["errorMessage"], first["errorLines"])
        said = await _said(service, first)
        assert not any(_FROM_CACHE in m for m in said)
        assert any("kept for the next launch" in m for m in said), said[-12:]
        written = await service.app_request(first, "POST", "/posts")
        assert written.status_code == 201, written.text
        posts = (await service.app_get(first, "/posts")).json()
        assert posts == ["migrated", "written by the first launch"]  # (its migration's row)
        assert (await service.stop(first["gid"])).status_code == 200

        # The same inputs: the kept data put in (the migration's row), the migrations not
        # run, none of the first launch's own rows.
        second = await _relaunched(service, first["gid"])
        assert second["status"] == "running", (second["errorMessage"], second["errorLines"])
        said = await _said(service, second)
        assert any(_FROM_CACHE in m for m in said), said[-12:]
        assert not any(_UPGRADE in m and "ran" in m for m in said)
        assert (await service.app_get(second, "/posts")).json() == ["migrated"]
        phases = {t["phase"]: t for t in (await service.status(first["gid"]))["phases"]}
        assert phases["data init"].get("cached") is True, phases  # said in the status too
        assert (await service.stop(second["gid"])).status_code == 200

        # A kept file changed since: not used, the migrations run again.
        [entry] = [p for p in (kept_root / first["gid"]).iterdir() if not p.name.startswith(".")]
        [database] = [p for p in entry.rglob("*.db")]
        database.write_bytes(database.read_bytes() + b"tampered")
        third = await _relaunched(service, first["gid"])
        assert third["status"] == "running", (third["errorMessage"], third["errorLines"])
        said = await _said(service, third)
        assert not any(_FROM_CACHE in m for m in said)
        assert any("files changed since they were kept" in m for m in said), said[-12:]
        assert (await service.app_get(third, "/posts")).json() == ["migrated"]
        assert (await service.stop(third["gid"])).status_code == 200

        # Another migration: another key, initialised by running them.
        changed = _blog()
        [migration] = [p for p in changed if p.startswith("migrations/versions/")]
        changed[migration] += "\n# edited\n"
        fourth = await launched(service, changed)
        assert fourth["status"] == "running", (fourth["errorMessage"], fourth["errorLines"])
        assert not any(_FROM_CACHE in m for m in await _said(service, fourth))
        assert (await service.stop(fourth["gid"])).status_code == 200

        # Deleting a generation deletes the data kept from its launches.
        assert (kept_root / fourth["gid"]).is_dir()
        deleted = await service.client.delete(f"/api/generations/{fourth['gid']}", headers=auth())
        assert deleted.status_code == 200, deleted.text
        assert not (kept_root / fourth["gid"]).exists()
        assert (kept_root / first["gid"]).is_dir()


async def test_a_launch_that_needed_a_fix_keeps_its_data_for_the_next(
    builder_service: Service,
) -> None:
    """Its first attempt's migrations fail (a migration imports six, which its requirements
    do not list and its start never loads, so no check before the start adds it); the
    fix's attempt, on databases emptied of what the first left, runs them and keeps what
    they made; the next launch, with that fix, is initialised from it (four heldout7 apps
    that needed a fix ran their migrations at every launch)."""
    service = builder_service
    files = _blog()
    migration = "migrations/versions/3f1c2a7b9d01_posts.py"
    files[migration] = "import six  # noqa: F401\n" + files[migration]
    with trio.fail_after(BUILD_WAIT * 2):
        first = await launched(service, files)
        assert first["status"] == "running", (first["errorMessage"], first["errorLines"])
        said = await _said(service, first)
        fixed = next(i for i, m in enumerate(said) if m.startswith("fix 1:"))
        assert "six" in said[fixed], said
        assert any("kept for the next launch" in m for m in said[fixed:]), said[fixed:]
        assert (await service.stop(first["gid"])).status_code == 200

        second = await _relaunched(service, first["gid"])
        assert second["status"] == "running", (second["errorMessage"], second["errorLines"])
        said = await _said(service, second)
        assert any(_FROM_CACHE in m for m in said), said[-12:]
        assert (await service.app_get(second, "/posts")).json() == ["migrated"]
        assert (await service.stop(second["gid"])).status_code == 200
