"""Shapes of the twenty-third batch of real Python apps (issue 66's training side): each
rule reads what the app itself declares, tested on a fixture app of its shape."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from preview.apps.configvars import (
    OPTIONAL,
    json_settings_fields,
    readme_copied_env,
    required_variables,
)
from preview.apps.depspec import PythonDeps, python_dependencies
from preview.apps.detect import detect
from preview.apps.imports import source_roots
from preview.apps.pyfloor import code_python_floor
from preview.backing import wanted_servers
from preview.backing.postgres import postgres_variables
from preview.builds.configdefaults import config_defaults, env_files_needed, throwaway_value
from preview.builds.remedies import Remedies
from preview.builds.remedies.mysqldb import stand_in_for_mysqldb

from ..launching import app_files


def _bytes(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


def test_list_settings_are_given_as_the_json_pydantic_settings_reads() -> None:
    """Prashanti355's fastapi-users-products-jwt-api (its .env.example's
    ``BACKEND_CORS_ORIGINS=a,b`` for a ``list[str]``) and Jeihunn's
    fastapi-blog-best-practices (a required ``ALLOWED_HOSTS: List[str]``, given ``*``)
    died on pydantic-settings' SettingsError before their code ran: the environment's
    value of a list field is decoded as JSON first."""
    files = _bytes("fastapi_settings_json_list")
    assert json_settings_fields(files) == {"ALLOWED_HOSTS": "list", "BACKEND_CORS_ORIGINS": "list"}
    found = config_defaults(files, "app/main.py", {}, {"PORT"})
    assert json.loads(found.values["BACKEND_CORS_ORIGINS"]) == [
        "http://localhost:3000",
        "http://localhost:8000",
    ]
    assert json.loads(found.values["ALLOWED_HOSTS"]) == ["*"]
    assert any("as JSON" in note for note in found.notes)
    # Where the upload's .env or the launch sets it, theirs is the app's own: not ours.
    given = config_defaults(files, "app/main.py", {"BACKEND_CORS_ORIGINS": "a,b"}, {"PORT"})
    assert given.values["BACKEND_CORS_ORIGINS"] == "http://localhost:3000,http://localhost:8000"


def test_which_settings_fields_are_read_as_json() -> None:
    source = b"""
from typing import Annotated, Dict, List, Optional, Union
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic import Field

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_")
    hosts: Optional[List[str]] = None
    origins: "list[str] | None" = None
    extra: Dict[str, str] = {}
    named: set[int] = Field(default=set(), alias="SOME_IDS")
    raw: Annotated[list[str], NoDecode] = []
    either: Union[List[str], str] = ""
    text: str = ""

class Plain(BaseSettings):
    model_config = SettingsConfigDict(enable_decoding=False)
    items: list[str] = []
"""
    assert json_settings_fields({"config.py": source}) == {
        "APP_HOSTS": "list",
        "APP_ORIGINS": "list",
        "APP_EXTRA": "mapping",
        "SOME_IDS": "list",
    }


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


def test_the_python_an_apps_own_syntax_needs_where_nothing_declares_one() -> None:
    """kiyoshisama's fastapi-blog-sqlalchemy-v2 declares no Python; built on 3.9 (its old
    packages' wheels), its ``title: str | None`` model died at import."""
    deps = python_dependencies(_bytes("fastapi_union_syntax"), "main.py")
    assert deps.python_request == ">=3.10"
    assert deps.python_source is not None and deps.python_source.startswith("app/schemas.py")
    deferred = b"from __future__ import annotations\ndef f(x: int | None) -> str | None: ...\n"
    assert code_python_floor({"a.py": deferred}) is None  # never evaluated
    assert code_python_floor({"a.py": deferred[35:]}) == (
        "3.10",
        "a.py: an X | Y annotation evaluated as it runs (Python 3.10)",
    )
    model = deferred + b"class M(BaseModel):\n    x: int | None = None\n"
    assert code_python_floor({"m.py": model}) is not None  # pydantic evaluates it
    star = b"try:\n    pass\nexcept* ValueError:\n    pass\n"
    assert code_python_floor({"a.py": star, "tests/t.py": b"match x:\n    case 1: pass\n"}) == (
        "3.11",
        "a.py: except* (Python 3.11)",
    )
    # What the app declares wins: its requires-python, its .python-version.
    files = {**_bytes("fastapi_union_syntax"), ".python-version": b"3.12\n"}
    assert python_dependencies(files, "main.py").python_request == "3.12"


