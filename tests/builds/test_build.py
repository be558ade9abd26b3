"""Apps launched as uploaded: detected, their dependencies built by uv (or npm) from the real
package index, cached and shared; builds stream as events; failures say why.

The environments are kept in one directory for the whole session (``env_dir``), so each
dependency set is built once however many tests launch it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import pytest
import trio

from preview import Settings
from preview.apps.depspec import PythonDeps
from preview.builds import envcache
from preview.builds.build import EnvBuilder

from ..conftest import SERVER_COMMAND, Service, auth, running_service, server_app
from ..launching import BUILD_WAIT, app_files, launched, messages
from ..sandbox.test_sandbox import require_sandbox


def _children_names() -> list[str]:
    """The names of this process's descendants still there when read."""
    names = []
    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):  # one that ended meanwhile
            names.append(process.name())
    return names


async def test_fastapi_factory_under_src_is_built_and_runs(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_factory"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        runtime = body["runtime"]
        assert runtime["framework"] == "fastapi"
        assert runtime["detectedFrom"] == "src/shop/main.py"
        assert "shop.main:create_app --factory --app-dir src" in runtime["command"]
        assert "--root-path" not in runtime["command"]
        assert runtime["python"].startswith("3.")
        answer = await service.app_get(body, "/api/v1/items/2")
        assert answer.json() == {"id": 2, "name": "pear"}
        # Not the service's interpreter: the preview's own environment.
        own = (await service.app_get(body, "/")).json()["python"]
        assert own != sys.executable and own.startswith(service.settings.env_dir)
        # Its OpenAPI document is where its factory put it (openapi_url).
        found = await service.client.get(
            f"/api/generations/{body['gid']}/endpoints", headers=auth()
        )
        assert found.json()["discoveredFrom"] == "openapi"
        assert "/api/v1/items/{item_id}" in [e["path"] for e in found.json()["endpoints"]]
        events = await service.history(body["gid"])
        system = messages(events, "system")
        detected = [m for m in system if m.startswith("detected fastapi from src/shop/main.py")]
        assert detected and "{python}" not in detected[0] and "python -m uvicorn" in detected[0]
        assert any(m.startswith("installing dependencies") for m in system) or any(
            m.startswith("environment ready") for m in system
        )
        assert (await service.stop(body["gid"])).status_code == 200

        # The same set again: no new build, the environment is reused.
        runs = (await service.supervisor.env_builder()).cache.builds_run
        again = await launched(service, app_files("fastapi_factory"))
        assert again["status"] == "running"
        assert (await service.supervisor.env_builder()).cache.builds_run == runs
        assert any("reused" in m for m in messages(await service.history(again["gid"])))
        assert (await service.stop(again["gid"])).status_code == 200


async def test_an_app_with_a_syntax_error_is_started_and_python_says_where(
    builder_service: Service,
) -> None:
    """A model's code with a syntax error is still its app: it is built and started, and
    the launch fails with Python's own SyntaxError, its file and line (not "found no way
    to start this app", which sent the user looking for a missing entry point)."""
    service = builder_service
    main = (
        "from fastapi import FastAPI\n\napp = FastAPI(\n    title='shop'\n\n\n"
        "@app.get('/')\ndef index():\n    return {'ok': True}\n"
    )
    with trio.fail_after(BUILD_WAIT):
        files = {"requirements.txt": "fastapi>=0.110\n", "app/main.py": main}
        body = await launched(service, files)
        assert body["status"] == "failed"
        assert body["runtime"]["detectedFrom"] == "app/main.py"
        assert "main:app" in body["runtime"]["command"]
        assert body["errorMessage"].endswith("(app/main.py, line 3)"), body["errorMessage"]
        assert "SyntaxError" in body["errorMessage"]
        shown = "\n".join([body["errorMessage"], *body["errorLines"]])
        assert 'app/main.py", line 3' in shown and service.settings.env_dir not in shown
        assert service.supervisor.ports.in_use == frozenset()


async def test_build_output_streams_as_build_events_with_progress(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        # A set no other test uses, so this launch builds it.
        files = {**app_files("fastapi_factory"), "requirements.txt": "fastapi>=0.110\nsix\n"}
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        events = await service.history(body["gid"])
        build = messages(events, "build")
        assert any(m.startswith("progress: ") and "installed" in m for m in build), build
        assert any("Installed" in m for m in build)
        ids = [e["id"] for e in events]
        assert ids == list(range(1, len(ids) + 1))
        # (the owner's "alice launched the preview", said as the launch is answered, may
        # land anywhere among the launch's own lines)
        system = [m for m in messages(events, "system") if not m.endswith(" launched the preview")]
        # No silent gap before the build's first line: what it does first is said.
        reading = system.index("reading its dependencies and choosing a Python for them")
        installing = next(
            i for i, m in enumerate(system) if m.startswith("installing dependencies (Python 3.")
        )
        assert system[reading - 1].startswith("detected ") and reading < installing, system
        assert any(m.startswith("environment built in ") for m in system)
        assert (await service.stop(body["gid"])).status_code == 200


async def test_failed_build_fails_the_launch_with_the_installers_reason(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        # (imported: a listed name the index lacks that nothing imports would be left out)
        main = "import stripe_payments_sdk_does_not_exist\nfrom fastapi import FastAPI\n"
        files = {"main.py": main + "app = FastAPI()\n"}
        files["requirements.txt"] = "stripe-payments-sdk-does-not-exist==1.2.3\n"
        gid = await service.upload(files)
        response = await service.launch(gid)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "failed"
        assert "No solution found" in body["errorMessage"]
        assert "stripe-payments-sdk-does-not-exist" in body["errorMessage"]
        assert any("stripe-payments-sdk-does-not-exist" in line for line in body["errorLines"])
        assert service.supervisor.ports.in_use == frozenset()
        # Nothing half-built is left to be mistaken for a ready environment.
        env_dir = Path(service.settings.env_dir)
        built = await trio.to_thread.run_sync(lambda: list(env_dir.glob("py-*")))
        unfinished = [p for p in built if not (p / "preview-env.json").exists()]
        assert unfinished == []


async def test_two_launches_of_one_set_share_one_build(builder_service: Service) -> None:
    service = builder_service
    files = {
        "main.py": "from starlette.applications import Starlette\napp = Starlette()\n",
        "requirements.txt": "starlette>=0.37\nidna\n",  # a set only this test uses
    }
    with trio.fail_after(BUILD_WAIT):
        runs = (await service.supervisor.env_builder()).cache.builds_run
        gids = [await service.upload(files), await service.upload(files)]
        results: list[dict[str, Any]] = []

        async def launch(gid: str) -> None:
            response = await service.launch(gid, tier="pro")
            results.append(response.json())

        async with trio.open_nursery() as nursery:
            for gid in gids:
                nursery.start_soon(launch, gid)
        assert [r["status"] for r in results] == ["running", "running"], results
        assert (await service.supervisor.env_builder()).cache.builds_run == runs + 1
        waited = [messages(await service.history(gid)) for gid in gids]
        assert sum(any("waiting for the same environment" in m for m in w) for w in waited) == 1
        for gid in gids:
            assert (await service.stop(gid)).status_code == 200


async def test_missing_python_version_names_what_was_asked_and_what_exists(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(60):
        files = {"server.py": "print('never')\n", ".python-version": "3.99\n"}
        gid = await service.upload(files)
        body = (await service.launch(gid, command=["{python}", "server.py"])).json()
        assert body["status"] == "failed"
        assert "'3.99'" in body["errorMessage"] and ".python-version" in body["errorMessage"]
        assert "present: 3." in body["errorMessage"]


async def test_flask_factory_runs_under_gunicorn(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("flask_factory"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["framework"] == "flask"
        assert "gunicorn" in body["runtime"]["command"]
        assert "notes:create_app()" in body["runtime"]["command"]
        answer = (await service.app_get(body, "/notes/7")).json()
        assert answer == {"id": 7}
        listing = await service.client.get(
            f"/api/generations/{body['gid']}/endpoints", headers=auth()
        )  # its Map's rules, from the running app (apps.routes), its source's details kept
        assert listing.json()["discoveredFrom"] == "app"
        by_route = {(e["method"], e["path"]): e for e in listing.json()["endpoints"]}
        assert set(by_route) == {("GET", "/"), ("GET", "/notes/{note_id}")}
        assert by_route[("GET", "/notes/{note_id}")]["requestSchema"]["path"] == {
            "note_id": "integer"
        }
        assert (await service.stop(body["gid"])).status_code == 200


STREAMING_FLASK = {
    "app.py": "import time\n\nfrom flask import Flask, Response\n\napp = Flask(__name__)\n\n\n"
    "@app.get('/stream')\ndef stream():\n    def events():\n        while True:\n"
    "            yield 'data: tick\\n\\n'\n            time.sleep(0.2)\n\n"
    "    return Response(events(), mimetype='text/event-stream')\n\n\n"
    "@app.get('/ping')\ndef ping():\n    return {'pong': True}\n",
    "requirements.txt": "flask>=3\n",
}


async def test_a_wsgi_app_answers_beside_a_stream_that_never_ends(
    builder_service: Service,
) -> None:
    """flask-kanban-kiranprasath-26's /stream (flask-sse) never ends: under one sync gunicorn
    worker it held every other call until they timed out. Its requests are served in
    threads, as Flask's own server serves them."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, STREAMING_FLASK)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert "--threads" in body["runtime"]["command"]
        stream = await service.open_app_stream(body)
        async with stream:
            await stream.send_all(b"GET /stream HTTP/1.1\r\nHost: app\r\n\r\n")
            received = b""
            while b"data: tick" not in received:
                received += await stream.receive_some(4096)
            with trio.fail_after(20):  # one worker without threads never answers it
                answer = await service.app_get(body, "/ping")
            assert answer.json() == {"pong": True}
        assert (await service.stop(body["gid"])).status_code == 200


WSGI_APPS = {
    "bottle": {
        "app.py": "import bottle\napp = bottle.Bottle()\n\n\n@app.get('/hello/<name>')\n"
        "def hello(name):\n    return {'hello': name}\n",
        "requirements.txt": "bottle>=0.12\n",
    },
    "falcon": {
        "app.py": "import falcon\n\n\nclass Hello:\n    def on_get(self, req, resp, name):\n"
        "        resp.media = {'hello': name}\n\n\napp = falcon.App()\n"
        "app.add_route('/hello/{name}', Hello())\n",
        "requirements.txt": "falcon>=3\n",
    },
}


@pytest.mark.parametrize("framework", sorted(WSGI_APPS))
async def test_other_wsgi_frameworks_are_built_and_served(
    builder_service: Service, framework: str
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, WSGI_APPS[framework])
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["framework"] == framework
        assert "gunicorn" in body["runtime"]["command"]
        assert (await service.app_get(body, "/hello/ada")).json() == {"hello": "ada"}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_gunicorn_pinned_before_its_main_module_serves_the_app(
    builder_service: Service,
) -> None:
    """flask-bones pins gunicorn==20.0.4, which has no ``gunicorn/__main__.py`` (20.1 added
    it): ``python -m gunicorn`` exited "No module named gunicorn.__main__"."""
    service = builder_service
    files = {
        "app.py": "from flask import Flask\napp = Flask(__name__)\n\n\n@app.get('/hi')\n"
        "def hi():\n    return {'hi': 'there'}\n",
        "requirements.txt": "flask==2.3.3\ngunicorn==20.0.4\nsetuptools<81\n",
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/hi")).json() == {"hi": "there"}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_pip_freeze_is_judged_by_its_own_lines_not_the_builds_additions(
    builder_service: Service,
) -> None:
    """A freeze (every line ``==``) with a pin of a name the index lacks that nothing imports
    (a machine's apt packages, in haoolii's flask-blog-api) is built without it. The
    setuptools<81 the build adds where an app names none is no line of the app's: counted as
    one, the list was no freeze and the launch failed on that name."""
    service = builder_service
    freeze = (
        "blinker==1.8.2\nclick==8.1.7\nflask==3.0.3\nitsdangerous==2.2.0\njinja2==3.1.4\n"
        "markupsafe==2.1.5\nwerkzeug==3.0.3\ngunicorn==22.0.0\npackaging==24.1\n"
        "six==1.16.0\nno-such-distribution-of-an-apt-package==1.0.6\n"
    )
    files = {
        "app.py": "from flask import Flask\napp = Flask(__name__)\n\n\n@app.get('/hi')\n"
        "def hi():\n    return {'hi': 'there'}\n",
        "requirements.txt": freeze,
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/hi")).json() == {"hi": "there"}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_flask_server_name_defaulting_to_another_host_is_the_called_one(
    builder_service: Service,
) -> None:
    """flask-bones: ``SERVER_NAME = os.environ.get('SERVER_NAME', 'app.docker:5000')``,
    its compose network's host: Flask before 3.1 answered 404 to every call."""
    service = builder_service
    files = {
        "config.py": "import os\n\n\nclass Config:\n"
        "    SERVER_NAME = os.environ.get('SERVER_NAME', 'app.docker:5000')\n",
        "app.py": "from flask import Flask\n\nfrom config import Config\n\n"
        "app = Flask(__name__)\napp.config.from_object(Config)\n\n\n"
        "@app.get('/hi')\ndef hi():\n    return {'hi': 'there'}\n",
        "requirements.txt": "flask==2.3.3\ngunicorn\n",
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/hi")).json() == {"hi": "there"}
        assert (await service.stop(body["gid"])).status_code == 200
        # dev-rijan's flask-api-stater: its author's host in the .env.example the
        # preview's configuration is filled from (every route 404 with it).
        example = {
            **files,
            "config.py": files["config.py"].replace(", 'app.docker:5000'", ""),
            ".env.example": "SERVER_NAME='localhost:8000'\n",
        }
        body = await launched(service, example)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/hi")).json() == {"hi": "there"}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_src_package_importing_itself_by_name_is_served_from_src(
    builder_service: Service,
) -> None:
    """SeaRoll's book API: ``src/__init__.py`` beside ``src/api/app.py``, which does ``from
    api import schema`` (its Dockerfile's ``pip install -e .`` puts src/ on the path):
    served as ``src.api.app``, it failed "No module named 'api'"."""
    service = builder_service
    files = {
        "pyproject.toml": '[project]\nname = "books"\nversion = "1"\n'
        'dependencies = ["fastapi", "uvicorn"]\n',
        "src/__init__.py": "",
        "src/api/__init__.py": "",
        "src/api/schema.py": "BOOKS = ['dune']\n",
        "src/api/app.py": "from fastapi import FastAPI\n\nfrom api import schema\n\n"
        "app = FastAPI()\n\n\n@app.get('/books')\ndef books():\n    return schema.BOOKS\n",
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert "api.app:app --app-dir src" in body["runtime"]["command"]
        assert (await service.app_get(body, "/books")).json() == ["dune"]
        assert (await service.stop(body["gid"])).status_code == 200


async def test_an_app_run_in_its_images_folder_serves_that_folders_files(
    builder_service: Service,
) -> None:
    """bantosJerry's Dockerized FastAPI CRUD app: its image runs ``app/`` (flat imports,
    ``StaticFiles(directory="static")``, its home page read from ``os.getcwd()``); run
    from the upload's root, its home page answered 500."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_runs_in_its_folder"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["command"].startswith("sh -c")
        home = await service.app_get(body, "/")
        assert home.status_code == 200 and "Items home" in home.text, home.text
        assert (await service.app_get(body, "/static/home.html")).status_code == 200
        assert (await service.app_get(body, "/health")).json() == {"ok": True}
        assert (await service.stop(body["gid"])).status_code == 200


SANIC_APP = {
    "shop/__init__.py": "",
    "shop/app.py": "from sanic import Sanic, json\n\n\nclass App(Sanic):\n    pass\n\n\n"
    "def create() -> App:\n    app = App('shop')\n\n    @app.before_server_start\n"
    "    async def started(app, *_):\n        app.ctx.started = True\n\n"
    "    @app.get('/items')\n    async def items(request):\n"
    "        return json({'items': ['apple'], 'started': request.app.ctx.started})\n\n"
    "    return app\n",
    # A script's module (python -m shop) is not the app to import: it runs the server.
    "shop/__main__.py": "from shop.app import create\n\nserver = create()\n"
    "server.run(host='0.0.0.0', port=8000)\n",
    "requirements.txt": "sanic\n",
}


async def test_a_sanic_app_from_its_factory_is_served_with_its_listeners(
    builder_service: Service,
) -> None:
    """prryplatypus's sanic-template: a factory ``create()`` making a subclass of Sanic
    (README: ``sanic sanic_template.app.create --factory``), and a ``__main__.py`` running
    it on port 8000: nothing_to_run before."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, SANIC_APP)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["framework"] == "sanic"
        assert "shop.app:create --factory" in body["runtime"]["command"]
        answer = await service.app_get(body, "/items")
        assert answer.json() == {"items": ["apple"], "started": True}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_django_apps_without_their_migrations_get_them_made_first(
    builder_service: Service,
) -> None:
    """django-tdd-docker's shape: its apps' migrations/ never committed, its custom user
    model among them, on which admin's own migrations depend: ``makemigrations`` for those
    apps runs before ``migrate``, and their tables are there when it serves."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("django_no_migrations"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/books/")).json() == {"books": ["first"]}
        said = messages(await service.history(body["gid"]), "system")
        assert "setup: python manage.py makemigrations accounts catalog --noinput" in said, said
        assert (await service.stop(body["gid"])).status_code == 200


async def test_django_project_is_migrated_then_served(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("django_project"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["framework"] == "django"
        created = await service.app_request(body, "POST", "/api/notes/", json={"text": "hi"})
        assert created.status_code == 201, created.text
        listed = (await service.app_get(body, "/api/notes/")).json()
        assert listed == [{"id": 1, "text": "hi"}]
        # Discovery lists the DRF routes as they really resolve: the router's API root,
        # the @action routes (url_path, detail), the included auth URLs.
        found = await service.client.get(
            f"/api/generations/{body['gid']}/endpoints", headers=auth()
        )
        routes = {(e["method"], e["path"]) for e in found.json()["endpoints"]}
        assert {
            ("GET", "/api/"),
            ("GET", "/api/notes/recent/"),
            ("POST", "/api/notes/{pk}/shout/"),
            ("POST", "/api-auth/login/"),
        } <= routes
        # From the running app's own resolver (apps.routes): no format suffixes twice.
        assert found.json()["discoveredFrom"] == "app"
        assert ("GET", "/api/notes/{pk}/") in routes and ("DELETE", "/api/notes/{pk}/") in routes
        assert not any("format" in path for _, path in routes), routes
        root = await service.app_get(body, "/api/")
        assert root.status_code == 200 and "notes" in root.json()
        recent = await service.app_get(body, "/api/notes/recent/")
        assert recent.json() == {"id": 1, "text": "hi"}
        shout = await service.app_request(body, "POST", "/api/notes/1/shout/")
        assert shout.json() == {"id": 1, "text": "HI"}
        events = await service.history(body["gid"])
        assert any(m.startswith("setup: ") and "migrate" in m for m in messages(events))
        assert any("Applying notes.0001_initial" in m for m in messages(events, "setup"))
        assert (await service.stop(body["gid"])).status_code == 200


async def test_failed_setup_step_fails_the_launch_with_its_message(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(60):
        files = {"server.py": "print('never')\n"}
        gid = await service.upload(files)
        setup = ["{python}", "-c", "import sys; sys.exit('no database reachable')"]
        body = (await service.launch(gid, command=["{python}", "server.py"], setup=setup)).json()
        assert body["status"] == "failed"
        assert "setup step failed (exited with code 1)" in body["errorMessage"]
        assert "no database reachable" in body["errorMessage"]


async def test_nested_layout_migrates_where_alembic_ini_is(builder_service: Service) -> None:
    """The FastAPI full-stack template's shape: alembic runs in backend/ (its ini's
    script_location and imports are relative to it), the root's .env reaches the app,
    the set-up output is its own phase between the build and the start, and the status
    read from the stored row still says how the app was started."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fullstack_nested"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["detectedFrom"] == "backend/app/main.py"
        answer = (await service.app_get(body, "/api/v1/items/")).json()
        assert answer == {
            "project": "Shop",
            "greeting": "hello from the root .env",
            "items": ["apple"],  # the migration's row: alembic ran, on the app's database
        }
        events = await service.history(body["gid"])
        text = [(e["source"], e["message"]) for e in events]
        setup_at = next(
            i
            for i, (s, m) in enumerate(text)
            if s == "system" and "# alembic upgrade heads" in m and m.endswith(" (in backend/)")
        )
        migrated = [i for i, (s, m) in enumerate(text) if s == "setup" and "Running upgrade" in m]
        started = next(i for i, (s, m) in enumerate(text) if m.startswith("process started"))
        building = [i for i, (s, m) in enumerate(text) if s == "build"] or [
            i for i, (s, m) in enumerate(text) if m.startswith("environment ready")
        ]
        assert max(building) < setup_at < migrated[0] < started, text
        assert not [m for s, m in text if s == "build" and "Running upgrade" in m]
        # Only the setup lines, when asked for.
        only = await service.history(body["gid"], source="setup")
        assert only and {e["source"] for e in only} == {"setup"}
        assert (await service.stop(body["gid"])).status_code == 200
        ended = await service.status(body["gid"])
        assert ended["status"] == "stopped"
        assert ended["runtime"]["framework"] == "fastapi"
        assert ended["runtime"]["detectedFrom"] == "backend/app/main.py"
        assert ended["runtime"]["python"] == body["runtime"]["python"]
        assert ended["runtime"]["command"] == body["runtime"]["command"]


async def test_status_phases_say_where_the_time_went_and_what_a_cache_served(
    builder_service: Service,
) -> None:
    """The phase is ``build`` while its set-up step runs; the status's ``phases`` give
    each phase's seconds in order, and a relaunch's install is ``cached`` (its
    environment reused), its step, which no cache keeps, not."""
    service = builder_service
    with trio.fail_after(120):
        gid = await service.upload(server_app())
        setup = ["{python}", "-c", "import time; print('seeding', flush=True); time.sleep(2)"]
        response = await service.launch(gid, command=SERVER_COMMAND, setup=setup, wait=False)
        assert response.status_code == 200, response.text
        phases = [response.json()["phase"]]
        status = response.json()["status"]
        while status == "starting":
            current = await service.status(gid)
            status = current["status"]
            if current["phase"] != phases[-1]:
                phases.append(current["phase"])
            await trio.sleep(0.05)
        assert status == "running"
        # In order, never back: whatever the polls missed of the fast ones.
        order = ["preparing", "installing dependencies", "build", "starting", "running"]
        assert "build" in phases and phases == sorted(phases, key=order.index), phases
        # Where the launch's time went: each phase before running, with its seconds (the
        # set-up step sleeps 2 s), none open once it runs.
        timed = (await service.status(gid))["phases"]
        names = [t["phase"] for t in timed]
        assert names[0] == "preparing" and "build" in names and "running" not in names
        before = ["preparing", "installing dependencies", "build", "waiting to start", "starting"]
        assert names == sorted(names, key=before.index), timed
        assert all(t["seconds"] >= 0 and "current" not in t for t in timed), timed
        assert next(t["seconds"] for t in timed if t["phase"] == "build") >= 2, timed
        events = await service.history(gid)
        seeding = [e for e in events if e["message"] == "seeding"]
        assert [e["source"] for e in seeding] == ["setup"]
        assert (await service.stop(gid)).status_code == 200
        again = await service.launch(gid, command=SERVER_COMMAND, setup=setup)
        assert again.json()["status"] == "running", again.text
        relaunched = {t["phase"]: t for t in (await service.status(gid))["phases"]}
        assert (await service.stop(gid)).status_code == 200
    assert relaunched["installing dependencies"].get("cached") is True, relaunched
    assert "cached" not in relaunched["build"], relaunched


# CI (.ci/run) installs npm and sets PREVIEW_TEST_REQUIRE_NPM: there a missing npm fails
# the test instead of skipping it silently.
@pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)
async def test_express_app_installed_by_npm_ci(builder_service: Service) -> None:
    service = builder_service
    assert shutil.which("npm") is not None, "npm is required here (PREVIEW_TEST_REQUIRE_NPM)"
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("express_app"))
        events = await service.history(body["gid"])
        # npm's summary ("added 3 packages in 1s") as a progress line, as uv's counts are.
        progress = [m for m in messages(events, "build") if m.startswith("progress: ")]
        assert progress and "added" in progress[-1], progress
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["framework"] == "node"
        assert body["runtime"]["python"] is None
        answer = (await service.app_get(body, "/users/5")).json()
        assert answer == {"id": "5"}
        assert any("(npm, package-lock.json)" in m for m in messages(events, "system"))
        listing = await service.client.get(
            f"/api/generations/{body['gid']}/endpoints", headers=auth()
        )  # Express 4's routes, from the running app's own table (apps.node.routetable)
        assert listing.json()["discoveredFrom"] == "app"
        found = {(e["method"], e["path"]) for e in listing.json()["endpoints"]}
        assert found == {("GET", "/"), ("GET", "/users/{id}")}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_dotenv_pyproject_and_python_version_are_honoured(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(
            service, app_files("dotenv_pyproject"), env={"OVERRIDDEN": "from-option", "PORT": "1"}
        )
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["python"].startswith("3.12")
        seen = (await service.app_get(body, "/")).json()
        assert seen["python"].startswith("3.12")
        assert seen["GREETING"] == "hello from .env"
        assert seen["DATABASE_URL"] == "sqlite:///./own.db"  # the app's own, not ours
        assert seen["OVERRIDDEN"] == "from-option"
        assert seen["PORT"] == str(body["port"])  # where it must listen stays ours
        assert (await service.stop(body["gid"])).status_code == 200


async def test_local_packages_named_by_requirements_import_from_the_upload(
    builder_service: Service,
) -> None:
    """A monorepo's libs (-e ./libs/common with a src layout, ./libs/greeting flat):
    their dependencies are built, and the app imports them from its upload."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("local_packages"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        seen = (await service.app_get(body, "/")).json()
        assert seen == {"common": "from libs/common/src", "greeting": "hello from libs/greeting"}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_offline_wheelhouse_build(build_settings: Settings, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary", ":all:"]
    await trio.to_thread.run_sync(
        lambda: subprocess.run(
            [*download, "--dest", str(wheels), "starlette>=0.37", "uvicorn"],
            check=True,
            timeout=180,
            capture_output=True,
        )
    )
    offline = replace(
        build_settings,
        package_index_url="none",
        find_links=str(wheels),
        env_dir=str(tmp_path / "envs"),
    )
    files = {
        "main.py": "from starlette.applications import Starlette\napp = Starlette()\n",
        "requirements.txt": "starlette>=0.37\n",
    }
    with trio.fail_after(BUILD_WAIT):
        async with running_service(offline) as service:
            body = await launched(service, files)
            assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
            assert (await service.stop(body["gid"])).status_code == 200
            # And a package the wheelhouse lacks is not fetched from anywhere.
            missing = {**files, "requirements.txt": "starlette>=0.37\nsix\n"}
            failed = await launched(service, missing)
            assert failed["status"] == "failed"
            assert "six" in failed["errorMessage"]


@pytest.mark.parametrize(
    ("listed_in", "hint"),
    [
        ("requirements.txt", "add 'PyYAML' to requirements.txt"),
        ("pyproject.toml", "add 'PyYAML' to pyproject.toml"),
    ],
)
async def test_missing_module_names_the_file_to_add_it_to(
    builder_service: Service, listed_in: str, hint: str
) -> None:
    service = builder_service
    files = app_files("fastapi_factory")
    files["src/shop/main.py"] = "import yaml  # not listed\n" + files["src/shop/main.py"]
    if listed_in == "pyproject.toml":
        del files["requirements.txt"]
        files["pyproject.toml"] = (
            '[project]\nname = "shop"\nversion = "1"\ndependencies = ["fastapi>=0.110"]\n'
        )
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        # The first start's cause is said with its hint, then the fix (remedies) runs it.
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await service.history(body["gid"]), "system")
        # uvicorn's import traceback is longer than the 40 lines once kept for the cause.
        cause = next(line for line in said if "No module named 'yaml'" in line)
        assert cause.endswith(hint)
        assert any(line.startswith("fix 1:") and "PyYAML" in line for line in said)


async def test_stop_during_a_build_kills_it_and_leaves_nothing(builder_service: Service) -> None:
    service = builder_service
    # An index that accepts connections and never answers: the build hangs in uv.
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    files = {
        "main.py": "from starlette.applications import Starlette\napp = Starlette()\n",
        "requirements.txt": "starlette\n",
    }
    # The operator's index (a mirror on this host is allowed: builds reach only it).
    object.__setattr__(service.settings, "package_index_url", f"http://127.0.0.1:{port}/simple")
    with trio.fail_after(60), listener:
        gid = await service.upload(files)
        response = await service.launch(gid, wait=False)
        assert response.json()["status"] == "starting"
        assert response.json()["phase"] in ("preparing", "installing dependencies")
        await listener.accept()  # uv is asking the index
        builder = await service.supervisor.env_builder()
        assert builder.cache._builds  # in progress
        stopped = await service.stop(gid)
        assert stopped.json()["status"] == "stopped"
        assert not builder.cache._builds
        children = await trio.to_thread.run_sync(_children_names)
        assert "uv" not in children
        status = await service.status(gid)
        assert status["status"] == "stopped" and status["errorMessage"] is None


class _BuildOutput:
    """What a build published and said, in order: a test's ``publish`` and ``say``."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    async def publish(self, batch: list[tuple[str, str]], stream: str) -> None:
        self.lines.extend(text for _, text in batch)

    async def say(self, message: str) -> None:
        self.lines.append(message)


def _requirements(*names: str) -> PythonDeps:
    return PythonDeps(names, "requirements.txt", None, None)


async def test_least_recently_used_environments_are_evicted_never_one_in_use(
    build_settings: Settings, tmp_path: Path
) -> None:
    output = _BuildOutput()
    publish, say, lines = output.publish, output.say, output.lines

    roomy = replace(build_settings, env_dir=str(tmp_path / "envs"), env_cache_mb=10_000)
    with trio.fail_after(BUILD_WAIT):
        builder = EnvBuilder(roomy)
        first, _ = await builder.python_env(_requirements("setuptools"), None, publish, say)
        second, _ = await builder.python_env(_requirements("setuptools", "six"), None, publish, say)
        first.release()
        second.release()
        assert await builder.cache.evict() == []

        tight = EnvBuilder(replace(roomy, env_cache_mb=1))  # smaller than either
        again, _ = await tight.python_env(_requirements("setuptools"), None, publish, say)
        assert "reused" in lines[-1]
        assert await tight.cache.evict() == [second.key]  # the other one: not in use
        assert await trio.to_thread.run_sync(again.path.exists)
        again.release()
        assert await tight.cache.evict() == [again.key]
        assert not await trio.to_thread.run_sync(again.path.exists)


async def test_a_new_environment_is_compiled_after_it_is_handed_over_running_none_of_it(
    build_settings: Settings, tmp_path: Path
) -> None:
    """The install compiles nothing (the first launch waits for no module it will not
    import); the worker then compiles the whole environment, reading no ``.pth`` file
    (one runs code at an interpreter's start)."""

    async def publish(batch: list[tuple[str, str]], stream: str) -> None:
        pass

    async def say(message: str) -> None:
        pass

    marker = tmp_path / "pth-ran"
    settings = replace(build_settings, env_dir=str(tmp_path / "envs"), env_cache_mb=10_000)
    deps = PythonDeps(("six",), "requirements.txt", None, None)
    with trio.fail_after(BUILD_WAIT):
        builder = EnvBuilder(settings)
        lease, _ = await builder.python_env(deps, None, publish, say)
        (site,) = await trio.to_thread.run_sync(list, lease.path.glob("lib/*/site-packages"))
        assert not await trio.to_thread.run_sync((site / "__pycache__").exists)
        pth = f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n"
        await trio.Path(site / "zz-runs-code.pth").write_text(pth)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(builder.bytecode.run)
            await builder.bytecode.idle.wait()
            nursery.cancel_scope.cancel()
        compiled = await trio.to_thread.run_sync(list, site.glob("__pycache__/six.*.pyc"))
        assert compiled and builder.bytecode.compiled == 1
        assert not await trio.to_thread.run_sync(marker.exists)
        lease.release()
        # A second launch of the set reuses it: nothing more to compile.
        again, _ = await builder.python_env(deps, None, publish, say)
        assert again.reused and builder.bytecode.idle.is_set()
        again.release()


async def test_a_first_start_on_an_uncompiled_environment_is_given_twice_the_time(
    build_settings: Settings, tmp_path: Path
) -> None:
    """Its imports compile what they read: a start slower than the start-up timeout is served
    on the environment just built, and times out on the same one reused."""
    slow = {
        "requirements.txt": "starlette\nuvicorn\n",
        "main.py": (
            "import time\n\nfrom starlette.applications import Starlette\n"
            "from starlette.responses import PlainTextResponse\n"
            "from starlette.routing import Route\n\n"
            "time.sleep(15)  # a start slower than the timeout, faster than twice it\n\n\n"
            "async def home(request):\n    return PlainTextResponse('hi')\n\n\n"
            "app = Starlette(routes=[Route('/', home)])\n"
        ),
    }
    quick = replace(build_settings, env_dir=str(tmp_path / "envs"), startup_timeout=12.0)
    async with running_service(quick) as service:
        with trio.fail_after(BUILD_WAIT):
            first = await launched(service, slow)
            assert first["status"] == "running", first.get("errorMessage")
            assert (await service.stop(first["gid"])).status_code == 200
            await service.supervisor.builder.bytecode.idle.wait()  # compiled: no more time
            again = await launched(service, slow)
            assert again["status"] == "failed", again
            assert "within 12 s" in again["errorMessage"], again["errorMessage"]


async def test_uv_lock_is_installed_exactly(builder_service: Service) -> None:
    service = builder_service
    files = app_files("uv_locked")
    locked = {
        name: files["uv.lock"].split(f'name = "{name}"\nversion = "')[1].split('"')[0]
        for name in ("starlette", "uvicorn")
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        seen = (await service.app_get(body, "/")).json()
        assert seen == locked
        events = await service.history(body["gid"])
        assert any("(Python 3." in m and "uv.lock)" in m for m in messages(events, "system"))
        assert (await service.stop(body["gid"])).status_code == 200


async def test_an_empty_uv_lock_installs_the_projects_dependencies(
    builder_service: Service,
) -> None:
    """RightTwilk's fastapi-rest-api commits a uv.lock of 0 bytes beside its pyproject.toml:
    ``uv sync --frozen`` failed to parse it and nothing was installed. A lock uv cannot read
    is as none: pyproject.toml's dependencies are installed, and the build says why."""
    service = builder_service
    files = {**app_files("uv_locked"), "uv.lock": ""}
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert set((await service.app_get(body, "/")).json()) == {"starlette", "uvicorn"}
        events = await service.history(body["gid"])
        assert any("uv.lock is not read (it is empty)" in m for m in messages(events, "build"))
        assert (await service.stop(body["gid"])).status_code == 200


async def test_uv_lock_resolved_on_a_pypi_mirror_is_installed_from_pypi(
    builder_service: Service,
) -> None:
    """A uv.lock whose registry is a mirror of PyPI under another name (Aliyun's: its
    ``[[tool.uv.index]]``, fastapi-practices' template), which no build reaches: its files
    come from PyPI's same paths, checked against the lock's hashes."""
    service = builder_service
    files = app_files("uv_locked")
    mirror = "https://mirrors.aliyun.com/pypi"
    files["uv.lock"] = (
        files["uv.lock"]
        .replace("https://files.pythonhosted.org/packages/", f"{mirror}/packages/")
        .replace('"https://pypi.org/simple"', f'"{mirror}/simple"')
    )
    assert f"{mirror}/packages/" in files["uv.lock"]
    files["pyproject.toml"] += f'\n[[tool.uv.index]]\nname = "aliyun"\nurl = "{mirror}/simple"\n'
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert set((await service.app_get(body, "/")).json()) == {"starlette", "uvicorn"}
        assert (await service.stop(body["gid"])).status_code == 200
    private = '[[package]]\nname = "x"\nsource = { registry = "https://pkgs.example/simple" }\n'
    private += 'wheels = [{ url = "https://pkgs.example/x/x-1.0-py3-none-any.whl" }]\n'
    assert envcache.pypi_mirror_lock("", private) == ("", private)  # a private index: kept


async def test_half_built_environments_are_removed_before_the_first_build(
    build_settings: Settings, tmp_path: Path
) -> None:
    """The builder is made at the first launch (an idle service imports none of the
    builds), and removes what a stop of the service interrupted before it builds."""
    envs = tmp_path / "envs"
    half = envs / "py-interrupted"
    (half / "lib").mkdir(parents=True)
    built = envs / "py-finished"
    built.mkdir()
    (built / "preview-env.json").write_text('{"bytes": 0}')
    with trio.fail_after(30):
        async with running_service(replace(build_settings, env_dir=str(envs))) as service:
            builder = await service.supervisor.env_builder()
            assert builder is await service.supervisor.env_builder()  # one, made once
            assert not await trio.to_thread.run_sync(half.exists)
            assert await trio.to_thread.run_sync(built.exists)


async def test_a_build_reaches_only_the_package_index(builder_service: Service) -> None:
    """A requirements file naming another index (here a server on the service's host)
    cannot lead a confined build there: its egress proxy refuses, and says so."""
    service = builder_service
    require_sandbox(service)
    with socket.socket() as listener, trio.fail_after(BUILD_WAIT):
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        files = {
            "main.py": "from starlette.applications import Starlette\napp = Starlette()\n",
            "requirements.txt": f"--index-url http://127.0.0.1:{port}/simple\nstarlette\n",
        }
        gid = await service.upload(files)
        body = (await service.launch(gid)).json()
        assert body["status"] == "failed"
        messages = [e["message"] for e in await service.history(gid)]
        refusal = f"egress refused: 127.0.0.1:{port}"
        assert any(m.startswith(refusal) for m in messages), messages
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody ever connected


POISONING_SETUP = """
from pathlib import Path
from setuptools import setup

# What a malicious build backend would do: plant a file other builds would install.
for target in {targets!r}:
    try:
        Path(target).write_text("planted")
    except OSError:
        pass
setup(name="localpkg", version="1.0", py_modules=["localpkg"])
"""


def _write_sdist(wheels: Path, targets: list[str]) -> None:
    _write_source_archive(
        wheels,
        "localpkg-1.0",
        {
            "setup.py": POISONING_SETUP.format(targets=targets),
            "localpkg.py": "VALUE = 42\n",
        },
    )


def _write_source_archive(wheels: Path, release: str, files: dict[str, str]) -> None:
    """``wheels/<release>.tar.gz``, a source archive of ``files`` built by setuptools
    (``release``: ``name-version``)."""
    import io
    import tarfile

    name, _, version = release.rpartition("-")
    files = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        "pyproject.toml": (
            '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        ),
        **files,
    }
    wheels.mkdir(parents=True, exist_ok=True)
    with tarfile.open(wheels / f"{release}.tar.gz", "w:gz") as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{release}/{path}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


async def _launched_sandboxed(
    settings: Settings, files: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """``files`` launched by a service of ``settings`` (its own package sources), which
    must sandbox: the launch's answer and every message of its log."""
    with trio.fail_after(BUILD_WAIT):
        async with running_service(settings) as service:
            require_sandbox(service)
            body = await launched(service, files)
            return body, [e["message"] for e in await service.history(body["gid"])]


async def test_a_package_built_from_source_cannot_reach_the_shared_cache(
    build_settings: Settings, tmp_path: Path
) -> None:
    """An sdist's build runs the upload's chosen code: confined, it gets a download
    cache of its own, never the one other builds share (nor the service's files)."""
    env_dir = tmp_path / "envs"
    shared_cache = env_dir / ".uv-cache"
    secret = build_settings.data_dir / "planted"
    wheels = tmp_path / "wheels"
    await trio.to_thread.run_sync(
        _write_sdist, wheels, [str(shared_cache / "planted"), str(secret)]
    )
    settings = replace(build_settings, find_links=str(wheels), env_dir=str(env_dir))
    files = {
        "main.py": (
            "import localpkg\nfrom starlette.applications import Starlette\napp = Starlette()\n"
        ),
        "requirements.txt": "starlette\nlocalpkg==1.0\n",
    }
    body, messages = await _launched_sandboxed(settings, files)
    assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
    assert any("built from source" in m for m in messages)
    assert await trio.Path(shared_cache).is_dir()  # the wheels-only step filled it
    assert not await trio.Path(shared_cache / "planted").exists()
    assert not await trio.Path(secret).exists()


async def test_a_relaunch_installs_the_wheel_its_launch_built_from_source_not_a_new_build(
    build_settings: Settings, tmp_path: Path
) -> None:
    """uv keeps a wheel it built by the sdist's download, which a proxy that strips
    caching headers makes new at every run: coding-exercise-flask's uwsgi was built
    again (30 s) at each of its relaunches. The wheels one launch built from source are
    offered to its later attempts; the sdist changing under uv stands in for the proxy."""
    wheels = tmp_path / "wheels"
    await trio.to_thread.run_sync(_write_sdist, wheels, [])
    settings = replace(build_settings, find_links=str(wheels), env_dir=str(tmp_path / "envs"))
    launch_cache = tmp_path / "launch-cache"
    await trio.Path(launch_cache).mkdir()
    output = _BuildOutput()
    publish, say, lines = output.publish, output.say, output.lines

    with trio.fail_after(BUILD_WAIT):
        async with running_service(settings) as service:
            require_sandbox(service)
            builder = await service.supervisor.env_builder()
            first, _ = await builder.python_env(
                _requirements("localpkg==1.0"), None, publish, say, launch_cache
            )
            first.release()
            assert any("Built localpkg" in line for line in lines), lines
            archive = wheels / "localpkg-1.0.tar.gz"
            await trio.to_thread.run_sync(os.utime, archive, (1, 1))  # "modified"
            del lines[:]
            # The relaunch's fix added a package: a new environment, the same sdist.
            again, _ = await builder.python_env(
                _requirements("localpkg==1.0", "six"), None, publish, say, launch_cache
            )
            again.release()
    assert not any("localpkg" in line and "Buil" in line for line in lines), lines
    assert any("localpkg==1.0" in line for line in lines), lines


def _write_wheel(
    wheels: Path, release: str, files: dict[str, str], requires: tuple[str, ...] = ()
) -> None:
    """``wheels/<name>-<version>-py3-none-any.whl`` of ``files`` (``release``:
    ``name-version``; the distribution's name spelt as a wheel's file name spells it),
    needing the distributions ``requires``."""
    import zipfile

    name, _, version = release.rpartition("-")
    stem = f"{name.replace('-', '_')}-{version}"
    info = f"{stem}.dist-info"
    wheels.mkdir(parents=True, exist_ok=True)
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {needed}\n" for needed in requires)
    tag = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files = {**files, f"{info}/METADATA": metadata, f"{info}/WHEEL": tag}
    record = "".join(f"{path},,\n" for path in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(wheels / f"{stem}-py3-none-any.whl", "w") as wheel:
        for path, text in {**files, f"{info}/RECORD": record}.items():
            wheel.writestr(path, text)


def _write_extras_releases(wheels: Path) -> None:
    """pvtshapes 1.0 as a wheel, with no extras; pvtshapes 2.0 as a source archive
    alone, its ``[all]`` extra and the module 2.0 added (``pvtshapes.capabilities``)."""
    _write_wheel(wheels, "pvtshapes-1.0", {"pvtshapes/__init__.py": ""})
    setup = (
        "from setuptools import setup\nsetup(name='pvtshapes', version='2.0', "
        "packages=['pvtshapes'], extras_require={'all': []})\n"
    )
    _write_source_archive(
        wheels,
        "pvtshapes-2.0",
        {
            "setup.py": setup,
            "pvtshapes/__init__.py": "",
            "pvtshapes/capabilities.py": "PROFILES = ['default']\n",
        },
    )


async def test_a_release_prebuilt_wheels_allow_without_the_extras_asked_is_built_newer(
    build_settings: Settings, tmp_path: Path
) -> None:
    """AboAhmed24's pos-fastapi asks for ``python-escpos[all]``: wheels alone, uv went
    back to 2.2.0, which has no ``[all]`` (3.1's extras have no wheels), and the app met
    "No module named 'escpos.capabilities'". Where uv says the release it resolved lacks
    the extras asked for, the newer release is built from source."""
    wheels = tmp_path / "wheels"
    await trio.to_thread.run_sync(_write_extras_releases, wheels)
    settings = replace(build_settings, find_links=str(wheels), env_dir=str(tmp_path / "envs"))
    files = {
        "main.py": (
            "from pvtshapes.capabilities import PROFILES\n"
            "from starlette.applications import Starlette\napp = Starlette()\n"
        ),
        "requirements.txt": "starlette\npvtshapes[all]\n",
    }
    body, said = await _launched_sandboxed(settings, files)
    assert body["status"] == "running", "\n".join(said)
    assert any("lacks the extras it is asked for" in m for m in said), said


def _write_releases_needing_a_newer_base(wheels: Path) -> None:
    """pvtlayer 1.0 and 2.0 as wheels, 2.0 needing pvtbase 2; pvtbase 1.0 and 2.0."""
    _write_wheel(wheels, "pvtlayer-1.0", {"pvtlayer/__init__.py": ""})
    _write_wheel(wheels, "pvtlayer-2.0", {"pvtlayer/__init__.py": ""}, ("pvtbase>=2",))
    for release in ("pvtbase-1.0", "pvtbase-2.0"):
        _write_wheel(wheels, release, {"pvtbase/__init__.py": ""})


def _write_releases_needing_an_sdist(wheels: Path) -> None:
    """pvtswagger 1.0 and 2.0 as wheels, 2.0 with the module the app imports and needing
    pvtcodec, a source archive alone."""
    _write_wheel(wheels, "pvtswagger-1.0", {"pvtswagger/__init__.py": ""})
    views = {"pvtswagger/__init__.py": "", "pvtswagger/views.py": "SCHEMA = 'v2'\n"}
    _write_wheel(wheels, "pvtswagger-2.0", views, requires=("pvtcodec",))
    setup = (
        "from setuptools import setup\n"
        "setup(name='pvtcodec', version='1.0', py_modules=['pvtcodec'])\n"
    )
    _write_source_archive(wheels, "pvtcodec-1.0", {"setup.py": setup, "pvtcodec.py": ""})
    _write_releases_needing_a_newer_base(wheels)


@pytest.mark.parametrize("one_python", [False, True])
async def test_an_older_major_taken_for_a_dependency_with_no_wheel_is_built_newer(
    build_settings: Settings, tmp_path: Path, one_python: bool
) -> None:
    """RickZzDev's ApiErpDjango lists ``django-rest-swagger`` unpinned: with wheels alone
    uv went back to 0.3.10, as every 2.x needs openapi-codec, an sdist alone, and the
    app's ``get_swagger_view`` import failed in every route. An install with wheels only
    that took an older major of a listed package than its newest with a wheel, for a
    dependency with no wheel, is refused; the newer release is built from source, on the
    first Python (the dependency has a wheel for none); where one Python alone fits the
    app, at once in the same environment."""
    wheels = tmp_path / "wheels"
    await trio.to_thread.run_sync(_write_releases_needing_an_sdist, wheels)
    settings = replace(build_settings, find_links=str(wheels), env_dir=str(tmp_path / "envs"))
    files = {
        "main.py": (
            "from pvtswagger.views import SCHEMA\n"
            "from starlette.applications import Starlette\napp = Starlette()\n"
        ),
        # pvtlayer taken at 1.0 too, for the pin of pvtbase: asked with pvtswagger, the
        # conflict would hide pvtswagger's missing wheel.
        "requirements.txt": "starlette\npvtswagger\npvtlayer\npvtbase==1.0\n",
    }
    if one_python:
        files[".python-version"] = f"{sys.version_info.major}.{sys.version_info.minor}\n"
    body, said = await _launched_sandboxed(settings, files)
    assert body["status"] == "running", "\n".join(said)
    refused = (
        "with wheels only uv took pvtswagger 1.0, not 2.0: the newer release needs pvtcodec, "
        "which has no wheel for any Python"
    )
    assert any(refused in m for m in said), said
    tries = sum("the try with prebuilt wheels only" in m for m in said)
    assert tries == (0 if one_python else 1), said


async def test_an_older_major_the_apps_own_pins_ask_for_stands(
    build_settings: Settings, tmp_path: Path
) -> None:
    """An older major uv took with wheels only because the app's own pins rule the newer
    one out (``pvtbase==1.0`` beside ``pvtlayer``, whose 2.0 needs pvtbase 2) is the
    app's: installed with wheels, nothing built from source."""
    wheels = tmp_path / "wheels"
    await trio.to_thread.run_sync(_write_releases_needing_a_newer_base, wheels)
    settings = replace(build_settings, find_links=str(wheels), env_dir=str(tmp_path / "envs"))
    files = {
        "main.py": "from starlette.applications import Starlette\napp = Starlette()\n",
        "requirements.txt": "starlette\npvtlayer\npvtbase==1.0\n",
    }
    body, said = await _launched_sandboxed(settings, files)
    assert body["status"] == "running", "\n".join(said)
    assert not any("the try with prebuilt wheels only" in m for m in said), said
    assert not any("built from source" in m for m in said), said


async def test_a_django_apps_module_its_own_name_lacks_is_added_by_the_projects_name(
    build_settings: Settings, tmp_path: Path
) -> None:
    """A module the app's INSTALLED_APPS name and its requirements lack is added by its
    own name (achiko10's django-core-api: whitenoise, PyPI's; django-whitenoise, taken
    first, is none: "not in the package registry: no fix"), else, where the registry has
    no such distribution, by the Django project's usual ``django-<name>`` (balmendra-f's
    django-sandbox: bootstrap5, of django-bootstrap5)."""
    wheels = tmp_path / "wheels"
    await trio.to_thread.run_sync(
        _write_wheel, wheels, "django-pvtwidgets-1.0", {"pvtwidgets/__init__.py": "READY = 1\n"}
    )
    settings = replace(build_settings, find_links=str(wheels), env_dir=str(tmp_path / "envs"))
    files = {
        "settings.py": "INSTALLED_APPS = ['django.contrib.admin', 'pvtwidgets']\n",
        "main.py": (
            "import pvtwidgets\nfrom starlette.applications import Starlette\napp = Starlette()\n"
        ),
        "requirements.txt": "starlette\n",
    }
    body, said = await _launched_sandboxed(settings, files)
    assert body["status"] == "running", "\n".join(said)
    switched = "pvtwidgets is not in the package registry: adding django-pvtwidgets"
    assert any(switched in m for m in said), said
    # Imported as it runs (no import line the check before its start reads): the same,
    # after the start that failed.
    files["main.py"] = files["main.py"].replace(
        "import pvtwidgets", "import importlib\nimportlib.import_module('pvtwidgets')"
    )
    body, said = await _launched_sandboxed(settings, files)
    assert body["status"] == "running", "\n".join(said)
    assert any(switched in m for m in said), said


# An upload's own install script, run by its build with its environment's folder on the
# host's disk writable: 1 MiB a file, every 5 ms, up to 400 MiB (a cap of the test's,
# should the bound not hold), then it waits. It once could write until the disk was full.
_FILLING_PACKAGE = {
    "name": "filler",
    "version": "1.0.0",
    "scripts": {
        "postinstall": (
            "node -e \"const fs=require('fs');const block=Buffer.alloc(1<<20,120);let n=0;"
            "const t=setInterval(()=>{fs.writeFileSync('fill-'+n,block);"
            'if(++n>=400)clearInterval(t)},5);setInterval(()=>{},1000)"'
        ),
        "start": "node server.js",
    },
}


async def test_a_build_writing_past_its_bound_is_stopped(
    builder_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = builder_service
    assert shutil.which("npm") is not None, "npm is required here (PREVIEW_TEST_REQUIRE_NPM)"
    monkeypatch.setattr(envcache, "BUILD_DISK_FLOOR", 0)
    object.__setattr__(service.settings, "env_cache_mb", 16)
    object.__setattr__(service.settings, "build_timeout", 60)  # unbounded: it waits there
    files = {
        "package.json": json.dumps(_FILLING_PACKAGE),
        "server.js": "require('http').createServer((q, s) => s.end('ok'))"
        ".listen(process.env.PORT, '127.0.0.1')\n",
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
    assert body["status"] == "failed", body
    assert "the build wrote more than 16 MiB (PREVIEW_ENV_CACHE_MB)" in body["errorMessage"], body
    builder = await service.supervisor.env_builder()
    assert not builder.cache._builds

    def filled() -> list[Path]:
        return [p for p in Path(builder.root).glob("node-*") if (p / "fill-0").exists()]

    assert await trio.to_thread.run_sync(filled) == []  # removed with the failed build


# A project's own postinstall asking its build's proxy for a host of prebuilt binaries
# (what a NestJS upload's did, to fetch a program from a GitHub release and run it).
OWN_SCRIPT_PROBE = (
    "const u = new URL(process.env.HTTPS_PROXY); "
    "const s = require('net').connect(+u.port, u.hostname, () => "
    "s.write('CONNECT github.com:443 HTTP/1.1\\r\\nHost: github.com:443\\r\\n\\r\\n')); "
    "s.once('data', () => s.destroy()); s.on('error', () => {});"
)


async def test_a_projects_own_install_scripts_reach_only_the_package_index(
    builder_service: Service,
) -> None:
    """The hosts of prebuilt binaries (PREVIEW_BUILD_EGRESS, GitHub's releases by default)
    are for the packages' install scripts; the project's own are the uploaded app's code,
    which reaches the package indexes alone while it builds."""
    service = builder_service
    require_sandbox(service)
    package = {
        "name": "own-script",
        "version": "1.0.0",
        "private": True,
        "scripts": {"start": "node server.js", "postinstall": f'node -e "{OWN_SCRIPT_PROBE}"'},
    }
    files = {
        "package.json": json.dumps(package),
        "server.js": "require('http').createServer((q, a) => a.end('ok'))"
        ".listen(process.env.PORT);\n",
    }
    with trio.fail_after(BUILD_WAIT):
        gid = await service.upload(files)
        body = (await service.launch(gid)).json()
        said = messages(await service.history(gid))
        # Refused by the policy (not for want of a route out from this machine), its
        # allowed hosts the indexes alone.
        refusal = next(m for m in said if m.startswith("egress refused: github.com:443"))
        assert refusal.startswith("egress refused: github.com:443 (allowed: "), refusal
        assert "github" not in refusal.split("(allowed: ")[1], refusal
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.stop(gid)).status_code == 200
