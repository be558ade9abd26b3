"""How to start an upload, read from its files (no process): detection order and shapes,
and what its dependency set is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from preview.apps.depspec import node_dependencies, python_dependencies
from preview.apps.detect import detect
from preview.apps.node.devscript import nodemon_config_file
from preview.apps.served import MAIN_SETUP, find_app, main_setup_served
from preview.apps.written import own_name_packages
from preview.builds.appenv import dotenv_file
from preview.discovery.pyast import syntax_error
from preview.errors import BadRequest

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages


def _detect(files: dict[str, str], **options) -> object:
    return detect({p: t.encode() for p, t in files.items()}, **options)


FASTAPI = "from fastapi import FastAPI\napp = FastAPI()\n"
FACTORY = "from fastapi import FastAPI\ndef create_app():\n    return FastAPI()\n"


def test_a_module_with_a_syntax_error_still_says_where_its_app_is() -> None:
    """Where no module Python can read makes an app, one that cannot be read is read as
    far as it can: its top-level imports and assignments (``app = FastAPI(`` with its
    arguments below) say where the app is; its server then says the error."""
    opened = "from fastapi import FastAPI\napp = FastAPI(\n    title='x'\n@app.get('/')\n"
    found = _detect({"requirements.txt": "fastapi\n", "app/main.py": opened})
    assert found.detected_from == "app/main.py" and "main:app" in found.argv
    flask = "from flask import Flask\napp = Flask(__name__)\n@app.route('/')\ndef i()\n  pass\n"
    found = _detect({"requirements.txt": "flask\n", "server.py": flask})
    assert (found.framework, found.detected_from) == ("flask", "server.py")
    # A readable app elsewhere is still the one (a broken script beside it is not).
    found = _detect({"main.py": FASTAPI, "tools/app.py": opened, "requirements.txt": "fastapi\n"})
    assert found.detected_from == "main.py"
    with pytest.raises(BadRequest):  # nothing makes an app, readable or not
        _detect({"requirements.txt": "fastapi\n", "main.py": "def broken(:\n"})


def test_a_django_wsgi_module_binding_its_application_by_another_name_is_served_by_it() -> None:
    """MohammadFahad1's SiOi-Global-Trade-Backend: ``app = get_wsgi_application()`` in its
    wsgi.py (for Vercel; its settings' WSGI_APPLICATION says ``….wsgi.app``): gunicorn met
    "Failed to find attribute 'application'". The name it binds is served; Django's own
    ``application`` where it binds that."""
    files = {
        "manage.py": "import os\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n",
        "shop/__init__.py": "",
        "shop/settings.py": "WSGI_APPLICATION = 'shop.wsgi.app'\n",
        "shop/wsgi.py": "from django.core.wsgi import get_wsgi_application\n"
        "app = get_wsgi_application()\n",
    }
    assert _detect(files).argv[-1] == "shop.wsgi:app"
    files["shop/wsgi.py"] += "application = app\n"
    assert _detect(files).argv[-1] == "shop.wsgi:application"


def test_fixture_apps() -> None:
    found = _detect(app_files("fastapi_factory"))
    assert (found.framework, found.detected_from) == ("fastapi", "src/shop/main.py")
    assert " ".join(found.argv) == (
        "{python} -m uvicorn shop.main:create_app --factory --app-dir src "
        "--host 127.0.0.1 --port {port}"
    )
    flask = _detect(app_files("flask_factory"))
    assert flask.framework == "flask" and flask.server == "gunicorn"
    assert flask.argv[-1] == "notes:create_app()"
    django = _detect(app_files("django_project"))
    assert django.framework == "django"
    assert django.argv[-1] == "mysite.wsgi:application"
    migrate = ("{python}", "manage.py", "migrate", "--noinput", "--fake-initial", "--skip-checks")
    assert django.setup == (migrate,)
    node = _detect(app_files("express_app"))
    assert (node.framework, node.language, node.argv) == (
        "node",
        "node",
        ("npm", "start", "--silent"),
    )
    starlette = _detect(app_files("dotenv_pyproject"))
    assert starlette.framework == "starlette" and "main:app" in starlette.argv


HELD = """from fastapi import FastAPI


class AppCreator:
    def __init__(self):
        self.app = FastAPI(title="held")

        @self.app.get("/")
        def root():
            return "service is working"
"""


@pytest.mark.parametrize(
    ("files", "target", "framework"),
    [
        ({"main.py": FASTAPI}, "main:app", "fastapi"),
        ({"app/main.py": FASTAPI, "app/__init__.py": ""}, "app.main:app", "fastapi"),
        ({"svc/main.py": FASTAPI + "import routes\n", "svc/routes.py": ""}, "main:app", "fastapi"),
        (
            {"backend/app/main.py": "from app.routers import x\n" + FASTAPI},
            "app.main:app",
            "fastapi",
        ),
        (
            {"api.py": "from litestar import Litestar\napplication = Litestar([])\n"},
            "api:application",
            "litestar",
        ),
        (
            {
                "run.py": "from factory import create_app\napp = create_app()\n",
                "factory.py": FACTORY,
            },
            "run:app",
            "fastapi",
        ),
        (
            {"wsgi.py": "from flask import Flask\nserver = Flask(__name__)\n"},
            "wsgi:server",
            "flask",
        ),
        (  # a factory returning its app among others, unpacked (KiranPrasath-26's kanban)
            {
                "main.py": "from flask import Flask\n\n\ndef create_app():\n"
                "    api = object()\n    app = Flask(__name__)\n    return api, app, None\n\n\n"
                "api, app, celery = create_app()\n"
            },
            "main:app",
            "flask",
        ),
        (  # made by a class in a method, bound from its instance (a clean architecture's)
            {
                "app/__init__.py": "",
                "app/main.py": HELD + "creator = AppCreator()\napp = creator.app\n",
            },
            "app.main:app",
            "fastapi",
        ),
        ({"main.py": HELD + "api = AppCreator().app\n"}, "main:api", "fastapi"),
        (  # Gennadii87's flask-tasks: the holder class in another module, its app returned
            {
                "config/__init__.py": "",
                "config/config.py": HELD + "\n    def get_app(self):\n        return self.app\n",
                "app.py": "from config.config import AppCreator\n"
                "creator = AppCreator()\napp = creator.get_app()\n",
            },
            "app:app",
            "fastapi",
        ),
    ],
)
def test_python_app_shapes(files: dict[str, str], target: str, framework: str) -> None:
    found = _detect({**files, "tests/test_main.py": FASTAPI})
    assert found.framework == framework
    assert target in found.argv


def test_app_dir_for_a_directory_without_package() -> None:
    found = _detect({"svc/main.py": FASTAPI})
    assert found.argv[3:6] == ("main:app", "--app-dir", "svc")
    # A folder named with spaces is one argument (rv1281's Online-Attendance-Flask-
    # Application: gunicorn, given its folder split, took "Student" for the app).
    spaced = _detect({"Online Student/main.py": FASTAPI})
    assert spaced.argv[3:6] == ("main:app", "--app-dir", "Online Student")
    flask = "from flask import Flask\napp = Flask(__name__)\n"
    wsgi = _detect({"Online Student/main.py": flask}).argv
    assert wsgi[-3:] == ("--pythonpath", "Online Student", "main:app")


def test_order_command_then_procfile_then_code() -> None:
    files = {
        "main.py": FASTAPI,
        "Procfile": "release: python seed.py\nweb: uvicorn main:app --port $PORT\n",
    }
    procfile = _detect(files)
    assert procfile.framework == "procfile"
    assert procfile.argv == ("sh", "-c", "uvicorn main:app --port $PORT")
    assert procfile.setup == (("sh", "-c", "python seed.py"),)
    # Several release lines are one step, each in its order (jonwillcode's menjls-ecommerce-
    # backend: makemigrations, collectstatic, then migrate, which the first alone never ran).
    several = {**files, "Procfile": files["Procfile"] + "release: python migrate.py\n"}
    assert _detect(several).setup == (("sh", "-c", "python seed.py; python migrate.py"),)
    given = _detect(files, command=["{python}", "serve.py"], setup=["{python}", "seed.py"])
    assert (given.framework, given.detected_from) == ("command", "command option")
    assert given.setup == (("{python}", "seed.py"),)
    alembic = {
        "main.py": FASTAPI,
        "alembic.ini": "[alembic]\nscript_location = migrations\n",
        "migrations/env.py": "from alembic import context\n",
    }
    assert _detect(alembic).setup == (("{python}", "-m", "alembic.config", "upgrade", "heads"),)


def test_node_main_without_start_script() -> None:
    found = _detect({"package.json": '{"main": "src/index.js"}', "src/index.js": ""})
    assert found.argv == ("node", "src/index.js")


def test_nothing_to_run_lists_what_was_looked_for() -> None:
    with pytest.raises(BadRequest) as caught:
        _detect({"README.md": "hi", "util.py": "def f():\n    return 1\n", "bad.py": "def ("})
    error = caught.value
    assert error.code == "nothing_to_run" and "command" in error.message
    assert len(error.details["lookedFor"]) == 9
    assert "bad.py line 1 is not Python" in error.message, error.message


def test_nothing_to_run_says_where_nothing_in_the_upload_serves() -> None:
    """Joichiro433's Blog-sqlmodel: a script querying its tables and printing them, its
    pyproject listing FastAPI it never imports: nothing could run, and the refusal says
    so. One importing a framework, or the standard library's server, is not said so."""
    script = "from sqlmodel import Session, select\nprint(select)\n"
    with pytest.raises(BadRequest) as caught:
        _detect({"pyproject.toml": "[project]\ndependencies = ['fastapi']\n", "app/app.py": script})
    assert "nothing in it serves" in caught.value.message, caught.value.message
    for serving in ("from fastapi import APIRouter\n", "import http.server\n"):
        with pytest.raises(BadRequest) as caught:
            _detect({"requirements.txt": "fastapi\n", "app/app.py": script + serving})
        assert "nothing in it serves" not in caught.value.message


def test_nothing_to_run_names_a_merge_conflict_left_in_the_apps_module() -> None:
    """williamyizima's flask-wallet: its create_app's module holds a merge's conflict
    markers, so no app was found, and the refusal said only that."""
    factory = (
        "from flask import Flask\n<<<<<<< HEAD\nfrom wallet import api\n=======\n"
        ">>>>>>> origin/master\n\ndef create_app():\n    return Flask(__name__)\n"
    )
    with pytest.raises(BadRequest) as caught:
        _detect({"requirements.txt": "flask\n", "wallet/app.py": factory, "wallet/api.py": ""})
    assert (
        "wallet/app.py line 2 is not Python (invalid syntax: '<<<<<<< HEAD', a merge conflict"
        " left unresolved)" in caught.value.message
    ), caught.value.message
    # Python 3.12's type syntax, which the service reads without it, is no error to name.
    assert syntax_error("type Id = int\n\n\ndef f[T](x: T) -> T:\n    return x\n") is None
    assert syntax_error(b"def (") == (1, "invalid syntax")


def test_a_module_quoting_its_own_quote_in_an_f_string_field_is_read_as_312_does() -> None:
    """VelmiraPetkova's Employee-Management-System builds its database URL in the module
    defining its create_app of ``f'{config('DB_USER')}:'`` (Python 3.12's f-strings): this
    interpreter's parser refused the module, and the launch was refused ("config.py line 18
    is not Python"). Read with the other quote inside the field, its app is found."""
    config = (
        "from flask import Flask\nfrom decouple import config\n\n\n"
        "class DevelopmentConfig:\n"
        "    SQLALCHEMY_DATABASE_URI = (f'postgresql://'\n"
        "    f'{config('DB_USER')}:'\n"
        "    f'{config('DB_PASSWORD')}@localhost:{{5432}}/{config(\"DB_NAME\")}')\n\n\n"
        "def create_app():\n    return Flask(__name__)\n"
    )
    files = {
        "requirements.txt": "flask\npython-decouple\n",
        "config.py": config,
        "main.py": "from config import create_app\n\napp = create_app()\n",
    }
    found = _detect(files)
    assert (found.framework, found.detected_from) == ("flask", "main.py"), found
    assert syntax_error(config) is None
    assert syntax_error("x = f'{d[}'\n") is not None  # bad in any Python: said


def test_dependency_specs() -> None:
    files = {
        "requirements.txt": b"-r base.txt\nfastapi  # web\n\n-e .\n",
        "base.txt": b"pydantic>=2\n",
        ".python-version": b"3.12\n",
    }
    deps = python_dependencies(files)
    assert deps.requirements == ("pydantic>=2", "fastapi")
    assert (deps.python_request, deps.python_source) == ("3.12", ".python-version")
    assert deps.names() == {"pydantic", "fastapi"}
    assert deps.key("3.12.1@/x", (), "") != deps.key("3.11.7@/y", (), "")

    poetry = b"""[tool.poetry.dependencies]
python = "^3.11"
fastapi = "^0.110.1"
uvicorn = {version = "~0.29", extras = ["standard"]}
httpx = "0.27.0"
anything = "*"
"""
    deps = python_dependencies({"pyproject.toml": poetry})
    assert deps.requirements == (
        "fastapi>=0.110.1,<0.111",
        "uvicorn[standard]>=0.29,<0.30",
        "httpx==0.27.0",
        "anything",
    )
    assert deps.python_request == ">=3.11,<4"
    pep621 = b'[project]\nrequires-python = ">=3.11"\ndependencies = ["starlette>=0.37"]\n'
    lock = b'version = 1\n\n[[package]]\nname = "starlette"\nversion = "0.37.2"\n'
    deps = python_dependencies({"pyproject.toml": pep621, "uv.lock": lock})
    assert deps.lock is not None and deps.source == "uv.lock" and "starlette" in deps.names()
    assert node_dependencies({"package.json": b"{}"}).lockfile is None


PYRAMID_PACKAGE = """from pyramid.config import Configurator


def main(global_config, **settings):
    with Configurator(settings=settings) as config:
        config.include(".routes")
        config.scan()
    return config.make_wsgi_app()
"""
PYRAMID_MODULE = """from pyramid.config import Configurator

with Configurator() as config:
    config.add_route("hello", "/")
    app = config.make_wsgi_app()
"""


@pytest.mark.parametrize(
    ("files", "framework", "target"),
    [
        ({"app.py": "import falcon\napp = falcon.App()\n"}, "falcon", "app:app"),
        ({"api.py": "import falcon\napi = falcon.API()\n"}, "falcon", "api:api"),
        ({"main.py": "from falcon import App\nservice = App()\n"}, "falcon", "main:service"),
        ({"app.py": "import bottle\napp = bottle.Bottle()\n"}, "bottle", "app:app"),
        ({"app.py": "from bottle import Bottle\napp = Bottle()\n"}, "bottle", "app:app"),
        (
            {
                "server.py": "import bottle\n@bottle.route('/')\ndef i(): ...\n"
                "application = bottle.default_app()\n"
            },
            "bottle",
            "server:application",
        ),
        ({"hello.py": PYRAMID_MODULE}, "pyramid", "hello:app"),
        # Pyramid's scaffold: a main(global_config, **settings) factory in the package.
        (
            {"shop/__init__.py": PYRAMID_PACKAGE, "shop/routes.py": "", "setup.py": ""},
            "pyramid",
            "shop:main({})",
        ),
        # A wsgi.py's module-level application, whatever made it.
        (
            {"wsgi.py": "from legacy import make\napplication = make()\n", "legacy.py": ""},
            "wsgi",
            "wsgi:application",
        ),
        (
            {"site/wsgi.py": "def application(environ, start_response):\n    return []\n"},
            "wsgi",
            "wsgi:application",
        ),
    ],
)
def test_wsgi_apps_run_under_gunicorn(files: dict[str, str], framework: str, target: str) -> None:
    found = _detect(files)
    assert (found.framework, found.server, found.asgi) == (framework, "gunicorn", False)
    assert found.argv[-1].format_map({}) == target  # a template: "{{}}" is "{}"


def test_a_main_modules_app_is_the_last_choice() -> None:
    # sanic-template's __main__.py runs the factory's app on port 8000: the factory is
    # served; an app made only in a __main__.py is still found.
    script = "from shop.app import create\nserver = create()\nserver.run(port=8000)\n"
    factory = "from sanic import Sanic\n\n\ndef create():\n    return Sanic('shop')\n"
    found = _detect({"shop/__init__.py": "", "shop/__main__.py": script, "shop/app.py": factory})
    assert found.framework == "sanic" and "shop.app:create --factory" in " ".join(found.argv)
    alone = "from fastapi import FastAPI\napp = FastAPI()\n"
    found = _detect({"svc/__init__.py": "", "svc/__main__.py": alone})
    assert "svc.__main__:app" in " ".join(found.argv)


def test_an_app_that_starts_its_own_server_at_import_runs_as_a_script() -> None:
    """koukol-p's flask-sqlite-rest ends with ``app.run(port=5000, debug=True)``, outside
    ``if __name__ == "__main__":``: gunicorn importing it blocked in that call, and its
    reloader ran gunicorn again on the port the master held. Guarded, or in a function,
    it is served as before."""
    flask = "from flask import Flask\napp = Flask(__name__)\n"
    found = _detect({"requirements.txt": "flask\n", "app.py": flask + "app.run(port=5000)\n"})
    assert found.argv == ("{python}", "app.py") and found.server is None
    assert "starts its own server when imported" in " ".join(found.notes)
    nested = {"requirements.txt": "flask\n", "api/app.py": flask + "app.run()\n"}
    assert _detect(nested).argv[-3:] == ("api", "{python}", "app.py")
    asgi = "import uvicorn\nfrom fastapi import FastAPI\napp = FastAPI()\nuvicorn.run(app)\n"
    assert _detect({"main.py": asgi}).argv == ("{python}", "main.py")
    guarded = flask + "if __name__ == '__main__':\n    app.run(port=5000)\n"
    assert "gunicorn" in " ".join(_detect({"requirements.txt": "flask\n", "app.py": guarded}).argv)
    inside = flask + "def main():\n    app.run(port=5000)\n"
    assert "gunicorn" in " ".join(_detect({"requirements.txt": "flask\n", "app.py": inside}).argv)
    # davidjeiel's api-flask-carros: the guard's else runs it when imported; so does a
    # block that runs at import (a try's body).
    otherwise = guarded + "else:\n    app.run(debug=True, port=5000)\n"
    found = _detect({"requirements.txt": "flask\n", "app.py": otherwise})
    assert found.argv == ("{python}", "app.py"), found.argv
    tried = flask + "try:\n    app.run(port=5000)\nexcept KeyboardInterrupt:\n    pass\n"
    assert _detect({"requirements.txt": "flask\n", "app.py": tried}).argv == ("{python}", "app.py")
    negated = flask + "if __name__ != '__main__':\n    pass\nelse:\n    app.run(port=5000)\n"
    assert "gunicorn" in " ".join(_detect({"requirements.txt": "flask\n", "app.py": negated}).argv)


async def test_an_app_that_serves_at_import_serves_as_a_script(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("flask_serves_at_import"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await service.app_get(body, "/hello")
        assert answer.json() == {"served_by": "its own run"}
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_root_module_importing_relatively_is_served_from_the_roots_package() -> None:
    """prxsss's fastapi-jobs-api: ``main.py`` at the root does ``from .db import …``; as
    ``main:app`` it has no parent package. It is served as a module of the package the
    root is imported by (a package of that name is written, its path the root)."""
    files = app_files("fastapi_root_relative_imports")
    found = _detect(files)
    assert "uploaded_app.main:app" in found.argv, found.argv
    encoded = {p: t.encode() for p, t in files.items()}
    assert ".preview-own-names/uploaded_app/__init__.py" in own_name_packages(encoded)
    absolute = {**files, "main.py": files["main.py"].replace("from .store", "from store")}
    absolute["store.py"] = absolute["store.py"].replace("from .titles", "from titles")
    assert "main:app" in _detect(absolute).argv
    assert own_name_packages({p: t.encode() for p, t in absolute.items()}) == {}


async def test_a_root_module_importing_relatively_runs(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_root_relative_imports"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/api/jobs")).json() == ["baker", "smith"]
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_root_importing_its_own_init_relatively_runs_that_init(
    builder_service: Service,
) -> None:
    """hasankhaan107's Basic-Flask-CRUD: the root's ``__init__.py`` makes ``create_app``
    and ``app.py`` does ``from . import create_app``; served as ``uploaded_app.app:app``,
    the package written for that name had no body ("cannot import name 'create_app'").
    It runs the root's ``__init__.py``, as importing the folder would."""
    files = {
        "requirements.txt": "flask\n",
        "__init__.py": (
            "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n\n"
            "    @app.get('/hello')\n    def hello():\n        return {'made_by': 'create_app'}\n\n"
            "    return app\n"
        ),
        "app.py": "from . import create_app\n\napp = create_app()\n",
    }
    written = own_name_packages({p: t.encode() for p, t in files.items()})
    assert b"exec(compile(" in written[".preview-own-names/uploaded_app/__init__.py"]
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await builder_service.app_get(body, "/hello")
        assert answer.json() == {"made_by": "create_app"}
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_a_module_bearing_its_folders_name_and_importing_that_package_runs(
    builder_service: Service,
) -> None:
    """EricDalrymple91's simple-flask-api-with-sqlalchemy: ``app/app.py`` does ``from
    app.models.database import db`` and ``from routes.main_db import …``; run in ``app/``,
    ``app`` was that module ("'app' is not a package"). It is served as ``app.app`` from
    the root, ``app/`` after it on the import path; a module of another name is not."""
    files = {
        "requirements.txt": "flask\n",
        "app/__init__.py": "",
        "app/models/__init__.py": "",
        "app/models/store.py": "ITEMS = ['ski', 'pole']\n",
        "app/routes/__init__.py": "",
        "app/routes/items.py": (
            "from flask import Blueprint\n\nfrom app.models.store import ITEMS\n\n"
            "items = Blueprint('items', __name__)\n\n\n"
            "@items.get('/items')\ndef listed():\n    return {'items': ITEMS}\n"
        ),
        "app/app.py": (
            "from flask import Flask\n\nfrom app.models.store import ITEMS\n"
            "from routes.items import items\n\napp = Flask(__name__)\n"
            "app.register_blueprint(items)\n"
        ),
    }
    found = _detect(files)
    assert found.argv[-1] == "app.app:app" and found.argv[4] == "app", found.argv
    other = {k.replace("app/app.py", "app/main.py"): v for k, v in files.items()}
    assert _detect(other).argv[0] == "{python}", _detect(other).argv  # (no folder added)
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await builder_service.app_get(body, "/items")
        assert answer.json() == {"items": ["ski", "pole"]}
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_a_script_setting_its_app_up_in_its_main_block_serves_as_its_author_runs_it(
    builder_service: Service,
) -> None:
    """bmlrb2xh's simple-flask-backend-api's shape: the app made in ``app/api/app.py``,
    its state (an engine, a session) set in ``main.py``'s ``__main__`` block before
    ``werkzeug.run_simple``, its requirements in ``setup/``, which its README installs.
    Run as ``python main.py``: its route answers with what the block set."""
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, app_files("flask_main_script_state"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await builder_service.app_get(body, "/api/items")
        assert answer.json() == {"items": [], "greeting": "set up by main.py"}
        status = await builder_service.status(body["gid"])
        assert status["runtime"]["plan"]["plans"][0]["command"] == "python main.py"
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_a_python_start_that_exits_gives_way_to_the_one_its_dockerfile_declares(
    builder_service: Service,
) -> None:
    """The detection's start exits (the app wants a variable its Dockerfile's CMD sets on
    its command line, in the folder it copies as the app): the start the CMD declares
    serves, plan 2, said in the status."""
    files = {
        "requirements.txt": "fastapi\nuvicorn\n",
        "src/main.py": (
            "import os\n\nfrom fastapi import FastAPI\n\n"
            "if os.environ.get('SERVE_MODE') != 'api':\n"
            "    raise SystemExit('SERVE_MODE=api is how this image runs it')\n"
            "app = FastAPI()\n\n\n"
            "@app.get('/items')\ndef items():\n    return ['served by the CMD']\n"
        ),
        "Dockerfile": (
            "FROM python:3.12\nWORKDIR /code\nCOPY src/ .\n"
            "CMD SERVE_MODE=api uvicorn main:app --host 0.0.0.0 --port 8000\n"
        ),
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await builder_service.app_get(body, "/items")
        assert answer.json() == ["served by the CMD"]
        status = await builder_service.status(body["gid"])
        plan = status["runtime"]["plan"]
        assert plan["inForce"] == 2, plan
        assert plan["plans"][1]["from"] == "the Dockerfile's CMD"
        assert (await builder_service.stop(body["gid"])).status_code == 200


# A server of the app's own that no detection rule knows (NiceGUI's ``ui.run()`` is one):
# the standard library's, on the port its Dockerfile's ENV names.
_OWN_SERVER = """import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer


class Answer(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"served_by": "the Dockerfile's CMD"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("0.0.0.0", int(os.environ.get("UI_PORT", "8000"))), Answer).serve_forever()
"""


def test_a_python_upload_nothing_detected_starts_as_its_dockerfile_declares() -> None:
    """pffigueiredo's nicetodo-sqlmodel-postgres: a NiceGUI app (``ui.run()`` in main.py),
    its Dockerfile's ``CMD ["uv", "run", "--no-dev", "python", "main.py"]``: refused,
    nothing to run. The declared start is the detection's where nothing else is; a
    README's run command alone is none (it names a module the detection would serve)."""
    files = {
        "requirements.txt": "sqlmodel\n",
        "main.py": _OWN_SERVER,
        "Dockerfile": (
            'FROM python:3.12-slim\nCOPY . .\nCMD ["uv", "run", "--no-dev", "python", "main.py"]\n'
        ),
    }
    found = _detect(files)
    assert (found.framework, found.detected_from) == ("declared", "the Dockerfile's CMD")
    assert found.argv == ("sh", "-c", "python main.py"), found.argv
    assert "as declared" in " ".join(found.notes)
    readme_only = {**files, "Dockerfile": "", "README.md": "Run `uvicorn main:app`\n"}
    with pytest.raises(BadRequest):
        _detect({k: v for k, v in readme_only.items() if k != "Dockerfile"})


async def test_a_python_app_of_its_own_server_runs_as_its_dockerfile_declares(
    builder_service: Service,
) -> None:
    files = {
        "requirements.txt": "",
        "main.py": _OWN_SERVER,
        "Dockerfile": "FROM python:3.12-slim\nENV UI_PORT=8000\nCOPY . .\nCMD python main.py\n",
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await builder_service.app_get(body, "/anything")
        assert answer.json() == {"served_by": "the Dockerfile's CMD"}
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_where_no_plan_serves_the_first_plans_failure_is_the_launchs(
    builder_service: Service,
) -> None:
    """markov500's pythonflask-gestion-livre: its own start died on its database's URL,
    then its README's ``flask run`` (plan 2) found no app: the launch said only the
    latter. The detection's own start's cause is the launch's, the later plans said."""
    files = {
        "requirements.txt": "fastapi\nuvicorn\n",
        "main.py": (
            "from fastapi import FastAPI\n\n"
            "raise RuntimeError('its own cause: no BOOKS_DB_URL given')\napp = FastAPI()\n"
        ),
        "README.md": "# Books\n\nRun `uvicorn books.server:app --reload`.\n",
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "failed", body["status"]
        status = await builder_service.status(body["gid"])
        assert "its own cause: no BOOKS_DB_URL given" in status["errorMessage"], status
        system = messages(await builder_service.history(body["gid"]), "system")
        tried = "plan 2 of 2: `uvicorn books.server:app` (the README.md's run command)"
        assert tried in system, system[-8:]
        assert "no plan served (2 tried): the first plan's failure is the launch's" in system


def test_a_package_upload_importing_itself_by_name_is_served_as_that_package() -> None:
    """shahin-0's Flask-Billing-app uploaded as its ``billApp/``: the root's ``__init__.py``
    makes the app and ends ``from billApp import routes``, whose ``from billApp import app``
    and ``from billApp.models import …`` found no ``billApp`` ("No module named"). The
    root is served as the package of that name, which runs the root's ``__init__.py``;
    a library's name imported the same way (``from flask import …``) is not the root's."""
    files = {p: t.encode() for p, t in app_files("flask_package_upload").items()}
    found = detect(files)
    assert "shop:app" in found.argv, found.argv
    written = own_name_packages(files)
    assert list(written) == [".preview-own-names/shop/__init__.py"]
    assert b"exec(compile(" in written[".preview-own-names/shop/__init__.py"]
    # A name some import from it calls for what the root lacks is no name of the root's.
    wrong = {**files, "items.py": files["items.py"].replace(b"import db", b"import db, cart")}
    assert "__init__:app" in detect(wrong).argv
    assert own_name_packages(wrong) == {}


async def test_a_package_upload_importing_itself_by_name_runs(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("flask_package_upload"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        # Its models' tables made (a set-up step loading the app as Flask's CLI does, which
        # would have named it a module of the folder above the package's): none yet.
        assert (await service.app_get(body, "/items")).text.strip() == "none yet"
        assert (await service.stop(body["gid"])).status_code == 200


async def test_an_app_made_through_a_builders_chain_runs(builder_service: Service) -> None:
    """yxxjimin's fastapi-gym-crm binds ``app`` to a builder's chain of calls handed
    ``FastAPI(…)`` and puts routes on it (``@app.get``): it is the app. A chain whose
    name gets no route is not one."""
    files = app_files("fastapi_app_builder")
    assert "main:app" in _detect(files).argv
    unrouted = {**files, "src/main.py": files["src/main.py"].replace("@app.get", "@other.get")}
    with pytest.raises(BadRequest):
        _detect(unrouted)
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/members")).json() == ["ann", "bob"]
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_librarys_readme_example_app_is_its_start() -> None:
    """MukievMukhammad's fastapi-email-auth: a package of a router under ``src/``, no app
    of its own; its README's quick start makes one (``app.include_router(router, …)``).
    Refused ``nothing_to_run``; that example, its own start left out, is served. A README
    block making an app from nothing of the upload's is no start of its."""
    files = app_files("fastapi_library_readme_app")
    found = _detect(files)
    assert (found.framework, found.detected_from, found.server) == (
        "fastapi",
        "README.md",
        "uvicorn",
    )
    program = found.argv[2]
    assert found.argv[0] == "{python}" and found.argv[-1] == "{port}", found.argv
    assert "sys.path[:0] = ['src']" in program and "from greeter import router" in program
    assert "port=8000" not in program and "uvicorn.run(app, host=" in program
    crlf = {**files, "README.md": files["README.md"].replace("\n", "\r\n")}
    assert _detect(crlf).argv == found.argv
    foreign = {**files, "README.md": files["README.md"].replace("from greeter", "from elsewhere")}
    with pytest.raises(BadRequest):
        _detect(foreign)


async def test_a_librarys_readme_example_app_runs(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_library_readme_app"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await service.app_get(body, "/greet/ada")
        assert answer.json() == {"greeting": "hello ada"}
        assert (await service.stop(body["gid"])).status_code == 200


def test_wsgi_look_alikes_are_not_apps() -> None:
    # "App()" from elsewhere, an app made only under __main__: nothing to serve.
    for files in (
        {"main.py": "from mylib import App\napp = App()\n"},
        {"main.py": "import falcon\nif __name__ == '__main__':\n    app = falcon.App()\n"},
        {"wsgi.py": "app = 1\n"},
    ):
        with pytest.raises(BadRequest):
            _detect(files)
    # Falcon's ASGI app is served by uvicorn; Django keeps precedence over its wsgi.py.
    falcon_asgi = _detect({"app.py": "import falcon.asgi\napp = falcon.asgi.App()\n"})
    assert (falcon_asgi.framework, falcon_asgi.server) == ("falcon", "uvicorn")
    assert _detect(app_files("django_project")).framework == "django"


# The FastAPI full-stack template's shape: the app in backend/app, alembic.ini and its
# scripts in backend/, the .env at the root (and one more beside the app here).
FULL_STACK = {
    ".env": "PROJECT_NAME=shop\nSECRET_KEY=root\n",
    "backend/.env": "SECRET_KEY=backend\n",
    "backend/alembic.ini": "[alembic]\nscript_location = app/alembic\n",
    "backend/app/__init__.py": "",
    "backend/app/alembic/env.py": "from app.models import Base\n",
    "backend/app/main.py": "from fastapi import FastAPI\nfrom app.core import settings\n"
    "app = FastAPI(openapi_url=f'{settings.API_V1_STR}/openapi.json')\n",
    "backend/app/core.py": "class Settings:\n    API_V1_STR = '/api/v1'\nsettings = Settings()\n",
    "backend/pyproject.toml": '[project]\nname = "app"\ndependencies = ["fastapi", "alembic"]\n',
    "frontend/package.json": '{"scripts": {"start": "vite"}}',
}


def test_nested_layout_finds_alembic_and_env_above_the_app() -> None:
    found = _detect(FULL_STACK)
    assert (found.framework, found.detected_from) == ("fastapi", "backend/app/main.py")
    assert "app.main:app --app-dir backend" in " ".join(found.argv)
    # alembic runs where its ini is: script_location and imports are relative to it.
    upgrade = ("{python}", "-m", "alembic.config", "upgrade", "heads")
    assert found.setup_steps() == [(upgrade, "backend")]
    files = {p: t.encode() for p, t in FULL_STACK.items()}
    assert dotenv_file(files, found.detected_from) == {
        "PROJECT_NAME": "shop",
        "SECRET_KEY": "backend",  # the nearer file wins
    }
    assert dotenv_file(files) == {"PROJECT_NAME": "shop", "SECRET_KEY": "root"}
    # An ini below the app's directory (or beside another app) is not the app's.
    elsewhere = {**FULL_STACK, "backend/alembic.ini": None, "tools/alembic.ini": "[alembic]\n"}
    assert _detect({p: t for p, t in elsewhere.items() if t is not None}).setup == ()
    # Given steps replace the detected ones, and run at the root.
    given = _detect(FULL_STACK, setup=["{python}", "seed.py"])
    assert given.setup_steps() == [(("{python}", "seed.py"), "")]


def test_documents_nested_past_the_parsers_limit_are_not_a_crash() -> None:
    """A package.json or pyproject.toml nested deeper than the decoders recurse is just
    unreadable (as a malformed one), never an exception escaping to a 500."""
    deep_json = ("[" * 100_000).encode()
    with pytest.raises(BadRequest) as refused:
        detect({"package.json": deep_json})
    assert refused.value.code == "nothing_to_run"
    deep_toml = ("a = " + "[" * 100_000).encode()
    files = {
        "pyproject.toml": deep_toml,
        "main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
    }
    assert detect(files).framework == "fastapi"
    # Unreadable, as none: the requirements are what main.py imports (when pipreqs'
    # mapping is installed; else none).
    assert python_dependencies(files, "main.py").requirements in ((), ("fastapi",))


@pytest.mark.parametrize(
    "path",
    ["app.json", "heroku.yml", "docker-compose.yml", "docker-compose.override.yml", "Pipfile"],
)
def test_the_files_declaring_processes_nested_past_the_parsers_limit_are_not_a_crash(
    path: str,
) -> None:
    """The files read for the processes beside the web one (app.json's formation,
    heroku.yml, a compose file and its overlay) and for a Procfile's ``pipenv run`` /
    ``pdm run`` scripts: nested deeper than json, PyYAML or tomllib recurse, each is
    unreadable as a malformed one is. Each let RecursionError through: a launch's 500."""
    deep = {
        "app.json": "[" * 100_000,
        "heroku.yml": "run:\n  worker: " + "[" * 100_000,
        "docker-compose.yml": "services:\n  worker:\n    command: " + "[" * 100_000,
        "docker-compose.override.yml": "services:\n  worker:\n    command: " + "[" * 100_000,
        "Pipfile": "[scripts]\nserve = " + "[" * 100_000,
    }[path]
    files = {
        "server.py": "print('hi')\n",
        "Procfile": "web: pipenv run serve\nworker: python worker.py\n",
        "docker-compose.yml": "services:\n  web:\n    build: .\n",
        path: deep,
    }
    found = _detect(files)
    assert found.argv == ("sh", "-c", "serve")  # the Pipfile's script, unread: its name
    assert [worker.name for worker in found.workers] == ["worker"]


def test_a_procfile_through_the_projects_environment_manager_runs_without_it() -> None:
    """flask-rest-hello's ``release: pipenv run upgrade``: pipenv is not installed here
    (the preview's environment is the one it would run in), and ``upgrade`` is its
    Pipfile's script; poetry, uv and pdm likewise, each part of a chained line."""
    files = {
        "src/app.py": "from flask import Flask\napp = Flask(__name__)\n",
        "Pipfile": '[packages]\nflask = "*"\n\n[scripts]\nupgrade = "flask db upgrade"\n',
        "Procfile": "release: pipenv run upgrade && pipenv run python seed.py\n"
        "web: pipenv run gunicorn wsgi --chdir ./src/\n",
    }
    found = _detect(files)
    assert found.setup[0] == ("sh", "-c", "flask db upgrade && python seed.py")
    assert found.argv == ("sh", "-c", "gunicorn wsgi --chdir ./src/ --threads 4")
    assert found.server == "gunicorn"
    for web in ("poetry run uvicorn main:app", "uv run --frozen uvicorn main:app"):
        assert _detect({**files, "Procfile": f"web: {web}\n"}).argv[2] == "uvicorn main:app"
    pdm = {"pyproject.toml": '[tool.pdm.scripts]\nserve = {cmd = "uvicorn main:app"}\n'}
    assert _detect({**files, **pdm, "Procfile": "web: pdm run serve\n"}).argv[2] == (
        "uvicorn main:app"
    )


def test_a_procfiles_python_server_runs_one_worker() -> None:
    """keerthana1247's learning-path-dashboard: ``gunicorn wsgi:app --workers 3``, each
    worker seeding its admin as it imported: "Duplicate entry 'admin@learnpath.local'"
    (and three times the app's memory). One worker, whatever the line gives; a Celery
    worker's own ``-w`` is no server's."""
    files = {"wsgi.py": "from flask import Flask\napp = Flask(__name__)\n"}
    lines = {
        "gunicorn wsgi:app --bind 0.0.0.0:$PORT --workers 3 --timeout 120": (
            "gunicorn wsgi:app --bind 0.0.0.0:$PORT --workers 1 --timeout 120 --threads 4"
        ),
        "python seed.py && gunicorn -w4 wsgi:app": (
            "python seed.py && gunicorn -w 1 wsgi:app --threads 4"
        ),
        "uvicorn wsgi:app --workers=${WEB_CONCURRENCY:-2}": "uvicorn wsgi:app --workers 1",
        "celery -A tasks worker -w 3": "celery -A tasks worker -w 3",
        # Threads or a worker class of its own: its concurrency is the app's.
        "gunicorn -w 2 -k gevent wsgi:app": "gunicorn -w 1 -k gevent wsgi:app",
        "gunicorn --threads=8 wsgi:app": "gunicorn --threads=8 wsgi:app",
        "gunicorn --worker-class uvicorn.workers.UvicornWorker wsgi:app": (
            "gunicorn --worker-class uvicorn.workers.UvicornWorker wsgi:app"
        ),
    }
    for line, run in lines.items():
        assert _detect({**files, "Procfile": f"web: {line}\n"}).argv[2] == run


def test_a_procfiles_app_factory_call_is_quoted_for_the_shell() -> None:
    """sandiJamlu23's Password-Manager-Flask: ``web: gunicorn app:create_app() --log-file
    -`` (its railway.toml and nixpacks.toml alike): run by sh as written, 'Syntax error:
    "(" unexpected', exit 2. The call is one word of gunicorn's, quoted as its
    documentation writes it; a quoted one, or another command's parentheses, are left."""
    factory = "from flask import Flask\ndef create_app():\n    return Flask(__name__)\n"
    files = {"app/__init__.py": factory}
    lines = {
        "gunicorn app:create_app() --log-file -": (
            "gunicorn 'app:create_app()' --log-file - --threads 4"
        ),
        'gunicorn "app:create_app()"': 'gunicorn "app:create_app()" --threads 4',
        'gunicorn app:create_app("production") -b :$PORT': (
            "gunicorn 'app:create_app(\"production\")' -b :$PORT --threads 4"
        ),
        "(gunicorn app:create_app())": "(gunicorn 'app:create_app()' --threads 4)",
    }
    for line, run in lines.items():
        argv = _detect({**files, "Procfile": f"web: {line}\n"}).argv
        assert argv[2] == run
        assert subprocess.run(["sh", "-n", "-c", argv[2]], check=False).returncode == 0, run


def test_a_procfiles_uwsgi_must_load_its_app() -> None:
    """gomespgp's first-flask-restful-api: ``web: uwsgi uwsgi.ini``; its app failed to
    import (Werkzeug's safe_str_cmp gone) and uWSGI 2.0 served 500s in "full dynamic mode",
    never a failed start: told ``--need-app``, it exits, and the failure is one."""
    files = {"app.py": "from flask import Flask\napp = Flask(__name__)\n"}
    lines = {
        "uwsgi uwsgi.ini": "uwsgi uwsgi.ini --need-app",
        "uwsgi --ini uwsgi.ini --need-app": "uwsgi --ini uwsgi.ini --need-app",
        "python seed.py && uwsgi --http :$PORT -w app:app": (
            "python seed.py && uwsgi --http :$PORT -w app:app --need-app"
        ),
    }
    for line, run in lines.items():
        assert _detect({**files, "Procfile": f"web: {line}\n"}).argv[2] == run


def test_the_module_that_adds_to_an_imported_app_is_the_one_served() -> None:
    """leosussan's fastapi-gino-arq-uvicorn: app/application.py makes the app, app/main.py
    (which its image serves) imports it and includes its routers. Flask's layout, whose
    package imports its routes module back, stays the package's app."""
    files = {
        "app/__init__.py": b"",
        "app/application.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
        "app/routes/users.py": b"from fastapi import APIRouter\nrouter = APIRouter()\n",
        "app/main.py": (
            b"from app.application import app\nfrom app.routes.users import router\n"
            b"for r in (router,):\n    app.include_router(r)\n"
        ),
    }
    found = find_app(files)
    assert found is not None and (found.module, found.attr) == ("app.main", "app")
    flask = {
        "app/__init__.py": (
            b"from flask import Flask\napp = Flask(__name__)\nfrom app import routes\n"
        ),
        "app/routes.py": b"from app import app\n@app.route('/')\ndef index():\n    return 'hi'\n",
    }
    found = find_app(flask)
    assert found is not None and found.path == "app/__init__.py"
    # A test module adding a route to the app it tests (an error handler's check) is
    # not the app served: it imports pytest, and its route is the test's alone.
    tested = {
        "main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
        "tests/test_errors.py": b"from main import app\n@app.get('/boom')\ndef boom(): ...\n",
        "conftest.py": b"from main import app\napp.add_middleware(object)\n",
    }
    found = find_app(tested)
    assert found is not None and (found.path, found.attr) == ("main.py", "app")


def test_an_app_reached_through_a_chain_of_star_imports_is_served_where_routes_are_added() -> None:
    """rropppe's Flask-weather-app: main.py makes the app; app.py, which its author runs,
    adds every route to it through ``from forms import *`` → ``from models import *`` →
    ``from main import *``. Served as main:app, none of its 9 routes existed."""
    route = b"@app.route('/')\ndef index():\n    return 'hi'\n"
    files = {
        "main.py": b"from flask import Flask\napp = Flask(__name__)\n",
        "models.py": b"from main import *\n",
        "forms.py": b"from models import *\n",
        "app.py": b"from forms import *\n\n" + route,
    }
    found = find_app(files)
    assert found is not None and (found.path, found.attr) == ("app.py", "app"), found
    # A cycle of star imports ends; a chain that reaches no module of the app's is not one.
    cycle = {**files, "models.py": b"from forms import *\n"}
    assert find_app(cycle).path == "main.py"
    assert find_app({**files, "models.py": b"from flask import *\n"}).path == "main.py"


def test_the_module_run_as_a_script_that_sets_the_app_up_is_the_one_served() -> None:
    """Gaitano123's chats-api: server/models.py makes the app; server/app.py, run by its
    author as ``python app.py``, gives it its settings, database, Flask-Migrate and every
    route (``Api(app)``, namespaces). Served as models:app: no route, no ``db`` command.
    A run.py that only runs it leaves the app where it is made."""
    models = b"from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n"
    models += b"app = Flask(__name__)\ndb = SQLAlchemy()\n"
    main = b"if __name__ == '__main__':\n    app.run(debug=True, port=5555)\n"
    setups = (
        b"app.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite:///app.db'\n",
        b"migrate = Migrate(app, db)\n",
        b"db.init_app(app)\n",
        b"api = Api(app)\n",
    )
    for setup in setups:
        served = b"from models import db, app\n" + setup + main
        files = {"server/models.py": models, "server/app.py": served}
        found = find_app(files)
        assert found is not None and (found.path, found.module) == ("server/app.py", "app")
    only_runs = {"server/models.py": models, "server/run.py": b"from models import app\n" + main}
    assert find_app(only_runs).path == "server/models.py"
    unrun = {"server/models.py": models, "server/app.py": b"from models import app\nCORS(app)\n"}
    assert find_app(unrun).path == "server/models.py"


def test_an_app_object_nothing_uses_gives_way_to_the_factory_with_routes() -> None:
    """felipe0365's rest-flask-bookmark-api: ``src/app.py`` holds only ``app =
    Flask(__name__)``, its routes are ``src/__init__.py``'s ``create_app()``'s; the
    object was served and every route answered 404. One its module uses, or one another
    module imports (``from src.app import app`` and its routes there), stays first."""
    stub = b"from flask import Flask\n\n\napp = Flask(__name__)\n"
    factory = (
        b"from flask import Flask\nfrom src.auth import auth\n\n"
        b"def create_app():\n    app = Flask(__name__)\n    app.register_blueprint(auth)\n"
        b"    return app\n"
    )
    auth = b"from flask import Blueprint\nauth = Blueprint('auth', __name__)\n"
    files = {"src/app.py": stub, "src/__init__.py": factory, "src/auth.py": auth}
    found = find_app(files)
    assert found is not None and (found.path, found.attr) == ("src/__init__.py", "create_app")
    used = {**files, "src/app.py": stub + b"\n@app.get('/')\ndef home():\n    return 'x'\n"}
    found = find_app(used)
    assert found is not None and found.path == "src/app.py", found
    imported = {**files, "src/auth.py": auth + b"from src.app import app\n"}
    found = find_app(imported)
    assert found is not None and found.path == "src/app.py", found


def test_of_the_modules_binding_one_cached_app_the_one_routing_it_is_served() -> None:
    """sangreguerrer's FlaskHW: ``app.py``'s ``@cache`` ``get_app()`` makes one Flask app,
    which auth.py, tools.py and pg.py each bind (``app = get_app()``); only pg.py adds
    its routes (``add_url_rule``). Served as auth.py's, every route answered 404."""
    factory = b"from functools import cache\nfrom flask import Flask\n\n\n@cache\ndef get_app():\n"
    factory += b"    app = Flask('arhub')\n    return app\n"
    binds = b"from app import get_app\n\napp = get_app()\n"
    routes = binds + b"from views import view\napp.add_url_rule('/user', view_func=view)\n"
    files = {"app.py": factory, "auth.py": binds, "tools.py": binds, "pg.py": routes}
    found = find_app(files)
    assert found is not None and (found.path, found.attr) == ("pg.py", "app"), found


def test_the_app_its_module_decorates_with_routes_is_served_before_one_with_none() -> None:
    """kylanalicia's flask-pizza-restaurant: ``manage.py``'s ``app = create_app()`` makes an
    app with no route, ``app/routes.py``'s own ``Flask`` holds all seven (served as the
    former, every route answered 404). Where the upload routes another way too (a
    blueprint the factory registers), nothing can tell, and the usual order stands."""
    factory = (
        b"from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n"
        b"def create_app():\n    app = Flask(__name__)\n    db.init_app(app)\n    return app\n"
    )
    manage = b"from app import create_app, db\n\napp = create_app()\n"
    routes = (
        b"from flask import Flask, jsonify\nfrom models import db\n\napp = Flask(__name__)\n"
        b"db.init_app(app)\n\n@app.route('/restaurants', methods=['GET'])\n"
        b"def restaurants():\n    return jsonify([])\n"
    )
    models = b"from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n"
    files = {
        "app/__init__.py": factory,
        "manage.py": manage,
        "app/routes.py": routes,
        "app/models.py": models,
    }
    found = find_app(files)
    assert found is not None and (found.path, found.attr) == ("app/routes.py", "app"), found
    blueprint = b"from flask import Blueprint\nbp = Blueprint('bp', __name__)\n"
    routed_too = {**files, "app/views.py": blueprint}
    found = find_app(routed_too)
    assert found is not None and found.path == "manage.py", found


def test_a_factory_that_calls_another_and_sets_its_app_up_is_the_one_served() -> None:
    """demetrzz's fastapi_basic_template: ``create_app()`` is ``init_app()`` plus its Dishka
    container, which every route's injection needs; served as ``init_app``, each answered
    500 ('State' object has no attribute 'dishka_container'). A ``run_app()`` that serves
    what it made (returning nothing) is not a factory."""
    web = b"""from fastapi import FastAPI

def init_app() -> FastAPI:
    app = FastAPI()
    return app

def create_app() -> FastAPI:
    app = init_app()
    setup_dishka(container, app)
    return app

def run_app():
    app = create_app()
    uvicorn.run(app)
"""
    found = find_app({"src/task_manager/main/web.py": web})
    assert found is not None and (found.attr, found.factory) == ("create_app", True), found
    alone = web.split(b"def create_app")[0] + b"def run_app():\n    uvicorn.run(init_app())\n"
    found = find_app({"src/task_manager/main/web.py": alone})
    assert found is not None and found.attr == "init_app", found
    # nickjj's flask-docker-example: create_celery_app() calls create_app() and returns
    # the Celery app it makes from it (bound at module level as celery_app): no factory of
    # what a server serves ("Application object must be callable").
    flask = b"""from celery import Celery
from flask import Flask

def create_celery_app(app=None):
    app = app or create_app()
    celery = Celery(app.import_name)
    return celery

def create_app(settings_override=None):
    app = Flask(__name__)
    return app

celery_app = create_celery_app()
"""
    found = find_app({"hello/app.py": flask})
    assert found is not None and (found.attr, found.factory) == ("create_app", True), found


def _bytes(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


def test_an_app_is_imported_from_where_its_own_imports_resolve() -> None:
    """alibigdeli's FastApi-Blog-Authentication-App: ``core/main.py`` imports
    ``core.config`` (``core/core/config.py``) and ``blog`` (``core/blog``), as its
    Dockerfile runs it (``COPY ./core .``, ``uvicorn main:app``); read as the root's
    ``core.main``, uvicorn could not import it."""
    found = detect(_bytes("fastapi_app_dir_imports"))
    assert found.detected_from == "core/main.py"
    assert "main:app" in found.argv and "--app-dir" in found.argv
    assert found.argv[found.argv.index("--app-dir") + 1] == "core"
    # A package imported by its own name from the root stays the root's.
    files = {
        "requirements.txt": b"fastapi\n",
        "app/__init__.py": b"",
        "app/main.py": b"from fastapi import FastAPI\nfrom app.routes import r\napp = FastAPI()\n",
        "app/routes.py": b"r = None\n",
    }
    assert "app.main:app" in detect(files).argv


def test_the_module_a_declared_start_serves_is_the_app() -> None:
    """emnopal's flask-jwt-auth: its app is made in ``src/__init__.py`` and given its API
    by another module (flask-restful's ``Api(app).add_resource``); its Dockerfile serves
    ``wsgi:app``, which imports it from there. Served from ``src``, every route was 404."""
    found = detect(_bytes("flask_declared_wsgi"))
    assert found.detected_from == "wsgi.py" and found.argv[-1] == "wsgi:app"
    # A declared module that does not bind the name (or is not in the upload) says nothing.
    files = _bytes("flask_declared_wsgi")
    files["Dockerfile"] = b"FROM python:3.11\nCMD gunicorn --bind 0.0.0.0:80 server:application\n"
    assert detect(files).detected_from == "src/__init__.py"


def test_a_declared_start_runs_in_the_folder_its_image_holds_the_app_in() -> None:
    """Sami-07's analytics-fastapi: its Dockerfile copies ``./src`` into ``WORKDIR /code``
    and its compose service runs ``uvicorn main:app`` there; a stale main.py at the root
    imports ``src.api…``, whose modules import ``api…``: served from the root, "No module
    named 'api'". The declared ``main:app`` is src/main.py's."""
    routes = b"from fastapi import APIRouter\nrouter = APIRouter()\n"
    files = {
        "main.py": b"from fastapi import FastAPI\nfrom src.api.events import router\n"
        b"app = FastAPI()\napp.include_router(router)\n",
        "src/main.py": b"from fastapi import FastAPI\nfrom api.events import router\n"
        b"app = FastAPI()\napp.include_router(router)\n",
        "src/api/events/__init__.py": b"from api.events.routing import router\n",
        "src/api/events/routing.py": routes,
        "requirements.txt": b"fastapi\nuvicorn\n",
        "Dockerfile": b"FROM python:3.13-slim\nWORKDIR /code\nCOPY requirements.txt /tmp/\n"
        b'COPY ./src /code\nCMD ["/opt/run.sh"]\n',
        "docker-compose.yaml": b"services:\n  app:\n    build: .\n"
        b"    command: uvicorn main:app --host 0.0.0.0 --port 8002 --reload\n",
    }
    found = detect(files)
    assert found.detected_from == "src/main.py" and "main:app" in found.argv, found.argv
    # Its image holding the root (``COPY . .``): the root's main.py, as before.
    files["Dockerfile"] = files["Dockerfile"].replace(b"COPY ./src /code", b"COPY . .")
    assert detect(files).detected_from == "main.py"


def test_a_declared_asgi_module_is_served_as_asgi_whatever_its_worker_says() -> None:
    """gabrielbentog's django-auth-api: render.yaml's ``gunicorn django_auth_api.asgi:
    application -k uvicorn.workers.UvicornWorke`` (a letter short), served as WSGI: every
    request met "ASGIHandler.__call__() missing 1 required positional argument"."""
    settings = b"SECRET_KEY = 'x'\nROOT_URLCONF = 'project.urls'\nINSTALLED_APPS = []\n"
    django = b"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'project.settings')\n"
    wsgi = b"from django.core.wsgi import get_wsgi_application\n"
    asgi = b"from django.core.asgi import get_asgi_application\n"
    files = {
        "manage.py": django,
        "project/__init__.py": b"",
        "project/settings.py": settings,
        "project/urls.py": b"urlpatterns = []\n",
        "project/wsgi.py": wsgi + b"application = get_wsgi_application()\n",
        "project/asgi.py": asgi + b"application = get_asgi_application()\n",
        "requirements.txt": b"django\ngunicorn\nuvicorn\n",
    }
    start = "gunicorn project.asgi:application -k uvicorn.workers.UvicornWorke"
    render = f'services:\n  - type: web\n    startCommand: "{start}"\n'
    found = detect({**files, "render.yaml": render.encode()})
    assert found.argv[2:4] == ("uvicorn", "project.asgi:application"), found.argv
    # Its wsgi.py declared so: served by gunicorn, as WSGI.
    served = render.replace("asgi:application -k uvicorn.workers.UvicornWorke", "wsgi:application")
    found = detect({**files, "render.yaml": served.encode()})
    assert "gunicorn.app.wsgiapp" in found.argv and found.argv[-1] == "project.wsgi:application"


def test_a_module_a_package_of_its_name_shadows_is_not_served(tmp_path: Path) -> None:
    """amastour's flask-product-api: ``src/app.py`` (an early draft) beside the package
    ``src/app/``, which ``import app`` finds first: served as ``app:app``, gunicorn said
    "module 'app' has no attribute 'app'". Its Dockerfile runs ``python3 /src/manage.py
    run`` (Flask-Script), whose module binds the app the package's factory makes: served.
    """
    package = (
        b"from flask import Flask\ndef create_app(config='dev'):\n"
        b"    app = Flask(__name__)\n    app.add_url_rule('/', 'home', lambda: 'hi')\n"
        b"    return app\n"
    )
    files = {
        "src/app.py": b"from flask import Flask\napp = Flask(__name__)\n",
        "src/app/__init__.py": package,
        "src/manage.py": b"from app import create_app\napp = create_app('dev')\n",
        "testo/app.py": b"from flask import Flask\napp = Flask(__name__)\n",  # a scratch one
        "requirements.txt": b"flask\n",
    }
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    shadowed = [sys.executable, "-c", "from app import app"]
    refused = subprocess.run(shadowed, cwd=tmp_path / "src", capture_output=True, text=True)
    assert "cannot import name 'app'" in refused.stderr
    found = detect(files)
    assert found.detected_from != "src/app.py"
    files["Dockerfile"] = b'FROM ubuntu:18.04\nCMD ["python3", "/src/manage.py", "run"]\n'
    found = detect(files)
    assert found.detected_from == "src/manage.py" and found.argv[-2:] == ("src", "manage:app")
    served = [sys.executable, "-c", "from manage import app; print(app.name)"]
    shown = subprocess.run(served, cwd=tmp_path / "src", capture_output=True, text=True)
    assert shown.stdout.strip() == "app", shown.stderr


def test_flask_db_loads_the_app_a_module_registers_flask_migrate_on_as_it_imports_it() -> None:
    """DenerRodrigues' flask-restful-api-example: its Flask-Script ``manage.py`` makes no
    app, it imports the one that serves and calls ``Migrate(app=app, db=db)``; ``flask db
    upgrade`` was pointed at the serving module, where no ``db`` command is registered
    ("KeyError: 'migrate'")."""
    detection = detect(_bytes("flask_migrate_imported_app"))
    assert detection.setup_steps() == [
        (("env", "FLASK_APP=manage:app", "{python}", "-m", "flask", "db", "upgrade", "heads"), "")
    ]


def test_a_nest_app_whose_env_example_loads_typescript_runs_its_source() -> None:
    """JuniorZilles' todo-list-nestjs-typeorm passes TYPEORM_MIGRATIONS from its
    .env.example (src/migrations/**/*.ts) to TypeORM, which runs them at start: its
    start:prod (node dist/main, NestJS has no package.json main) required a .ts file and
    died on its syntax ('Unexpected strict mode reserved word'). The source of the built
    entry its script runs starts instead, with ts-node (its tsconfig asks for decorator
    metadata)."""
    scripts = {
        "build": "nest build",
        "start": "nest start",
        "start:dev": "nest start --watch",
        "start:prod": "node dist/main",
    }
    package = {
        "scripts": scripts,
        "dependencies": {"@nestjs/core": "^9", "typeorm": "^0.3", "mysql2": "^2"},
        "devDependencies": {"ts-node": "^10", "typescript": "^4"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "tsconfig.json": b'{"compilerOptions": {"emitDecoratorMetadata": true, "outDir": "dist"}}',
        ".env.example": b"TYPEORM_HOST=db\nTYPEORM_MIGRATIONS=src/migrations/**/*.ts\n",
        "src/main.ts": b"",
        "src/migrations/1657308260232-migrations.ts": b"",
        "src/module/database/database.module.ts": b"migrations: [process.env.TYPEORM_MIGRATIONS]",
    }
    found = detect(files)
    assert found.argv == ("node_modules/.bin/ts-node", "--transpile-only", "src/main.ts")
    assert found.setup == ()
    assert found.notes == [
        "its ORM loads src/migrations/**/*.ts (.env.example) at run time, which the built "
        "JavaScript cannot: running src/main.ts with ts-node"
    ]


def test_ts_node_in_an_es_module_project_runs_as_its_loader() -> None:
    """DmitriyMolochkov's koa-boilerplate ("type": "module") starts with ``ts-node
    src/index.ts``, which failed on Node 20 (ERR_UNKNOWN_FILE_EXTENSION for src/index.ts)
    while its migrations, through ts-node's loader (typeorm-ts-node-esm), ran."""
    scripts = {"start": "ts-node src/index.ts", "deploy": "ts-node --swc src/index.ts"}
    package = {"type": "module", "scripts": scripts, "devDependencies": {"ts-node": "^10"}}
    files = {"package.json": json.dumps(package).encode(), "src/index.ts": b""}
    found = detect(files)
    line = "TS_NODE_TRANSPILE_ONLY=true node --loader ts-node/esm src/index.ts"
    assert found.argv == ("sh", "-c", f'export PATH="$PWD/node_modules/.bin:$PATH"; {line}')
    assert found.node_tools == ()
    # ts-node's ES module command under its other name (VolframL's express-hw:
    # ``"start": "ts-node-esm src/index.ts"``): the same loader.
    files["package.json"] = json.dumps(
        {**package, "scripts": {"start": "ts-node-esm src/index.ts"}}
    ).encode()
    assert detect(files).argv == found.argv
    files["package.json"] = json.dumps(package).encode()
    # A CommonJS project's ts-node runs as its command, its type check off (the build's).
    files["package.json"] = json.dumps({**package, "type": "commonjs"}).encode()
    line = "ts-node --transpile-only src/index.ts"
    assert detect(files).argv == ("sh", "-c", f'export PATH="$PWD/node_modules/.bin:$PATH"; {line}')
    # Its tsconfig emitting CommonJS, which the loader would put in an ES module's scope
    # (Zan-Mhmmdr's express-store: "exports is not defined in ES module scope"): tsx.
    files["package.json"] = json.dumps(package).encode()
    files["tsconfig.json"] = b'{"compilerOptions": {"module": "CommonJS", "outDir": "dist"}}'
    found = detect(files)
    assert found.argv == (
        "sh",
        "-c",
        'export PATH="$PWD/node_modules/.bin:$PATH"; tsx src/index.ts',
    )
    assert any(tool.startswith("tsx@") for tool in found.node_tools), found.node_tools


def test_ts_node_runs_without_nodes_debugger_flags() -> None:
    """govorov's graphql-typeorm-koa-workshop: a bare ``nodemon`` whose nodemon.json runs
    ``ts-node --inspect -r tsconfig-paths/register ./src/server.ts``, written for ts-node 3,
    which passed node's flags on; ts-node 10 refused it ("Unknown or unexpected option:
    --inspect") in every plan. It runs without the debugger's flags (no debugger attaches
    to a preview)."""
    nodemon = b'{"exec": "ts-node --inspect -r tsconfig-paths/register ./src/server.ts"}'
    package = {"scripts": {"start": "nodemon"}, "dependencies": {"ts-node": "^3.3.0"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "nodemon.json": nodemon,
        "src/server.ts": b"",
    }
    written = nodemon_config_file(files)
    assert written is not None
    assert json.loads(written)["exec"] == "ts-node -r tsconfig-paths/register ./src/server.ts"
    found = detect(files)  # its later plans alike
    assert not any("--inspect" in plan.command for plan in found.plans), found.plans
    assert nodemon_config_file({**files, "nodemon.json": b'{"exec": "ts-node src/a.ts"}'}) is None


def test_a_tsx_dev_script_runs_through_ts_node_where_decorator_metadata_is_needed() -> None:
    """pepemolnar's node-fastify-typeorm has TypeORM load src/migrations/*.ts at run time,
    so its dev script runs (tsx watch --env-file=.env src/index.ts); tsx emits no
    decorator metadata, which its tsconfig asks for and its entities need: TypeORM failed
    (ColumnTypeUndefinedError). Its ts-node's loader runs it (its own typeorm script's)."""
    scripts = {
        "dev": "tsx watch --env-file=.env src/index.ts",
        "start": "node --env-file=.env dist/index.js",
        "build": "tsc",
    }
    package = {
        "type": "module",
        "scripts": scripts,
        "dependencies": {"typeorm": "^1.0.0", "pg": "^8"},
        "devDependencies": {"ts-node": "^10.9.2", "tsx": "^4"},
    }
    source = b'export const s = new DataSource({migrations: ["src/migrations/*.ts"]});'
    files = {
        "package.json": json.dumps(package).encode(),
        "tsconfig.json": b'{"compilerOptions": {"emitDecoratorMetadata": true}}',
        "src/index.ts": b"",
        "src/data-source.ts": source,
    }
    line = "TS_NODE_TRANSPILE_ONLY=true node --env-file=.env --loader ts-node/esm src/index.ts"
    assert detect(files).argv[-1].endswith(line)
    # No decorator metadata asked for: tsx, as its script says.
    files["tsconfig.json"] = b'{"compilerOptions": {}}'
    assert detect(files).argv[-1].endswith("; tsx --env-file=.env src/index.ts")


def test_an_app_only_a_declared_start_names_is_served_as_it_says() -> None:
    """ILugaro's fastapi-postgresql-alembic-docker's shape: the FastAPI app is made in a
    class's constructor and bound by ``app = api_service.get_app()`` in ``src/main.py``,
    which no reading of the modules takes for an app; its compose service (``build:
    ./src``) serves it with ``uvicorn main:app``. That start is the app's: served from
    its folder, the framework the one whose class the upload calls."""
    files = app_files("fastapi_compose_declared_app")
    found = _detect(files)
    assert (found.framework, found.detected_from, found.asgi) == ("fastapi", "src/main.py", True)
    assert found.argv[3:6] == ("main:app", "--app-dir", "src"), found.argv
    # A gunicorn start serves a WSGI app; a name the module does not bind is no app.
    flask = {
        "Dockerfile": 'FROM python:3.12\nCMD ["gunicorn", "-b", "0.0.0.0:80", "wsgi:server"]\n',
        "wsgi.py": "from site_factory import build\nserver = build()\n",
        "site_factory.py": "import flask\ndef build():\n    return flask.Flask('s')\n",
    }
    found = _detect(flask)
    assert (found.framework, found.server, found.detected_from) == ("flask", "gunicorn", "wsgi.py")
    # A module that binds no app: the function returning the app it makes is its factory
    # (slev-v's fastapi-user, ``init_api``), served as one.
    found = _detect({**flask, "wsgi.py": "from site_factory import build\n"})
    assert found.detected_from == "site_factory.py" and found.argv[-1] == "site_factory:build()"
    # SteventsStuff's JWTAuthFlaskAPI: no Dockerfile, a boot.sh its image would run, its
    # server's line last (after a migration, exported settings); refused before, nothing
    # to run.
    boot = "#!/bin/sh\nexport FLASK_APP=run.py\nflask db upgrade\nexec gunicorn -w 1 run:app\n"
    scripted = {
        "boot.sh": boot,
        "run.py": "from factory import Api\napi = Api()\napp = api.flask_app\n",
        "factory.py": "from flask import Flask\nclass Api:\n    def __init__(self):\n"
        "        self._app: Flask = Flask(__name__)\n"
        "    @property\n    def flask_app(self) -> Flask:\n        return self._app\n",
    }
    found = _detect(scripted)
    assert (found.framework, found.detected_from, found.argv[-1]) == ("flask", "run.py", "run:app")
    # amingolmahalle's TodoFlask: its app made under ``if __name__ == '__main__'``, which
    # its Makefile's dev target runs; a test target is no start.
    made = "from flask import Flask\nif __name__ == '__main__':\n    Flask(__name__).run()\n"
    makefile = "test:\n\tpython -m unittest\ndev:\n\t@python src/main.py --log=INFO\n"
    found = _detect({"makefile": makefile, "src/main.py": made, "requirements.txt": "flask\n"})
    assert "src/main.py" in " ".join(found.argv), found.argv


def test_an_app_set_up_only_in_its_main_block_is_served_with_that_set_up(tmp_path: Path) -> None:
    """neurothrone's store-flask-rest-api-sqlalch calls ``db.init_app(app)`` only under
    ``if __name__ == "__main__":`` before ``app.run()``: served as imported, every route
    answered 500 "The sqlalchemy extension was not registered". Served through a module
    that imports it and runs that block's set-up, its server not started."""
    files = {p: t.encode() for p, t in app_files("flask_main_block_init_app").items()}
    start = ("{python}", "-m", "gunicorn.app.wsgiapp", "--bind", "127.0.0.1:{port}", "src.app:app")
    argv, folder, text = main_setup_served(start, files)
    assert argv[-1] == "_preview_served:app" and argv[:-1] == start[:-1] and folder == ""
    assert text is not None and b"store.init_app(app)" in text
    for path, data in {**files, MAIN_SETUP: text}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    probe = "from _preview_served import app; print(sorted(app.extensions), app.config['STORE'])"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{tmp_path / 'src'}"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.split() == ["['store']", "memory"], done.stderr
    # A block doing anything else (reading its arguments), or setting nothing up: as it is.
    source = files["src/app.py"]
    parsed = source.replace(b'    app.config["STORE"]', b"    port = int(sys.argv[1])\n    x")
    assert main_setup_served(start, {**files, "src/app.py": parsed})[2] is None
    bare = source.split(b'if __name__ == "__main__":')[0] + b'if __name__ == "__main__":\n'
    assert main_setup_served(start, {**files, "src/app.py": bare + b"    app.run()\n"})[2] is None
    keyed = bare + b"    app.secret_key = 'x'\n    app.run()\n"  # an attribute of it: set-up
    assert main_setup_served(start, {**files, "src/app.py": keyed})[2] is not None


def test_routes_imported_only_in_the_main_block_are_served(tmp_path: Path) -> None:
    """RamiroPintos' Flask-EventPage imports its routes modules (``from routes.routes import
    *``, whose ``@app.route``s are its every route) only under ``if __name__ ==
    "__main__":`` before ``app.run()``: served as imported, all ten answered 404. An import
    of the upload's own module there is set-up; one of an installed package alone is not."""
    files = {
        "app.py": b"from flask import Flask\napp = Flask(__name__)\n"
        b"if __name__ == '__main__':\n    from routes.routes import *\n    app.run()\n",
        "routes/__init__.py": b"",
        "routes/routes.py": b"from app import app\n@app.route('/x')\ndef x():\n    return 'x'\n",
    }
    start = ("{python}", "-m", "gunicorn.app.wsgiapp", "--bind", "127.0.0.1:{port}", "app:app")
    argv, folder, text = main_setup_served(start, files)
    assert argv[-1] == "_preview_served:app" and folder == ""
    assert text is not None and b"from routes.routes import *" in text
    for path, data in {**files, MAIN_SETUP: text}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    probe = (
        "from _preview_served import app; print(sorted(r.rule for r in app.url_map.iter_rules()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0 and "'/x'" in done.stdout, done.stderr
    installed = files["app.py"].replace(b"from routes.routes import *", b"import json")
    assert main_setup_served(start, {**files, "app.py": installed})[2] is None


def test_the_set_up_of_a_main_function_its_main_block_calls_is_run(tmp_path: Path) -> None:
    """akoudad14's flaskProject: its ``__main__`` block calls ``main()``, which runs
    ``initialize_app(app)`` (its blueprint and API namespaces) then ``app.run()``; served as
    imported, its two routes answered 404. That function's set-up is run before it is
    served; not a function taking arguments."""
    app = b"""from flask import Flask, Blueprint
app = Flask(__name__)
def initialize_app(flask_app):
    blueprint = Blueprint('api', __name__, url_prefix='/api')
    blueprint.add_url_rule('/x', 'x', lambda: 'x')
    flask_app.register_blueprint(blueprint)
def main():
    initialize_app(app)
    app.run()
if __name__ == "__main__":
    main()
"""
    files = {"app.py": app}
    start = ("{python}", "-m", "gunicorn.app.wsgiapp", "--bind", "127.0.0.1:{port}", "app:app")
    argv, _, text = main_setup_served(start, files)
    assert argv[-1] == "_preview_served:app" and text is not None
    for path, data in {**files, MAIN_SETUP: text}.items():
        (tmp_path / path).write_bytes(data)
    probe = (
        "from _preview_served import app; print(sorted(r.rule for r in app.url_map.iter_rules()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "'/api/x'" in done.stdout, done.stderr
    taking = app.replace(b"def main():", b"def main(port=5000):")
    assert main_setup_served(start, {"app.py": taking})[2] is None


def test_the_apps_own_set_up_calls_in_the_main_block_are_run_before_it_is_served(
    tmp_path: Path,
) -> None:
    """FreekStraten's boggle-flask-2023: its ``__main__`` block calls
    ``create_database()`` (imported from its database module), sets ``app.secret_key``,
    then ``app.run()``; served as imported, /users answered 500 "no such table: players"
    and /logout "no secret key was set". The app's own functions called there with no
    argument are its set-up, run before it is served; another's call is not."""
    files = {
        "app.py": b"from flask import Flask, session\nfrom database import create_database\n"
        b"app = Flask(__name__)\n"
        b"@app.route('/users')\ndef users():\n    import sqlite3\n"
        b"    db = sqlite3.connect('boggle.db')\n"
        b"    return str(db.execute('SELECT * FROM players').fetchall())\n"
        b"if __name__ == '__main__':\n    create_database()\n"
        b"    app.secret_key = 'fiawhf'\n    app.run()\n",
        "database.py": b"import sqlite3\ndef create_database():\n"
        b"    sqlite3.connect('boggle.db').execute('CREATE TABLE IF NOT EXISTS players (id)')\n",
    }
    start = ("{python}", "-m", "gunicorn.app.wsgiapp", "--bind", "127.0.0.1:{port}", "app:app")
    argv, folder, text = main_setup_served(start, files)
    assert argv[-1] == "_preview_served:app" and folder == "" and text is not None
    for path, data in {**files, MAIN_SETUP: text}.items():
        (tmp_path / path).write_bytes(data)
    probe = (
        "from _preview_served import app; print(app.secret_key); "
        "print(app.test_client().get('/users').status_code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.split() == ["fiawhf", "200"], done.stderr
    # A call of an installed package's function there is not the app's set-up.
    other = files["app.py"].replace(b"    create_database()\n", b"    webbrowser.open()\n")
    assert main_setup_served(start, {**files, "app.py": other})[2] is None


def test_a_main_blocks_own_module_call_with_literals_and_its_apis_routes_are_set_up() -> None:
    """ipapMaster's flaskLessons: its ``__main__`` block calls
    ``db_session.global_init('db/news.sqlite')`` (its own module's, which makes the
    session factory every route calls) and ``api.add_resource(…)`` on ``api =
    Api(app)``, then ``app.run()``; served as imported, / answered 500 ("'NoneType'
    object is not callable"). Both are its set-up; a call given a variable is not."""
    files = {
        "main.py": b"from flask import Flask\nfrom flask_restful import Api\n"
        b"from data import db_session\nimport news_resources\n"
        b"app = Flask(__name__)\napi = Api(app)\n"
        b"if __name__ == '__main__':\n    db_session.global_init('db/news.sqlite')\n"
        b"    api.add_resource(news_resources.NewsListResource, '/api/v2/news')\n"
        b"    app.run(host='127.0.0.1', port=5000, debug=True)\n",
        "data/__init__.py": b"",
        "data/db_session.py": b"created = None\ndef global_init(db_file):\n    pass\n",
        "news_resources.py": b"class NewsListResource:\n    pass\n",
    }
    start = ("{python}", "-m", "gunicorn.app.wsgiapp", "--bind", "127.0.0.1:{port}", "main:app")
    argv, _, text = main_setup_served(start, files)
    assert argv[-1] == "_preview_served:app" and text is not None
    assert b"api.add_resource" in text, text
    variable = files["main.py"].replace(b"global_init('db/news.sqlite')", b"global_init(path)")
    assert main_setup_served(start, {**files, "main.py": variable})[2] is None


def test_an_app_whose_code_names_its_folders_files_runs_in_that_folder() -> None:
    """bantosJerry's Dockerized FastAPI CRUD app reads ``static/home.html`` from the
    folder its image runs it in (``app/``); a WSGI app alike gets gunicorn's --chdir."""
    files = app_files("fastapi_runs_in_its_folder")
    found = _detect(files)
    assert found.argv[:5] == ("sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", "app")
    assert found.argv[5:9] == ("{python}", "-m", "uvicorn", "main:app")
    assert "--app-dir" not in found.argv
    flask = {
        "app/wsgi.py": "from flask import Flask\napp = Flask(__name__)\n"
        "app.config.from_pyfile('settings.cfg')\n",
        "app/settings.cfg": "DEBUG = False\n",
    }
    assert "--chdir app wsgi:app" in " ".join(_detect(flask).argv)
    # Where the paths it names are the root's, it runs at the root as before.
    at_root = {**files, "static/home.html": "<h1>root</h1>", "static/site.css": ""}
    at_root = {p: t for p, t in at_root.items() if not p.startswith("app/static/")}
    assert _detect(at_root).argv[3:6] == ("main:app", "--app-dir", "app")
    # Paths one up from its folder name its sibling's files (xianhawk's fastapi-messenger,
    # run from messenger/backend: ``StaticFiles(directory="../frontend/static")``).
    sibling = {
        "messenger/backend/main.py": "from fastapi import FastAPI\n"
        "from fastapi.staticfiles import StaticFiles\nfrom fastapi.templating import "
        "Jinja2Templates\n\napp = FastAPI()\napp.mount('/static', StaticFiles(directory="
        "'../frontend/static'), name='static')\ntemplates = Jinja2Templates(directory="
        "'../frontend/templates')\n",
        "messenger/frontend/static/main.css": "",
        "messenger/frontend/templates/index.html": "<h1>chat</h1>",
        "requirements.txt": "fastapi\n",
    }
    assert _detect(sibling).argv[4:6] == ("messenger/backend", "{python}")
    # A word given where a name is taken names no folder (nshib00's myvkfeed-fastapi: its
    # mount's name "static" and its models' ``back_populates="posts"``, while its
    # ``StaticFiles(directory='app/static')`` names the root's): run at the root.
    named = {
        "app/main.py": "from fastapi import FastAPI\nfrom fastapi.staticfiles import "
        "StaticFiles\nfrom posts.models import Post\napp = FastAPI()\n"
        "app.mount('/static', StaticFiles(directory='app/static'), 'static')\n",
        "app/posts/models.py": "from sqlalchemy.orm import relationship\n"
        "class Post:\n    images = relationship('Image', back_populates='posts')\n",
        "app/posts/__init__.py": "",
        "app/static/site.css": "",
        "requirements.txt": "fastapi\n",
    }
    assert _detect(named).argv[3:6] == ("main:app", "--app-dir", "app")


def test_a_procfile_target_its_module_binds_only_under_main_gives_way_to_the_app() -> None:
    """leatuan021211's flask-restful-api: ``web: gunicorn app:app``, while app.py makes its
    app only under ``if __name__ == "__main__":`` ("Failed to find attribute 'app' in
    'app'"): the factory the upload defines is served instead. A target its module binds
    keeps the Procfile's line."""
    files = {
        "Procfile": b"web: gunicorn app:app\n",
        "requirements.txt": b"flask\ngunicorn\n",
        "app.py": b"from lib import create_app\n\nif __name__ == '__main__':\n"
        b"    app = create_app()\n    app.run()\n",
        "lib/__init__.py": b"from flask import Flask\n\n\ndef create_app():\n"
        b"    return Flask(__name__)\n",
    }
    found = detect(files)
    assert (found.framework, found.detected_from) == ("flask", "lib/__init__.py")
    assert found.argv[-1] == "lib:create_app()"
    bound = {**files, "app.py": b"from lib import create_app\n\napp = create_app()\n"}
    assert detect(bound).framework == "procfile"


def test_a_procfile_running_a_script_the_upload_lacks_gives_way_to_the_app() -> None:
    """Grinch101's flask-crm: ``web: python app:app`` (a server's target given to python:
    "can't open file 'app:app'"); its app.py is served. A script it has keeps the line, as
    does one its release line may make (it runs first)."""
    files = {
        "Procfile": b"web: python app:app\n",
        "requirements.txt": b"flask\n",
        "app.py": b"from flask import Flask\napp = Flask(__name__)\n",
    }
    found = detect(files)
    assert (found.framework, found.detected_from) == ("flask", "app.py")
    assert detect({**files, "Procfile": b"web: python app.py\n"}).framework == "procfile"
    released = b"release: sh -c 'mkdir real && cp app.py real/'\nweb: python real/app.py\n"
    assert detect({**files, "Procfile": released}).framework == "procfile"


def test_a_pytest_fixture_making_the_app_is_not_served() -> None:
    """RashminDungrani's fastapi-invoice-app: ``app/conftest.py``'s fixture calls its
    factory (``app/routes/application.py``, deeper) and overrides a dependency for its
    tests; it was served (``--factory``) in place of the factory itself."""
    files = {
        "app/routes/application.py": b"""from fastapi import FastAPI

from app.routes.router import router

def get_app() -> FastAPI:
    app = FastAPI(title="Invoices")
    app.include_router(router=router)
    return app
""",
        "app/conftest.py": b"""import pytest
from fastapi import FastAPI

from app.routes.application import get_app

@pytest.fixture
def fastapi_app(dbsession: AsyncSession) -> FastAPI:
    application = get_app()
    application.dependency_overrides[get_db_session] = lambda: dbsession
    return application
""",
    }
    found = find_app(files)
    assert found is not None, files
    assert (found.path, found.attr) == ("app/routes/application.py", "get_app"), found


async def test_a_module_app_its_factory_configures_is_served_through_the_factory(
    builder_service: Service,
) -> None:
    """jcpagsinohin's flask-fitness-app binds ``app = Flask(__name__)`` in its package and
    registers every blueprint in ``create_app()``, which returns that app (``run.py``:
    ``app = create_app()``): served as ``app:app``, all its routes answered 404."""
    files = app_files("flask_factory_configures_module_app")
    found = detect({p: t.encode() for p, t in files.items()})
    assert found is not None and "app:create_app()" in found.argv
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/items/")).json() == ["chair", "table"]
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_factory_its_module_calls_as_it_loads_is_not_called_again(
    builder_service: Service,
) -> None:
    """GomzaUlq's DiplomFirstTeaFlask: ``create_app()`` sets up the module's ``app``
    (Flask-SQLAlchemy's ``init_app`` among it) and the module calls it itself, ``my_app =
    create_app()``. Served as ``app:create_app()``, it was set up twice: "A 'SQLAlchemy'
    instance has already been registered on this Flask app". The module's app is served."""
    app = (
        "from flask import Blueprint, Flask, jsonify\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
        "db = SQLAlchemy()\napp = Flask(__name__)\n"
        "app.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite:///tea.db'\n\n\n"
        "class Tea(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n\n\n"
        "teas = Blueprint('teas', __name__)\n\n\n@teas.get('/teas')\ndef listed():\n"
        "    return jsonify([t.id for t in Tea.query.all()])\n\n\n"
        "def create_app():\n    db.init_app(app)\n    app.register_blueprint(teas)\n"
        "    return app\n\n\nmy_app = create_app()\n"
    )
    files = {"app.py": app, "requirements.txt": "flask\nflask-sqlalchemy\n"}
    found = detect({p: t.encode() for p, t in files.items()})
    assert found is not None and not any("create_app()" in part for part in found.argv), found
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/teas")).json() == []
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_procfile_line_using_bashs_own_words_is_run_by_bash_as_heroku_does() -> None:
    """andela-hoyeboade's flask-graphql-app: ``web: source ./build.sh;``, run by sh:
    "sh: 1: source: not found". Heroku runs a Procfile's lines with bash; a line sh
    runs as well is still run by sh."""
    app = b"from flask import Flask\napp = Flask(__name__)\n"
    files = {
        "manage.py": app,
        "requirements.txt": b"flask\ngunicorn\n",
        "build.sh": b"gunicorn manage:app\n",
    }
    found = detect({**files, "Procfile": b"web: source ./build.sh;\nrelease: [[ -f x ]] || true\n"})
    assert found.argv == ("bash", "-c", "source ./build.sh;")
    assert found.setup == (("bash", "-c", "[[ -f x ]] || true"),)
    plain = detect({**files, "Procfile": b"web: sh ./build.sh\n"})
    assert plain.argv[:2] == ("sh", "-c")


def test_a_script_its_release_line_runs_is_not_run_again_as_a_data_step() -> None:
    """A Procfile's ``release: python seed.py`` beside a seed script the data set-up
    finds (``python -m seed``): run twice, its rows were there twice. Another script,
    or no release line, keeps the data step."""
    seed = (
        b"import sqlite3\n\ndb = sqlite3.connect('shop.db')\n"
        b"db.execute('CREATE TABLE IF NOT EXISTS product (name TEXT)')\n"
        b"db.execute(\"INSERT INTO product VALUES ('ski')\")\ndb.commit()\n"
    )
    main = b"import sqlite3\n\nfrom fastapi import FastAPI\n\napp = FastAPI()\n"
    files = {"requirements.txt": b"fastapi\nuvicorn\n", "seed.py": seed, "main.py": main}
    web = b"web: uvicorn main:app --port $PORT\n"
    for release in (b"python seed.py", b"python ./seed.py && echo seeded", b"python -m seed"):
        found = detect({**files, "Procfile": b"release: " + release + b"\n" + web})
        assert found.data_setup == (), release
        assert len(found.setup) == 1, found.setup
    found = detect({**files, "Procfile": b"release: python other.py\n" + web})
    assert found.data_setup == (("{python}", "-m", "seed"),)


async def test_a_flask_factory_taking_the_old_clis_script_info_is_served(
    builder_service: Service,
) -> None:
    """jerr0328's simple-flask-auth-app: ``def create_app(script_info):``, as Flask's CLI
    before 2.0 called it; served as ``main:create_app()``, "missing 1 required positional
    argument: 'script_info'". It is given one; a factory with another parameter is not."""
    main = (
        "from flask import Flask\n\n\ndef create_app(script_info):\n    app = Flask(__name__)\n\n"
        "    @app.get('/hello')\n    def hello():\n        return {'factory': True}\n\n"
        "    return app\n"
    )
    files = {"requirements.txt": "flask\n", "main.py": main}
    assert _detect(files).argv[-1] == "main:create_app({{}})"
    other = {**files, "main.py": main.replace("script_info", "config")}
    assert _detect(other).argv[-1] != "main:create_app({{}})"
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await builder_service.app_get(body, "/hello")).json() == {"factory": True}
        assert (await builder_service.stop(body["gid"])).status_code == 200


def test_a_root_node_server_wins_over_a_python_app_in_a_folder_below_it() -> None:
    """youyudehexie's koa-seed: its Koa blog at the root (``main: app.js``, koa in its
    dependencies) and a Django admin of the same tables in dashboard/app/: the Django
    admin was started, its Python 2 failing migrate. The root's manifest is the app's;
    not where the root's package.json is a frontend's (no server's framework), nor where
    the Python app is at the root."""
    package = {"main": "app.js", "dependencies": {"koa": "^0.10.0", "mysql": "^2"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "app.js": b"var koa = require('koa');\nvar app = koa();\napp.listen(3012);\n",
        "dashboard/app/manage.py": (
            b"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'app.settings')\n"
        ),
        "dashboard/app/app/settings.py": b"INSTALLED_APPS = []\n",
        "dashboard/app/app/urls.py": b"urlpatterns = []\n",
    }
    assert detect(files).language == "node"
    frontend = {"dependencies": {"react": "^18"}, "scripts": {"start": "vite"}}
    beside = {**files, "package.json": json.dumps(frontend).encode()}
    assert detect(beside).framework == "django"


def test_a_packages_main_module_is_run_as_a_script() -> None:
    """fotikhbek's minimal-fastapi-blog: its app in app/__main__.py, which ends with
    ``uvicorn.run("__main__:app", …)`` (its compose: ``cd app && python __main__.py``);
    served as ``uvicorn __main__:app``, uvicorn found its own __main__: "Attribute "app"
    not found in module "__main__"". Run as its author runs it."""
    main = (
        b"import uvicorn\nfrom fastapi import FastAPI\nfrom api.routes import router\n"
        b"app = FastAPI()\napp.include_router(router)\n\n"
        b'if __name__ == "__main__":\n    uvicorn.run("__main__:app", host="0.0.0.0", port=8000)\n'
    )
    files = {
        "app/__init__.py": b"",
        "app/__main__.py": main,
        "app/api/__init__.py": b"",
        "app/api/routes.py": b"from fastapi import APIRouter\nrouter = APIRouter()\n",
        "requirements.txt": b"fastapi\nuvicorn\n",
    }
    found = detect(files)
    assert found.argv[-3:] == ("app", "{python}", "__main__.py"), found.argv
    assert "__main__" not in " ".join(found.argv[:-1])
    # kykyrzik's FastAPIproject: src/__main__.py imports its own package (``from src.api
    # import …``) and runs ``uvicorn.run("main:app")``, a module it has not (its compose:
    # ``python -m src``). Served as its package's module, from the folder above.
    own = main.replace(b"from api.routes", b"from app.api.routes")
    found = detect({**files, "app/__main__.py": own})
    assert found.argv[-3:] == ("127.0.0.1", "--port", "{port}") and "app.__main__:app" in found.argv


def test_an_app_in_a_folder_named_for_a_package_it_imports_runs_in_that_folder() -> None:
    """aniquequreshi's fastapi-one keeps its app in fastapi/ (main.py, an __init__.py):
    served from the root with fastapi/ as its app directory, ``from fastapi import
    FastAPI`` found that folder ("cannot import name 'FastAPI' from 'fastapi'"). Run in
    its folder, as ``cd fastapi && uvicorn main:app`` runs it."""
    files = {
        "requirements.txt": b"fastapi\nuvicorn\nsqlalchemy\n",
        "fastapi/__init__.py": b"",
        "fastapi/main.py": (
            b"from fastapi import FastAPI\nimport crud\nfrom database import engine\n"
            b"app = FastAPI()\n"
        ),
        "fastapi/crud.py": b"from sqlalchemy.orm import Session\n",
        "fastapi/database.py": b"engine = None\n",
    }
    found = detect(files)
    assert found.argv[:5] == ("sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", "fastapi")
    assert "main:app" in found.argv and "--app-dir" not in found.argv
    # A folder named otherwise is served from the root, as before.
    renamed = {p.replace("fastapi/", "api/"): d for p, d in files.items()}
    assert "--app-dir" in detect(renamed).argv


def test_a_folder_its_code_imports_by_its_own_name_is_served_from_the_root() -> None:
    """arysaj's fastapi-unitofwork: src/fastapi_unitofwork/ imports itself both as
    ``fastapi_unitofwork.routers`` and ``src.fastapi_unitofwork.schemas``. ``src`` was
    taken for a package named like its folder, and the app run in src/: "No module named
    'src'". A folder's own name, imported with its own modules below it, is no other
    package: served from the root, src/ its app directory, both imports resolve."""
    files = {
        "pyproject.toml": b'[project]\nname = "x"\ndependencies = ["fastapi", "uvicorn"]\n',
        "src/fastapi_unitofwork/__init__.py": b"",
        "src/fastapi_unitofwork/app.py": (
            b"from fastapi import FastAPI\n"
            b"from fastapi_unitofwork.routers import router\napp = FastAPI()\n"
        ),
        "src/fastapi_unitofwork/routers.py": (
            b"from fastapi import APIRouter\nfrom src.fastapi_unitofwork.schemas import Token\n"
            b"router = APIRouter()\n"
        ),
        "src/fastapi_unitofwork/schemas.py": b"Token = dict\n",
    }
    found = detect(files)
    assert "--app-dir" in found.argv and 'cd "$1" && shift && exec "$@"' not in found.argv


def test_an_extensions_app_class_and_a_factory_annotated_as_one_are_apps() -> None:
    """gromenawuer12's flask-lambda-base makes ``FlaskLambda(__name__)`` (flask_lambda's
    Flask), juanstenghele's fastapi-sandbox serves ``def app() -> FastAPI:`` (its
    AppBuilder's build()) with ``uvicorn main:app --factory``: "Found no way to start
    this app", both. A class named for the framework's, from a package named for it, is
    that framework's app; a function annotated as returning one is its factory."""
    lambda_app = (
        b"from flask_lambda import FlaskLambda\napp = FlaskLambda(__name__)\n\n"
        b"@app.route('/')\ndef index():\n    return 'ok'\n"
    )
    found = detect({"src/app.py": lambda_app, "requirements.txt": b"flask-lambda\n"})
    assert found.framework == "flask" and found.argv[-1] == "app:app", found.argv
    builder = (
        b"from fastapi import FastAPI\nfrom app_builder import AppBuilder\n\n\n"
        b"def app() -> FastAPI:\n    return AppBuilder().build()\n"
    )
    files = {
        "src/main.py": builder,
        "src/app_builder.py": b"from fastapi import FastAPI\nclass AppBuilder:\n    pass\n",
        "requirements.txt": b"fastapi\nuvicorn\n",
    }
    found = detect(files)
    assert "main:app" in found.argv and "--factory" in found.argv, found.argv
    # A class of another package, whatever its name, is none.
    other = lambda_app.replace(b"flask_lambda", b"lambdas")
    with pytest.raises(BadRequest, match="Found no way to start this app"):
        detect({"src/app.py": other, "requirements.txt": b"lambdas\n"})


def test_an_app_bound_anew_after_the_main_block_serving_it_runs_as_a_script() -> None:
    """benjiea's music-index-flask-2020: app.py imports its package's app, runs it in
    its main block, then ends with a stray ``app = Flask(__name__)``, which gunicorn
    served: all 7 routes answered 404. As a script it serves what ``python app.py``
    served; a module binding its app once is served as before."""
    module = (
        b"from flask import Flask\nfrom application import app\n\n"
        b"if __name__ == '__main__':\n    app.run(debug=True, host='0.0.0.0')\n\n\n"
        b"app = Flask(__name__)\n"
    )
    package = b"from flask import Flask\napp = Flask(__name__)\nfrom application import routes\n"
    routes = b"from application import app\n\n@app.route('/')\ndef home():\n    return 'home'\n"
    files = {
        "app.py": module,
        "application/__init__.py": package,
        "application/routes.py": routes,
        "requirements.txt": b"flask\n",
    }
    assert detect(files).argv == ("{python}", "app.py")
    once = module.replace(b"\n\n\napp = Flask(__name__)\n", b"\n")
    assert "gunicorn.app.wsgiapp" in detect({**files, "app.py": once}).argv