def test_a_class_the_apps_code_instantiates_made_abstract_is_held(tmp_path: Path) -> None:
    """WannaCry081's Bookstore-Flask-API (``price = fields.Number()``, its marshmallow
    unpinned behind flask-marshmallow) died on marshmallow 4: "Can't instantiate abstract
    class Number with abstract method num_type"."""
    site = tmp_path / "lib" / "python3.11" / "site-packages" / "marshmallow-4.1.0.dist-info"
    site.mkdir(parents=True)
    (site / "METADATA").write_text("Metadata-Version: 2.1\nName: marshmallow\nVersion: 4.1.0\n")
    (site / "top_level.txt").write_text("marshmallow\n")
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(("flask-marshmallow",), "requirements.txt", None, None)
    remedies.tried.python_version, remedies.tried.env_path = "3.11.7", tmp_path
    files = {"App/models/book.py": b"from marshmallow import fields\n"}
    failure = [
        "Traceback (most recent call last):",
        '  File "App/models/book.py", line 52, in BookSchema',
        "    price = fields.Number()",
        "            ^^^^^^^^^^^^^^^",
        "TypeError: Can't instantiate abstract class Number with abstract method num_type",
    ]
    fix = remedies.next_fix(failure[-1], failure, files, ["3.11.7"])
    assert fix is not None and fix.add == "marshmallow<4", fix
    # A class of the app's own module: not a dependency's.
    own = {"App/models/book.py": b"from App.fields import Number\n", "App/fields.py": b""}
    mine = [*failure[:2], "    price = Number()", failure[-1]]
    again = Remedies()
    again.tried = remedies.tried
    assert again.next_fix(mine[-1], mine, own, ["3.11.7"]) is None


def test_an_old_setup_py_a_strict_setuptools_refuses_is_built_on_an_older_one() -> None:
    """Valaraucoo's django-api-docker-aws-jwt pins xhtml2pdf 0.2.5, whose arabic-reshaper
    2.1.1 sdist declares ``fonttools>=3.0<4.0``: the newest setuptools refuses its
    setup.py, on every Python."""
    lines = [
        "  × Failed to build `arabic-reshaper==2.1.1`",
        "      error in arabic_reshaper setup command: 'extras_require' must be a",
        "      dictionary whose values are strings or lists of strings containing valid",
    ]
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(("arabic-reshaper==2.1.1",), "requirements.txt", None, None)
    remedies.tried.python_version = "3.8.18"
    fix = remedies.next_fix(lines[0], lines, {}, ["3.8.18"])
    assert fix is not None and fix.python_below is None
    assert fix.build == "setuptools<66\nwheel<0.38"  # each a line of the build constraints


def test_the_file_the_readme_says_to_copy_to_env_is_the_example() -> None:
    """Jeihunn's fastapi-blog-best-practices: its README says "Copy the sample
    `.env.local` file to `.env`", a name no example's word says; its settings' MAIL_*
    were then "needed". Its ``MAIL_FROM='your_email'`` is no address for an EmailStr."""
    files = _bytes("fastapi_readme_copied_env")
    assert readme_copied_env(files) == ".env.local"
    found = config_defaults(files, "app/main.py", {}, {"PORT"})
    assert found.example == ".env.local" and not found.missing
    assert found.values["MAIL_SERVER"] == "smtp.example.com"
    assert found.values["MAIL_FROM"] == "preview@example.com"
    for said in ("```sh\ncp .env.local .env\n```", "copy env/dev.env into .env",
                 "Copy .env.local to a new file named .env"):  # fmt: skip
        named = {"README.md": said.encode(), ".env.local": b"", "env/dev.env": b""}
        assert readme_copied_env(named) in (".env.local", "env/dev.env"), said
    # A file the upload does not have, or a .env it has: nothing to copy.
    assert readme_copied_env({"README.md": b"cp .env.dev .env"}) is None
    present = {**files, ".env": b"SECRET_KEY=x\n"}
    assert config_defaults(present, "app/main.py", {}, {"PORT"}).example is None


