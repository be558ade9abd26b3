"""An ``alembic.ini`` whose ``script_location`` is written from the project's root
(``app/alembic.ini`` naming ``app/migrations``, run by its author as ``alembic -c
app/alembic.ini``): the step runs from where that folder is, not beside the ini, where
Alembic found no ``app/app/migrations`` (iariap/fastapi-sqlmodel-alembic)."""

from __future__ import annotations

import trio

from preview.apps.alembicheads import alembic_run_dir
from preview.apps.detect import detect

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched
from .test_datainit import _files, _proxied


def test_the_step_runs_where_the_script_location_resolves() -> None:
    files = _files("alembic_ini_in_app_dir")
    assert alembic_run_dir(files, "app") == ("", "app/alembic.ini")
    assert detect(files).setup_steps() == [
        (("{python}", "-m", "alembic.config", "-c", "app/alembic.ini", "upgrade", "heads"), "")
    ]
    # Where the folder is beside the ini (its own directory's name), it runs there.
    moved = {
        (p.replace("app/migrations/", "app/app/migrations/") if "/migrations/" in p else p): data
        for p, data in files.items()
    }
    assert alembic_run_dir(moved, "app") == ("app", "alembic.ini")


def test_a_stray_ini_whose_history_the_upload_lacks_is_passed_over() -> None:
    """lntck's fastapi-jwt-auth: app/alembic.ini names app/alembic, which it lacks, and
    the root's alembic.ini its alembic/ ("FAILED: Path doesn't exist: app/alembic"). The
    ini whose history is there migrates, however near the app the other is."""
    files = _files("alembic_ini_in_app_dir")
    ini = files["app/alembic.ini"]
    moved = {
        (p.replace("app/migrations/", "migrations/") if "/migrations/" in p else p): data
        for p, data in files.items()
    }
    moved["alembic.ini"] = ini.replace(b"app/migrations", b"migrations")
    moved["app/alembic.ini"] = ini.replace(b"app/migrations", b"%(here)s/alembic")
    assert detect(moved).setup_steps() == [
        (("{python}", "-m", "alembic.config", "upgrade", "heads"), "")
    ]


async def test_an_ini_naming_its_history_from_the_root_migrates(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("alembic_ini_in_app_dir"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/items"))["data"] == ["migrated from the root"]
        assert (await service.stop(body["gid"])).status_code == 200
