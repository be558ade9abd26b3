"""How to start an upload, read from its files (no process): detection order and shapes,
and what its dependency set is."""

from __future__ import annotations

import pytest

from preview.errors import BadRequest
from preview.runtime.depspec import node_dependencies, python_dependencies
from preview.runtime.detect import detect

from .test_build import app_files


def _detect(files: dict[str, str], **options) -> object:
    return detect({p: t.encode() for p, t in files.items()}, **options)


FASTAPI = "from fastapi import FastAPI\napp = FastAPI()\n"
FACTORY = "from fastapi import FastAPI\ndef create_app():\n    return FastAPI()\n"


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
    assert django.setup == (("{python}", "manage.py", "migrate", "--noinput"),)
    node = _detect(app_files("express_app"))
    assert (node.framework, node.language, node.argv) == (
        "node",
        "node",
        ("npm", "start", "--silent"),
    )
    starlette = _detect(app_files("dotenv_pyproject"))
    assert starlette.framework == "starlette" and "main:app" in starlette.argv


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
    ],
)
def test_python_app_shapes(files: dict[str, str], target: str, framework: str) -> None:
    found = _detect({**files, "tests/test_main.py": FASTAPI})
    assert found.framework == framework
    assert target in found.argv


def test_app_dir_for_a_directory_without_package() -> None:
    found = _detect({"svc/main.py": FASTAPI})
    assert found.argv[3:6] == ("main:app", "--app-dir", "svc")


def test_order_command_then_procfile_then_code() -> None:
    files = {
        "main.py": FASTAPI,
        "Procfile": "release: python seed.py\nweb: uvicorn main:app --port $PORT\n",
    }
    procfile = _detect(files)
    assert procfile.framework == "procfile"
    assert procfile.argv == ("sh", "-c", "uvicorn main:app --port $PORT")
    assert procfile.setup == (("sh", "-c", "python seed.py"),)
    given = _detect(files, command=["{python}", "serve.py"], setup=["{python}", "seed.py"])
    assert (given.framework, given.detected_from) == ("command", "command option")
    assert given.setup == (("{python}", "seed.py"),)
    assert _detect({"main.py": FASTAPI, "alembic.ini": "[alembic]\n"}).setup == (
        ("{python}", "-m", "alembic", "upgrade", "head"),
    )


def test_node_main_without_start_script() -> None:
    found = _detect({"package.json": '{"main": "src/index.js"}', "src/index.js": ""})
    assert found.argv == ("node", "src/index.js")


def test_nothing_to_run_lists_what_was_looked_for() -> None:
    with pytest.raises(BadRequest) as caught:
        _detect({"README.md": "hi", "util.py": "def f():\n    return 1\n", "bad.py": "def ("})
    error = caught.value
    assert error.code == "nothing_to_run" and "command" in error.message
    assert len(error.details["lookedFor"]) == 6


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
    deps = python_dependencies({"pyproject.toml": pep621, "uv.lock": b'name = "starlette"\n'})
    assert deps.lock is not None and deps.source == "uv.lock" and "starlette" in deps.names()
    assert node_dependencies({"package.json": b"{}"}).lockfile is None