def test_a_listed_package_nothing_installs_here_and_nothing_imports_is_left_out() -> None:
    """kiyoshisama's fastapi-blog-sqlalchemy-v2 lists ``redis-server`` (wheels for macOS
    only, no sdist), which none of its modules imports: no Python could install it."""
    text = "No solution found when resolving dependencies: Because all versions of redis-server"
    lines = [
        "  ╰─▶ Because all versions of redis-server have no wheels with a matching",
        "      platform tag (e.g., `manylinux_2_36_x86_64`) and you require",
        "hint: Wheels are available for `redis-server` (v6.0.9) on the following platform: "
        "`macosx_10_15_x86_64`",
    ]

    def fix_for(files: dict[str, bytes], lines: list[str] = lines) -> object:
        remedies = Remedies()
        listed = ("fastapi", "redis-server")
        remedies.tried.deps = PythonDeps(listed, "requirements.txt", None, None)
        remedies.tried.python_version = "3.11.7"
        return remedies.next_fix(text, lines, files, ["3.11.7"])

    fix = fix_for({"main.py": b"import redis\nfrom fastapi import FastAPI\n"})
    assert fix is not None and getattr(fix, "drop", None) == "redis-server"
    assert fix_for({"main.py": b"import redis_server\n"}) is None  # the app's own use
    linux = [*lines[:2], "hint: Wheels are available for `x` (v1) on the following platforms: "
             "`manylinux_2_17_aarch64`, `macosx_11_0_arm64`"]  # fmt: skip
    assert fix_for({"main.py": b""}, linux) is None  # Linux has wheels: another cause


def test_pymysql_stands_in_for_mysqldb_where_mysqlclient_cannot_be_built(tmp_path: Path) -> None:
    """WannaCry081's Bookstore-Flask-API serves ``mysql://root:data@localhost/book_db``,
    whose SQLAlchemy dialect imports MySQLdb; mysqlclient (no Linux wheel) cannot be built
    here, and adding it back after a drop ended every launch on its build."""
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    (site / "pymysql").mkdir(parents=True)
    (site / "pymysql" / "__init__.py").write_text(
        "import sys\n"
        "def install_as_MySQLdb():\n"
        "    sys.modules['MySQLdb'] = sys.modules[__name__]\n"
    )
    assert stand_in_for_mysqldb(tmp_path)
    probe = f"import site; site.addsitedir({str(site)!r}); import MySQLdb; print(MySQLdb.__name__)"
    ran = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert ran.stdout.strip() == "pymysql"
    # mysqlclient's own MySQLdb installed: left alone.
    (site / "MySQLdb").mkdir()
    (site / "_preview_mysqldb.pth").unlink()
    assert not stand_in_for_mysqldb(tmp_path)
    if shutil.which("mysql_config") or shutil.which("mariadb_config"):
        return  # mysqlclient builds here: the remedies add it
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(("flask-sqlalchemy",), "requirements.txt", None, None)
    remedies.tried.python_version = "3.11.7"
    missing = "ModuleNotFoundError: No module named 'MySQLdb'"
    fix = remedies.next_fix(missing, [], {"app.py": b"import flask\n"}, ["3.11.7"])
    assert fix is not None and (fix.add, fix.drop) == ("PyMySQL", "mysqlclient")


