"""What an app's environment holds: the modules its installed distributions provide,
and setuptools as the virtualenv the app was made in had it (builds.appenv)."""

from __future__ import annotations

import sys
from pathlib import Path

import trio
from packaging.version import Version

from preview.apps.depspec import PythonDeps
from preview.apps.imports import source_roots
from preview.builds.appenv import (
    SEEDED_SETUPTOOLS,
    _installed_modules,
    dotenv_file,
    with_redis_client,
    with_setuptools,
)

from ..conftest import Service
from ..launching import BUILD_WAIT, launched, messages


def test_what_an_environment_installs_counts_with_its_dependencies_own() -> None:
    # The service's own environment: trio came with no line of the project's asking.
    installed = _installed_modules(Path(sys.prefix))
    assert {"trio", "h11", "sniffio", "quart-trio"} <= installed
    assert not any(name.endswith(("dist-info", "egg-info")) for name in installed)
    # A module the project has by a name installed that way is the installed one.
    files = {"proj/tasks.py": b"import sniffio\n", "proj/sniffio.py": b"", "app.py": b""}
    assert source_roots(files, set()) == ["proj"]
    assert source_roots(files, installed) == []
    assert _installed_modules(Path("/nonexistent")) == set()


async def _quiet(line: str) -> None:
    pass


async def test_setuptools_is_added_where_the_app_names_none_and_no_lock_fixes_the_set() -> None:
    plain = PythonDeps(("flask",), "requirements.txt", None, None)
    assert (await with_setuptools(plain, _quiet)).requirements == ("flask", SEEDED_SETUPTOOLS)
    pinned = PythonDeps(("flask", "setuptools==80.9.0"), "requirements.txt", None, None)
    assert await with_setuptools(pinned, _quiet) is pinned
    # A whole machine's pip freeze: its other pins constraints, setuptools among them
    # (xowwl226's DRFtodolist: "you require setuptools<81 and setuptools==82.0.1").
    frozen = PythonDeps(
        ("django",), "requirements.txt", None, None, constraints=("setuptools==82.0.1",)
    )
    assert await with_setuptools(frozen, _quiet) is frozen
    locked = PythonDeps((), "pyproject.toml", None, None, lock=("[project]", "version = 1"))
    assert await with_setuptools(locked, _quiet) is locked
    assert await with_setuptools(plain, _quiet, offline=True) is plain  # a wheelhouse's


async def test_a_redis_client_is_added_where_what_the_app_uses_imports_one() -> None:
    """ravuritejaswi's DJANGORESTPROJECT: its settings set a Celery broker of Redis and
    Django's RedisCache, and it lists neither celery nor redis (celery came by a fix):
    kombu's Redis transport met "'NoneType' object has no attribute 'Redis'"."""
    said: list[str] = []

    async def say(line: str) -> None:
        said.append(line)

    plain = PythonDeps(("Django==5.0",), "requirements.txt", None, None)
    settings = b'CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"\n'
    tasks = b"from celery import shared_task\n"
    files = {"config/settings.py": settings, "rides/tasks.py": tasks}
    added = await with_redis_client(plain, files, {}, say)
    assert added.requirements == ("Django==5.0", "kombu[redis]")
    assert said == [
        "its Celery broker (config/settings.py) is a Redis: adding kombu[redis], what"
        " Celery's Redis transport needs, to its build"
    ]
    # The preview's Redis given its broker (in place of its RabbitMQ), celery listed.
    listed = PythonDeps(("celery",), "requirements.txt", None, None)
    given = {"CELERY_BROKER_URL": "redis://redis:6379/0"}
    assert (await with_redis_client(listed, {}, given, say)).requirements[-1] == "kombu[redis]"
    # Django's own Redis cache alone: its client.
    cache = {"config/settings.py": b'"BACKEND": "django.core.cache.backends.redis.RedisCache",\n'}
    assert (await with_redis_client(plain, cache, {}, say)).requirements[-1] == "redis"
    # A client listed, a lock, or no Celery nor cache: as it was.
    with_client = PythonDeps(("Django", "django-redis"), "requirements.txt", None, None)
    assert await with_redis_client(with_client, files, {}, say) is with_client
    locked = PythonDeps((), "pyproject.toml", None, None, lock=("[project]", "version = 1"))
    assert await with_redis_client(locked, files, {}, say) is locked
    assert await with_redis_client(plain, {"config/settings.py": settings}, {}, say) is plain


async def test_an_app_whose_code_imports_pkg_resources_starts_the_first_time(
    builder_service: Service,
) -> None:
    """Its first start succeeds: no failed start on "No module named 'pkg_resources'",
    then a second build with setuptools (the remedy that caught it before)."""
    service = builder_service
    files = {
        "requirements.txt": "fastapi\nuvicorn\n",
        "main.py": (
            "import pkg_resources\n"
            "from fastapi import FastAPI\n\n"
            "app = FastAPI()\n\n\n"
            '@app.get("/")\n'
            "def root() -> dict[str, str]:\n"
            '    return {"setuptools": pkg_resources.get_distribution("setuptools").version}\n'
        ),
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        system = messages(await service.history(body["gid"]), "system")
        assert not [line for line in system if line.startswith("fix ")], system
        answer = (await service.app_get(body, "/")).json()
        assert Version(answer["setuptools"]) < Version("81"), answer
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_flask_apps_flaskenv_is_loaded_below_its_env() -> None:
    # Flask's CLI loads .flaskenv below .env; cj-lin's coding-exercise-flask sets its
    # DEBUG from the FLASK_ENV its .flaskenv (its compose env_file) says.
    files = {
        ".flaskenv": b"FLASK_ENV=development\nSECRET_KEY=changeme\n",
        "api/.env": b"SECRET_KEY=private\n",
        "api/app.py": b"from flask import Flask\napp = Flask(__name__)\n",
    }
    assert dotenv_file(files, "api/app.py") == {
        "FLASK_ENV": "development",
        "SECRET_KEY": "private",  # .env over .flaskenv, the nearer folder over the root
    }
    assert (
        dotenv_file({**files, "api/.flaskenv": b"SECRET_KEY=public\n"}, "api/app.py")["SECRET_KEY"]
        == "private"
    )
