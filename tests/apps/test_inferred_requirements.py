"""A Python upload with no dependency file: its requirements inferred from its imports
(pipreqs' maintained mapping, read as data), said in a system line, and built."""

from __future__ import annotations

import pytest
import trio

from preview.apps.depspec import python_dependencies
from preview.apps.imports import import_mapping, imported_names, own_folder_names

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages

pytestmark = pytest.mark.skipif(
    import_mapping() is None, reason="pipreqs (the infer extra) is not installed"
)


def _bytes(files: dict[str, str]) -> dict[str, bytes]:
    return {p: t.encode() for p, t in files.items()}


def test_imports_less_the_standard_library_and_the_uploads_own_modules() -> None:
    files = _bytes(
        {
            "main.py": "import os, json\nimport jwt\nfrom dotenv import load_dotenv\n"
            "from . import sibling\nfrom services.users import x\nimport helpers\n",
            "services/users.py": "import sqlalchemy.orm\n",
            "helpers.py": "",
            "tests/test_main.py": "import pytest\n",  # tests are not the app's needs
        }
    )
    assert imported_names(files) == {"jwt", "dotenv", "sqlalchemy"}
    deps = python_dependencies(files, "main.py")
    assert deps.requirements == ("PyJWT", "python-dotenv", "SQLAlchemy")
    assert deps.inferred == "dotenv → python-dotenv, jwt → PyJWT, sqlalchemy → SQLAlchemy"
    assert deps.source == ""


def test_modules_whose_own_name_on_pypi_is_another_project() -> None:
    """corcasta's FastAPI-Demo (no dependency file) imports tortoise.contrib.fastapi: PyPI's
    `tortoise` is another project, without it ("No module named 'tortoise.contrib'")."""
    files = _bytes(
        {
            "main.py": "from tortoise.contrib.fastapi import register_tortoise\n"
            "from ninja import NinjaAPI\nfrom jose import jwt\nimport multipart, attr\n"
            "from fastapi_cache import FastAPICache\n"
        }
    )
    deps = python_dependencies(files, "main.py")
    assert deps.requirements == (
        "attrs",
        "django-ninja",
        "fastapi-cache2",
        "python-jose",
        "python-multipart",
        "tortoise-orm",
    )
    assert "tortoise → tortoise-orm" in (deps.inferred or "")


def test_modules_a_tortoise_configuration_lists_by_name() -> None:
    """corcasta's FastAPI-Demo lists "aerich.models" in TORTOISE_ORM (settings.py), which
    Tortoise imports at its start; nothing imports aerich itself."""
    files = _bytes(
        {
            "main.py": "from tortoise.contrib.fastapi import register_tortoise\n",
            "settings.py": "TORTOISE_ORM = {'apps': {'models': {\n"
            "    'models': ['main', 'aerich.models'], 'default_connection': 'default'}}}\n",
        }
    )
    assert imported_names(files) == {"tortoise", "aerich"}


def test_the_name_an_upload_imports_its_own_folder_by_is_no_distribution() -> None:
    """piyota0901's fastapi-todo-app, uploaded as its backend/ folder, imports ``from
    backend.web.apis import todo``: "backend" was taken for a distribution ("only
    backend>=0.2 is available and you require backend<0.2"). A name under which every
    module imported is one at the upload's root is its own folder's; a name under which
    one is not (flask.views beside a views/ folder) is a distribution's."""
    files = _bytes(app_files("fastapi_imports_own_folder"))
    assert own_folder_names(files) == {"backend"}
    assert imported_names(files) == {"fastapi"}
    views = {"views/__init__.py": b"", "app.py": b"from flask.views import MethodView\n"}
    assert own_folder_names(views) == set()
    mixed = {**views, "app.py": b"from web.views import x\nfrom web import app\n"}
    assert own_folder_names(mixed) == set()  # (from web import app: no root module)


async def test_an_app_importing_its_own_folder_by_name_runs(builder_service: Service) -> None:
    """The same upload launched: a package named for its folder, whose path is the app's
    directory, is on its PYTHONPATH; web.main imports backend.web.apis.items from it."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_imports_own_folder"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/items")).json() == {"items": ["apple", "pear"]}
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_dependency_file_wins() -> None:
    files = _bytes({"main.py": "import yaml\n", "requirements.txt": "fastapi\n"})
    deps = python_dependencies(files, "main.py")
    assert deps.requirements == ("fastapi",) and deps.inferred is None


async def test_fastapi_app_without_requirements_is_built_from_its_imports(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_no_requirements"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer == {"greeting": "hello from yaml", "items": ["apple", "pear"]}
        system = messages(await service.history(body["gid"]), "system")
        said = (
            "no requirements.txt or pyproject.toml: installing what the app imports "
            "(fastapi, yaml → PyYAML)"
        )
        assert said in system, system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_django_apps_named_only_in_its_settings_are_installed(
    builder_service: Service,
) -> None:
    """wsvincent's restapiswithdjango (no dependency file): corsheaders is named only in
    INSTALLED_APPS and MIDDLEWARE, whose modules Django imports by name; migrate failed
    "No module named 'corsheaders'", and the distribution is django-cors-headers."""
    files = app_files("django_no_requirements")
    assert {"django", "rest_framework", "corsheaders"} <= imported_names(_bytes(files))
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await service.app_request(body, "GET", "/posts/", headers={"Origin": "http://x"})
        assert answer.json() == {"posts": ["hello"]}
        assert answer.headers["access-control-allow-origin"] == "*"  # its middleware ran
        system = messages(await service.history(body["gid"]), "system")
        assert any("corsheaders → django-cors-headers" in m for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_an_alembic_environment_installs_alembic(builder_service: Service) -> None:
    """piyota0901's fastapi-todo-app (an empty requirements.txt): Alembic is imported only
    by its migration environment (alembic/env.py, a module the import scan skips, in a
    folder named alembic), so it was never installed and the upgrade step failed ("No
    module named alembic.config"). Its environment says Alembic runs the set-up."""
    files = app_files("alembic_no_requirements")
    assert "alembic" in imported_names(_bytes(files))
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/items")).json()
        assert answer == ["migrated with an Alembic nothing listed"]
        assert (await service.stop(body["gid"])).status_code == 200
