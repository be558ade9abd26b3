"""An app whose migrations umzug (or @slonik/migrator) runs, by a script of its own
(``"migration:up": "ts-node database/migrate up"``): that script is a set-up step. Sairyss'
domain-driven-hexagon answered 500 at ``/v1/users``, relation "users" does not exist."""

from __future__ import annotations

import json

import trio

from preview.apps.detect import detect

from ..backing.test_app_postgres import _proxied, _sandboxed, _settled, needs_server
from ..conftest import Service
from ..launching import BUILD_WAIT, app_files


def test_the_apps_own_migration_up_script_is_a_set_up_step() -> None:
    files = {p: t.encode() for p, t in app_files("node_umzug_pg").items()}
    assert detect(files).setup == (("npm", "run", "migration:up"),)
    # Without umzug, such a script is left to the app.
    package = json.loads(files["package.json"])
    del package["dependencies"]["umzug"]
    plain = {**files, "package.json": json.dumps(package).encode()}
    assert detect(plain).setup == ()


@needs_server
async def test_umzug_migrations_run_before_the_app_serves(builder_service: Service) -> None:
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await _settled(service, "node_umzug_pg")
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/"))["data"] == ["first"]
        assert (await service.stop(body["gid"])).status_code == 200
