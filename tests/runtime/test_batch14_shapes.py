"""Shapes of the fourteenth batch of real apps: a dev script's ``NAME=*`` assignment run
by a real shell, a dependency npm refuses the name of, an example .env whose dot is spelt
out beside a required ``AnyHttpUrl``, and a setuptools project's ``install_requires``.
Real shells, real builds, real previews."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import trio

from preview.apps.configvars import example_env_file, required_types
from preview.apps.depspec import python_dependencies
from preview.apps.imports import source_roots
from preview.apps.node.devscript import without_watcher
from preview.apps.node.nodedeps import node_dependencies
from preview.builds.configdefaults import throwaway_value

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched

PROCESS_WAIT = 10


async def test_a_dev_scripts_assignment_of_a_glob_stays_an_assignment(tmp_path: Path) -> None:
    """mkosir's typeorm-express-typescript: ``debug=* NODE_PATH=./src ts-node-dev …`` was
    written back as ``'debug=*' …``, which sh runs as a command: "debug=*: not found"."""
    script = "debug=* NODE_PATH=./src ts-node-dev --respawn ./src/index.ts"
    rewritten = without_watcher(script, runner="ts-node")
    runner = tmp_path / "ts-node"  # stands in for the runner: says what it was given
    runner.write_text('#!/bin/sh\nprintf "%s|%s|%s" "$debug" "$NODE_PATH" "$*"\n')
    runner.chmod(runner.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "debug=x").touch()  # a file a glob of the quoted whole would match
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    with trio.fail_after(PROCESS_WAIT):
        done = await trio.run_process(
            ["sh", "-c", rewritten], cwd=tmp_path, env=env, capture_stdout=True, check=False
        )
    assert done.returncode == 0, rewritten
    assert done.stdout.decode() == "*|./src|--transpile-only ./src/index.ts"


def test_a_dependency_npm_refuses_the_name_of_is_left_out_of_both_files() -> None:
    """fcbento's fastify app: ``npm i - D`` wrote ``"-": "^0.0.1"``; npm 10.9+ refused it
    ("name cannot start with a hyphen") before installing anything."""
    package = {"dependencies": {"-": "^0.0.1", "D": "^1.0.0", "fastify": "^5.1.0"}}
    lock = {
        "lockfileVersion": 3,
        "packages": {
            "": {"dependencies": dict(package["dependencies"])},
            "node_modules/-": {"version": "0.0.1"},
            "node_modules/D": {"version": "1.0.0"},
            "node_modules/fastify": {"version": "5.1.0"},
        },
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "package-lock.json": json.dumps(lock).encode(),
    }
    deps = node_dependencies(files)
    assert deps is not None and deps.lockfile is not None
    kept = json.loads(deps.package_json)["dependencies"]
    assert kept == {"D": "^1.0.0", "fastify": "^5.1.0"}  # capitals: npm only warns
    locked = json.loads(deps.lockfile[1])["packages"]
    assert locked[""]["dependencies"] == kept  # npm ci: still in step with package.json
    assert "node_modules/-" not in locked and "node_modules/D" in locked
    assert deps.note == 'package.json: left out "-", a dependency npm refuses the name of'
    plain = {"package.json": json.dumps({"dependencies": {"fastify": "^5"}}).encode()}
    assert node_dependencies(plain).package_json == plain["package.json"]  # untouched


def test_example_env_names_and_url_typed_settings() -> None:
    for name in ("dot-env-template", "dotenv.example", "example.env", "sample.env"):
        assert example_env_file({"main.py": b"", name: b"A=1\n"}, "main.py") == name
    for name in ("env.py", "test.env", "env.template.yaml", "dotenv.py"):
        assert example_env_file({"main.py": b"", name: b""}, "main.py") is None, name
    files = {p: t.encode() for p, t in app_files("fastapi_dot_env_template").items()}
    assert required_types(files)["SERVER_HOST"] == "AnyHttpUrl"
    assert throwaway_value("SERVER_HOST", "AnyHttpUrl") == "http://localhost"
    assert throwaway_value("CALLBACK", "HttpUrl") == "http://localhost"
    assert throwaway_value("SERVER_HOST") is None  # untyped: not known to be a URL


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


def test_setup_py_install_requires_is_the_dependency_file() -> None:
    files = {p: t.encode() for p, t in app_files("flask_setup_py_pins").items()}
    deps = python_dependencies(files, "teams/__init__.py")
    assert deps.source == "setup.py"
    assert deps.requirements == ("flask>=2.2,<2.3", "werkzeug<2.4")
    cfg = b"[options]\ninstall_requires =\n    flask<3  # web\n    sqlalchemy\n"
    deps = python_dependencies(
        {"setup.cfg": cfg, "x/__init__.py": b"import flask\n"}, "x/__init__.py"
    )
    assert (deps.source, deps.requirements) == ("setup.cfg", ("flask<3", "sqlalchemy"))
    # one that builds its list by running code is left to the imports
    computed = {
        "setup.py": b"import setuptools\nsetuptools.setup(install_requires=open('r').readlines())\n"
    }
    assert python_dependencies({**computed, "app.py": b"import flask\n"}, "app.py").source == ""


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


def test_a_folder_imported_from_within_is_a_sources_root() -> None:
    files = {p: t.encode() for p, t in app_files("fastapi_src_sources_root").items()}
    assert source_roots(files, set()) == ["src"]
    # Django's proj/celery.py imports the installed celery: proj/ on the path would
    # shadow it; a name the root has too says nothing either.
    django = {
        "manage.py": b"",
        "proj/__init__.py": b"from .celery import app\n",
        "proj/celery.py": b"from celery import Celery\napp = Celery('proj')\n",
        "proj/settings.py": b"import utils\n",
        "proj/utils.py": b"",
        "utils.py": b"",
    }
    assert source_roots(django, {"celery", "django"}) == []


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
