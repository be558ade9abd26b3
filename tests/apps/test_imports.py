"""How an app's own imports are read (apps.imports): its sources roots and which of its
imports are its own modules and which installed packages, and what its start imports as
it loads."""

from __future__ import annotations

from preview.apps.imports import imported_at_start, source_roots

from ..launching import app_files


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


def test_a_module_importing_its_own_name_imports_the_installed_package() -> None:
    """alireza0sfr's Django-Drf-Todo: ``core/core/celery.py`` does ``from celery import
    Celery``, celery installed by django-celery-beat, not listed; ``core/core`` was put
    on PYTHONPATH for it and the file imported itself: "cannot import name 'Celery' from
    partially initialized module 'celery'", at ``manage.py migrate``."""
    django = {
        "core/manage.py": b"import os\n",
        "core/core/__init__.py": b"from .celery import app as celery_app\n",
        "core/core/celery.py": b"from celery import Celery\napp = Celery('core')\n",
        "core/core/settings.py": b"import os\n",
        "requirements.txt": b"django\ndjango-celery-beat\n",
    }
    assert source_roots(django, {"django", "django-celery-beat"}) == []
    # Another module of the project importing it by that name does mean the local one.
    imports = {**django, "core/core/tasks.py": b"import celery\n"}
    assert source_roots(imports, {"django", "django-celery-beat"}) == ["core/core"]


def test_a_dotted_import_is_of_a_package_not_a_module_file_of_that_name() -> None:
    """pjesus22's simple-drf-blog imports ``apps.content.models`` and ``utils.base_models``
    from ``src/``; ``src/apps/content/apps.py`` (Django's AppConfig) and
    ``src/apps/accounts/utils/`` (no base_models in it) were put on the path and shadowed
    ``src/apps`` and ``src/utils``: "No module named 'apps.content'"."""
    files = {
        "src/manage.py": b"import os\n",
        "src/apps/content/__init__.py": b"",
        "src/apps/content/apps.py": b"from django.apps import AppConfig\n",
        "src/apps/content/views.py": b"from apps.content.models import Post\n",
        "src/apps/content/models.py": b"from utils.base_models import BaseModel\n",
        "src/apps/accounts/utils/__init__.py": b"",
        "src/apps/accounts/utils/encryption.py": b"",
        "src/apps/accounts/models.py": b"from utils.base_models import BaseModel\n",
        "src/utils/base_models.py": b"BaseModel = object\n",
    }
    assert source_roots(files, {"django"}) == ["src"]


def test_a_folder_holding_a_standard_library_modules_name_is_no_sources_root() -> None:
    """GlazovDaniil's DRF-events-website-API: ``events/meetings/calendar.py`` imports
    ``from models import Timetable`` (``events/meetings/models.py``); on the path, that
    folder's calendar.py was imported for Django's own ``import calendar`` and no
    manage.py command ran. A folder of no such name still is one."""
    files = {
        "events/manage.py": b"import os\n",
        "events/meetings/__init__.py": b"",
        "events/meetings/models.py": b"from django.db import models\n",
        "events/meetings/calendar.py": b"from models import Timetable\n",
    }
    assert source_roots(files, {"django"}) == []
    files["events/meetings/agenda.py"] = files.pop("events/meetings/calendar.py")
    assert source_roots(files, {"django"}) == ["events/meetings"]
    files["events/meetings/test.py"] = b""  # the standard library's tests: never imported
    assert source_roots(files, {"django"}) == ["events/meetings"]


def test_a_folder_holding_an_installed_packages_name_is_no_sources_root() -> None:
    """nvson2201's fastapi-blog keeps ``app/plugins/{kafka,mysql,redis}/``; its kafka
    plugin imports ``from kafka import KafkaAdminClient`` (kafka-python, which it does not
    list): ``app/plugins`` was put on the path for it, and SQLAlchemy's ``from mysql
    import connector`` (mysql-connector-python's) loaded the plugin instead, at alembic's
    upgrade: "cannot import name 'connector' from 'mysql' (app/plugins/mysql/__init__.py)"."""
    files = {
        "app/__init__.py": b"",
        "app/plugins/__init__.py": b"",
        "app/plugins/kafka/__init__.py": b"",
        "app/plugins/kafka/admin.py": b"from kafka import KafkaAdminClient\n",
        "app/plugins/mysql/__init__.py": b"",
        "app/plugins/mysql/session.py": b"from sqlalchemy import create_engine\n",
    }
    assert source_roots(files, {"sqlalchemy"}) == ["app/plugins"]  # (as before)
    assert source_roots(files, {"sqlalchemy", "mysql-connector-python"}) == []
    assert source_roots(files, {"sqlalchemy", "mysql"}) == []  # its module, by name


_STARTED = {
    "app/__init__.py": b"",
    "app/main.py": (
        b"import os\n"
        b"from fastapi import FastAPI\n"
        b"from .routes import router\n"
        b"from app.core import settings\n"
        b"try:\n    import ujson\nexcept ImportError:\n    ujson = None\n"
        b"if os.name == 'nt':\n    import win32api\n"
        b"def handler():\n    import boto3\n"
        b"class Templates:\n    import jinja2\n"
        b"if __name__ == '__main__':\n    import waitress\n"
    ),
    "app/routes.py": b"from pydantic_settings import BaseSettings\nfrom . import models\n",
    "app/models.py": b"import sqlalchemy.orm\n",
    "app/core/__init__.py": b"import dotenv\n",
    "app/core/settings.py": b"import yaml\n",
    "tests/test_app.py": b"import pytest\n",
    "scripts/seed.py": b"import faker\n",
}


