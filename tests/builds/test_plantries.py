"""A launch's plans judged by health (``preview.builds.plantries``): where the data set-up
fails and no fix is known, the start goes on without it, judged by the smoke check.
Real launches of a Django fixture app, built by a real install, served on a real port."""

from __future__ import annotations

import trio

from preview.builds.plantries import with_own_code_verdict

from ..conftest import Service, eventually
from ..launching import BUILD_WAIT, app_files, launched, messages

_HISTORY = "notes/migrations/0001_initial.py"
_DROPPED = "no fix is known for its data set-up's failure"


async def test_a_history_creating_a_table_twice_starts_without_it(
    smoke_builder: Service,
) -> None:
    """drf-crm's shape: its second migration makes again the table its first made
    ("relation … already exists"), no fix is known, and the app serves from what the
    first made: started once more without that set-up's failure, it is running."""
    service = smoke_builder
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("django_history_twice"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/notes/")).json() == {"notes": ["first"]}
        system = messages(await service.history(body["gid"]), "system")
        assert any(m.startswith(_DROPPED) for m in system), system
        dropped = [m for m in system if m.startswith("set-up step python manage.py migrate")]
        assert dropped and "already exists" in dropped[0], system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_start_without_its_data_that_serves_nothing_fails_with_its_cause(
    smoke_builder: Service,
) -> None:
    """The same app whose first migration fails: no table, so every route answers 500
    at the smoke check; the launch fails, its message led by the migration's failure."""
    service = smoke_builder
    files = app_files("django_history_twice")
    files[_HISTORY] = files[_HISTORY].replace(
        "operations = [", 'operations = [migrations.RunSQL("SELECT * FROM no_such_table"), ', 1
    )
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        runtime = service.supervisor.get(body["previewInstanceId"])
        if body["status"] == "running":  # until its smoke check ends it
            assert runtime is not None
            await eventually(lambda: runtime.status == "failed")
        status = await service.status(body["gid"])
        assert status["status"] == "failed", status
        message = status["errorMessage"]
        assert message.startswith("setup step failed"), message
        assert "no such table" in message and "served none of its routes" in message, message
        system = messages(await service.history(body["gid"]), "system")
        assert any(m.startswith(_DROPPED) for m in system), system


async def test_with_no_smoke_check_a_failed_data_set_up_stands(
    builder_service: Service,
) -> None:
    """Nothing could judge a start without its data set-up: the failure stands."""
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, app_files("django_history_twice"))
        assert body["status"] == "failed", body
        assert "already exists" in body["errorMessage"], body["errorMessage"]
        system = messages(await builder_service.history(body["gid"]), "system")
        assert not any(m.startswith(_DROPPED) for m in system), system


def test_a_later_plans_verdict_of_a_module_never_committed_joins_the_first_failure() -> None:
    """nodeexcel's expressPaymentGateway: its build's TypeScript errors began with
    "Cannot find module './admin.delete'", and its dev script (plan 2) died on the same
    require, which the service said is the app's own code: the launch, the first plan's
    failure, says so too. Not where the first failure names another module, nor where
    the later one is no such verdict."""
    first = (
        "setup step failed (exited with code 1): npm run build: TypeScript: 32 errors in 7"
        " files (src/controllers/admins/index.ts, …); first: src/controllers/admins/index.ts"
        "(4,29) TS2307: Cannot find module './admin.delete' or its corresponding type"
        " declarations.",
        ["src/controllers/admins/index.ts(4,29): error TS2307: Cannot find module …"],
        "preparation failed",
    )
    verdict = (
        "src/controllers/admins/index.ts requires ./admin.delete, and the upload has no"
        " src/controllers/admins/admin.delete.js nor src/controllers/admins/admin.delete/"
        "index.js (never committed, or left out by its .gitignore): the app's own code"
    )
    later = f"Error: Cannot find module './admin.delete' — {verdict}"
    message, lines, reason = with_own_code_verdict(first, later)
    assert message == f"{first[0]} — {verdict}"
    assert (lines, reason) == (first[1], first[2])
    other = later.replace("./admin.delete", "./admin.update")
    assert with_own_code_verdict(first, other) == first
    assert with_own_code_verdict(first, "Error: Cannot find module './admin.delete'") == first
    assert with_own_code_verdict(first, None) == first
