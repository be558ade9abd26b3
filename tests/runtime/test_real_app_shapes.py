"""Real launches of app shapes met in real backends (issue 66): each builds and starts a
fixture app of that shape on a real service, where a rule's unit test alone cannot
show that the app then serves."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import trio

from preview.apps.configvars.readmeenv import README_EXAMPLE

from ..apps.test_configvars import README
from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, called, launched, messages

_DROPS_WHAT_NONE_MADE = """revision = "0001"
down_revision = None

from alembic import op


def upgrade():  # (in SQL: not an operation on a table apps.alembicheads reads)
    op.execute("DROP TABLE parent")
"""


_NOTHING = 'revision = "0001"\ndown_revision = None\n\n\ndef upgrade():\n    """-"""\n    pass\n'


SERVER = """const http = require("http");
http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({
    secret: process.env.JWT_SECRET || null,
    connect: (process.env.SEQUELIZE_CONNECT || "").split("://")[0],
  }));
}).listen(Number(process.env.PORT));
"""


async def test_a_spelt_out_dot_env_template_and_an_any_http_url(builder_service: Service) -> None:
    """Arjun-Go's FastAPI-PgStarterKit: its example is ``dot-env-template``, unread, and
    its Settings' ``SERVER_HOST: AnyHttpUrl`` was given nothing: "the variable SERVER_HOST
    is needed"."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_dot_env_template"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer == {"server_host": "http://localhost/", "greeting": "from the template"}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_setup_py_projects_pins_are_installed(builder_service: Service) -> None:
    """lafrech's flask-smorest-sqlalchemy-example pins flask-smorest <0.19 in setup.py
    alone; read by its imports, the newest was installed and every route failed at import."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("flask_setup_py_pins"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer["flask"].startswith("2.2.")
        assert (await service.stop(body["gid"])).status_code == 200


async def test_an_app_importing_from_its_sources_root_runs(builder_service: Service) -> None:
    """brithely's todo-python-litestar-api: ``src/users/adapters/orm.py`` imports
    ``from databases import ModelBase`` (src/databases.py), run from the root (its Alembic
    env.py, ``uvicorn src.app:app``): "No module named 'databases'"."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_src_sources_root"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/todos")).json()
        assert answer == {"from": "src/databases.py"}
        assert (await service.stop(body["gid"])).status_code == 200


@pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)
async def test_a_ts_node_app_importing_mapped_paths_runs(builder_service: Service) -> None:
    """beerjoa's express-sequelize-ts: "Cannot find module '@/app'" under ts-node."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT * 2):  # typescript, ts-node, tsconfig-paths from npm
        body = await launched(service, app_files("ts_node_tsconfig_paths"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"imported": "@/app"}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_failed_migrations_of_an_app_making_its_tables_start_it(
    builder_service: Service,
) -> None:
    service = builder_service
    files = app_files("alembic_no_revision")
    files["main.py"] += "\nmetadata.create_all(engine)\n"  # at import, as Chirag's main.py
    files["migrations/versions/0001_drop.py"] = _DROPS_WHAT_NONE_MADE
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        # (its env.py names its models: their tables are made in the history's place)
        said = messages(await service.history(body["gid"]))
        assert any("its history does not upgrade" in m for m in said), said[-5:]
        assert (await service.app_get(body, "/items")).json() == []
        assert (await service.stop(body["gid"])).status_code == 200
        # An env.py naming no models: the app's own create_all() is what makes them.
        files["migrations/env.py"] = files["migrations/env.py"].replace(
            "target_metadata=metadata", "target_metadata=None"
        )
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await service.history(body["gid"]), "system")
        assert any("it makes its tables itself (create_all)" in m for m in said), said[-5:]
        assert (await service.stop(body["gid"])).status_code == 200
        # Without create_all the failure stands: the app would have no tables.
        del files["main.py"]
        files["main.py"] = app_files("alembic_no_revision")["main.py"]
        body = await launched(service, files)
        assert body["status"] == "failed"
        assert "setup step failed" in body["errorMessage"], body["errorMessage"]
        # rropppe's Flask-weather-app: an alembic.ini quoting its URL, revisions that do
        # nothing (its tables in a committed SQLite file): started anyway.
        files["migrations/versions/0001_drop.py"] = _NOTHING
        files["migrations/env.py"] = "raise SystemExit('its URL quoted: cannot be parsed')\n"
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await service.history(body["gid"]), "system")
        assert any("their every upgrade() does nothing" in m for m in said), said[-5:]
        assert (await service.stop(body["gid"])).status_code == 200


async def test_the_readme_example_configures_a_launch(builder_service: Service) -> None:
    """The same README's example, launched: the app gets its secret and URL from it."""
    service = builder_service
    files = {
        "README.md": README,
        "package.json": json.dumps({"name": "roles", "scripts": {"start": "node server.js"}}),
        "server.js": SERVER,
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer["secret"] == "api_secret_key" and answer["connect"] == "postgres"
        said = messages(await service.history(body["gid"]), "system")
        assert any(m.startswith(f"no .env: using {README_EXAMPLE}") for m in said), said
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_flask_migrate_registered_on_an_imported_app_is_upgraded(
    builder_service: Service,
) -> None:
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, app_files("flask_migrate_imported_app"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await called(builder_service, body, "/posts")
        assert answer["data"] == ["migrated"]
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_a_django_project_logging_to_a_folder_the_upload_lacks_starts(
    builder_service: Service,
) -> None:
    """cemre-2187's django-rest-framework-boilerplate: its ``LOGGING`` writes errors to
    ``os.path.join(BASE_DIR, 'logs/django_error.log')``, whose folder its .gitignore'd
    log files took with them; ``migrate`` died on "Unable to configure handler
    'error_file'". The file is written empty before it runs, its folder with it."""
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, app_files("django_logging_folder"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await called(builder_service, body, "/api/notes/")
        assert answer["statusCode"] == 200
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_an_app_writing_into_folders_its_repository_lacks_starts(
    builder_service: Service,
) -> None:
    """MyOpenPantry's flask-backend logs to ``logs/<day>.log`` (its .gitignore: ``logs/*``),
    mrshabel's fastapi-starter migrates ``sqlite+aiosqlite:///data/app.db`` (its
    .env.example), images make ``RUN mkdir -p /app/uploads``: "FileNotFoundError",
    "unable to open database file". The folders its checkout and its image had are made
    empty before its set-up steps."""
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, app_files("fastapi_run_folders"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await called(builder_service, body, "/items")
        assert answer["data"] == ["migrated into data/app.db"]
        system = messages(await builder_service.history(body["gid"]), "system")
        assert any("no folder uploads/avatars" in line for line in system), system
        assert any("no folder static" in line for line in system), system
        assert (await builder_service.stop(body["gid"])).status_code == 200


_SUBCLASS = "from flask import Flask\n\n\nclass FlaskWithContainer(Flask):\n    container = 'di'\n"
_FACTORY = """import os
import sys

sys.path.insert(1, os.path.dirname(os.path.realpath(__file__)))

from core.flask import FlaskWithContainer  # noqa: E402


def create_app() -> FlaskWithContainer:
    app = FlaskWithContainer(__name__)
    app.add_url_rule("/", view_func=lambda: {"container": app.container})
    return app


APP = create_app()
"""


async def test_an_app_of_a_subclass_imported_from_another_module_runs(
    builder_service: Service,
) -> None:
    """ganggas95's flask-api-solid-boilerplate: ``class FlaskWithContainer(Flask)`` in
    src/core/flask.py, made by src/factory.py's create_app() (``from core.flask import
    FlaskWithContainer``): the import's name hid the subclass, and nothing was found to
    run ("launch refused 400: nothing_to_run")."""
    files = {
        "app.py": "import os\nimport sys\n\nsys.path.insert(1, os.path.join("
        "os.path.dirname(os.path.realpath(__file__)), 'src'))\n\n"
        "from factory import APP as app  # noqa: E402,F401\n",
        "src/core/__init__.py": "",
        "src/core/flask.py": _SUBCLASS,
        "src/factory.py": _FACTORY,
        "requirements.txt": "flask>=2.3\n",
    }
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"container": "di"}
        assert (await service.stop(body["gid"])).status_code == 200