def test_what_a_start_imports_is_read_from_the_modules_it_names_and_theirs() -> None:
    """From the module a server's argument names, through the upload's modules it
    imports (relative, absolute, a package's __init__): what runs as they load. Not an
    optional import, a platform's, a function's, a __main__ block's, nor the modules the
    start never loads (tests, scripts)."""
    expected = {"dotenv", "fastapi", "jinja2", "pydantic_settings", "sqlalchemy", "yaml"}
    uvicorn = ("{python}", "-m", "uvicorn", "app.main:app", "--port", "{port}")
    assert imported_at_start(_STARTED, uvicorn) == expected
    procfile = ("sh", "-c", "gunicorn app.main:app --threads 4")
    assert imported_at_start(_STARTED, procfile) == expected
    assert imported_at_start(_STARTED, ("{python}", "-m", "app.main")) == expected
    script = {"main.py": b"import flask\nif __name__ == '__main__':\n    import waitress\n"}
    assert imported_at_start(script, ("{python}", "main.py")) == {"flask"}
    assert imported_at_start(_STARTED, ("node", "server.js")) == set()


def test_a_root_module_imported_from_below_puts_the_root_on_the_path_last() -> None:
    """moreirak14's auth-api-django runs ``python src/manage.py``; its settings import
    ``from config import settings``, the root's ``config.py``, which Python's path (the
    script's folder, ``src/``) does not reach. The root goes last; a name a nearer folder
    holds, or one the root would shadow an installed package by, puts it nowhere."""
    files = {
        "config.py": b"settings = {}\n",
        "src/manage.py": b"import os\n",
        "src/django_app/__init__.py": b"",
        "src/django_app/settings.py": b"from config import settings\n",
        "src/users/models.py": b"from helpers import slug\n",
        "src/helpers.py": b"slug = str\n",
    }
    assert source_roots(files, {"django"}) == ["src", ""]
    nearer = {**files, "src/config.py": b"settings = {}\n"}
    assert source_roots(nearer, {"django"}) == ["src"]
    shadowing = {**files, "redis.py": b""}
    assert source_roots(shadowing, {"django", "redis"}) == ["src"]
    assert source_roots({**files, "config.py": b""}, {"django", "config"}) == ["src"]


def test_a_folder_holding_a_module_named_as_a_root_namespace_package_is_no_sources_root() -> None:
    """uablor's Hotel-drf: ``core/settings/__inti__.py`` (a typo: never imported) does
    ``from prod import *``, and ``core/settings/`` went on the path, where its
    ``common.py`` took the place of the root's ``common/`` (no ``__init__.py``: a
    namespace package loses to any module of its name): "'common' is not a package"."""
    files = {
        "manage.py": b"import os\n",
        "common/validators.py": b"",
        "core/settings/common.py": b"DEBUG = True\n",
        "core/settings/prod.py": b"from core.settings.common import *\n",
        "core/settings/__inti__.py": b"from prod import *\n",
        "apps/hotel/models.py": b"from common.validators import size\n",
    }
    assert source_roots(files, {"django"}) == []
    files["common/__init__.py"] = b""  # a package: the root, first on the path, wins
    assert source_roots(files, {"django"}) == ["core/settings", ""]


def test_a_folder_with_no_init_imported_by_its_dotted_name_makes_a_sources_root() -> None:
    """danielhamelberg's fastapi-microservice: served as ``src.main`` from the root (its
    relative and ``src.`` imports need it), its ``from auth.utils import …`` and ``from
    repositories.posts import …`` name src/auth/ and src/repositories/, folders with no
    ``__init__.py``: src/ was never found a sources root ("No module named 'auth'"). Its
    tests' imports decide nothing; a folder shadowing an installed package is none."""
    files = {
        "requirements.txt": b"fastapi\n",
        "src/main.py": b"from .database import engine\nfrom src.models import Post\n"
        b"from auth.utils import current_user\n",
        "src/database.py": b"engine = 'engine'\n",
        "src/models.py": b"from repositories.posts import posts\nPost = posts\n",
        "src/auth/utils.py": b"current_user = 'user'\n",
        "src/repositories/posts.py": b"posts = 'posts'\n",
    }
    assert source_roots(files, {"fastapi"}) == ["src"]
    alone = {**files, "src/main.py": b"from .database import engine\n", "src/models.py": b""}
    assert source_roots(alone, {"fastapi"}) == []
    shadowing = {**files, "src/redis.py": b""}
    assert source_roots(shadowing, {"fastapi", "redis"}) == []


def test_a_package_only_a_sibling_folder_holds_is_a_sources_root() -> None:
    """withfaithinFuture's FastapiPetproj: its ``alembic/env.py`` imports
    ``db.base_service``, which only ``src/db/`` holds (its author runs Alembic with
    ``src`` on the path): "No module named 'db'" at ``alembic upgrade head``. Where two
    folders hold such a package, neither is taken: which one is meant is not known."""
    files = {
        "alembic/env.py": b"from alembic import context\nfrom db.base_service import Base\n",
        "src/__init__.py": b"",
        "src/app/main.py": b"from src.db.base_service import Base\n",
        "src/db/__init__.py": b"",
        "src/db/base_service.py": b"Base = object\n",
    }
    # (and the root, which its app imports ``src.db`` from)
    assert source_roots(files, {"alembic"}) == ["src", ""]
    files["lib/db/base_service.py"] = b"Base = object\n"
    assert source_roots(files, {"alembic"}) == [""]