def test_another_database_url_and_an_expiry_time_the_app_requires_are_given() -> None:
    """kiyoshisama's fastapi-blog-sqlalchemy-v2 reads ``config("TEST_DATABASE_URL")`` and
    ``int(config("ACCESS_EXPIRE_TIME"))`` at import, with no default: both were
    "needed", though one is a database URL and the other a duration."""
    source = (
        b"from decouple import config\n"
        b"DB = config('DATABASE_URL')\nTEST_DB = config('TEST_DATABASE_URL')\n"
        b"ACCESS = int(config('ACCESS_EXPIRE_TIME'))\n"
    )
    url = "postgresql://preview:secret@127.0.0.1:5432/app"
    provided = {**postgres_variables({}, "127.0.0.1", 5432), "DATABASE_URL": url, "PORT": "1"}
    found = config_defaults({"app/config.py": source}, "app/config.py", {}, provided)
    assert not found.missing, found.missing
    assert found.values["TEST_DATABASE_URL"] == url
    assert found.values["ACCESS_EXPIRE_TIME"] == "60"


def test_an_smtp_login_the_app_requires_is_a_throwaway_address() -> None:
    """Valaraucoo's django-api-docker-aws-jwt: ``EMAIL_HOST_USER = os.environ.get(…) or
    env('EMAIL_HOST_USER')``; migrate died on ImproperlyConfigured."""
    for name in ("EMAIL_HOST_USER", "MAIL_USERNAME", "SMTP_USER", "SMTP_LOGIN"):
        assert throwaway_value(name) == "preview@example.com", name
    assert throwaway_value("DB_USER") is None  # the database's: the served one's


def test_a_config_reader_imported_under_another_name_is_read() -> None:
    """kiyoshisama's fastapi-blog-sqlalchemy-v2: ``from decouple import config as
    decouple_config``, then ``decouple_config("TEST_DATABASE_URL")``, unseen: "needed"
    only once the app had died on it."""
    source = (
        b"from decouple import config as read\n"
        b"URL = read('TEST_DATABASE_URL')\nX = read('A', default='1')\n"
    )
    assert required_variables({"app/config.py": source}) == ["TEST_DATABASE_URL"]


def test_a_required_switch_of_another_service_is_off() -> None:
    """Valaraucoo's django-api-docker-aws-jwt: ``USE_S3 = os.environ.get('USE_S3') or
    env('USE_S3')``, then ``if USE_S3:`` (every non-empty string is on)."""
    assert throwaway_value("USE_S3") == ""
    assert throwaway_value("ENABLE_SENTRY", "bool") == "false"
    assert throwaway_value("SENTRY_ENABLED", "bool") == "false"
    assert throwaway_value("USE_S3", OPTIONAL) is None  # read with a default: the app's
    source = (
        b"import environ, os\nenv = environ.Env()\n"
        b"USE_S3 = os.environ.get('USE_S3') or env('USE_S3')\n"
    )
    found = config_defaults({"core/settings.py": source}, "core/settings.py", {}, {"PORT"})
    assert found.values["USE_S3"] == "" and not found.missing


def test_a_database_url_in_an_f_string_of_the_modules_constants_is_read() -> None:
    """WannaCry081's Bookstore-Flask-API: ``f"mysql://root:data@localhost:3306/{DB_NAME}"``
    beside ``DB_NAME : str = "book_db"``; read as a template, no MariaDB was given."""
    config = (
        b'DB_NAME : str = "book_db"\n'
        b"class Production:\n"
        b'    SQLALCHEMY_DATABASE_URI : str = f"mysql://root:data@localhost:3306/{DB_NAME}"\n'
    )
    files = {"config.py": config, "requirements.txt": b"flask\nmysqlclient\n", "app.py": b""}
    mysql = wanted_servers(files, "app.py", {}).mysql
    assert (
        mysql is not None and mysql.databases == ["book_db"] and mysql.accounts == {"root": "data"}
    )
    unknown = config.replace(b'"book_db"', b'os.getenv("DB")')
    assert wanted_servers({**files, "config.py": unknown}, "app.py", {}).mysql is None


def test_a_locked_mysqlclient_that_cannot_be_built_gives_way_to_pymysql() -> None:
    """pjesus22's simple-drf-blog: its uv.lock holds mysqlclient (Django on MariaDB),
    which cannot be built here; the remedies never touched a lock. It is now left out of
    ``uv sync`` (``--no-install-package``) and PyMySQL installed beside it."""
    if shutil.which("mysql_config") or shutil.which("mariadb_config"):
        return  # mysqlclient builds here
    lock = '[[package]]\nname = "django"\n\n[[package]]\nname = "mysqlclient"\n'
    deps = PythonDeps((), "uv.lock", None, None, ("[project]\n", lock))
    remedies = Remedies()
    remedies.tried.deps, remedies.tried.python_version = deps, "3.12.1"
    files = {"src/config/settings.py": b"DATABASES = {}\n"}
    built = "building mysqlclient 2.2.8 for Python 3.12 needs MySQL's client library"
    fix = remedies.next_fix(built, [], files, ["3.12.1"])
    assert fix is not None and fix.drop == "mysqlclient"
    django = "django.core.exceptions.ImproperlyConfigured: Error loading MySQLdb module."
    fix = remedies.next_fix(django, [], files, ["3.12.1"])
    assert fix is not None and (fix.add, fix.drop) == ("PyMySQL", "mysqlclient")
    applied = remedies.apply(deps)
    assert applied.lock == deps.lock and applied.requirements == ("PyMySQL",)
    assert applied.not_installed == ("mysqlclient",)
    assert applied.key("3.12.1", (), "") != deps.key("3.12.1", (), "")
    # Anything else a lock's failure calls for is still the app's own to change.
    held = "AttributeError: module 'collections' has no attribute 'MutableMapping'"
    other = Remedies()
    other.tried.deps, other.tried.python_version = deps, "3.11.7"
    assert other.next_fix(held, [], files, ["3.11.7", "3.9.18"]) is None


def test_an_env_file_path_built_from_a_siblings_constant_is_written() -> None:
    """pjesus22's simple-drf-blog: ``from .base import *`` brings ``BASE_DIR``; its
    development settings give ``RepositoryEnv(BASE_DIR.parent / ".env")``, which it lacks
    (decouple fails without the file; the variables come from the environment)."""
    base = b"from pathlib import Path\nBASE_DIR = Path(__file__).resolve().parent.parent.parent\n"
    development = (
        b"from decouple import Config, RepositoryEnv\nfrom .base import *\n"
        b'config = Config(RepositoryEnv(BASE_DIR.parent / ".env"))\n'
    )
    files = {
        "src/config/settings/base.py": base,
        "src/config/settings/development.py": development,
        ".env.example": b"SECRET_KEY=x\n",
    }
    assert env_files_needed(files) == [".env"]
    renamed = development.replace(b"from .base import *", b"from .base import BASE_DIR as ROOT")
    named = {**files, "src/config/settings/development.py": renamed.replace(b"BASE_DIR.", b"ROOT.")}
    assert env_files_needed(named) == [".env"]
    assert env_files_needed({**files, ".env": b""}) == []


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


def test_a_uv_locked_dev_group_the_apps_code_names_is_installed() -> None:
    """pjesus22's simple-drf-blog: its development settings (manage.py's default) list
    ``django_extensions``, of its pyproject's ``dev`` group, which ``uv sync`` installs
    unasked; built with ``--no-dev``, migrate died on "No module named
    'django_extensions'"."""
    pyproject = (
        b'[project]\nname = "blog"\nversion = "0"\ndependencies = ["django>=5"]\n'
        b'[dependency-groups]\ndev = ["django-extensions>=4.1", "pytest>=8"]\n'
    )
    files = {
        "pyproject.toml": pyproject,
        "uv.lock": b'version = 1\n[[package]]\nname = "django"\n',
        "src/manage.py": b"import os\n",
        "src/config/settings.py": b'INSTALLED_APPS = ["django_extensions"]\n',
    }
    deps = python_dependencies(files, "src/manage.py")
    assert deps.lock is not None and deps.with_dev
    # Only a test naming it (pytest's own): the dev group stays out.
    files["src/config/settings.py"] = b"INSTALLED_APPS = []\n"
    files["tests/test_x.py"] = b"import pytest\nimport django_extensions\n"
    assert not python_dependencies(files, "src/manage.py").with_dev
