"""A launch that fails for a cause the service recognises is relaunched with a fix, said
in a system line: an older Python for a name the standard library lost, an unpinned
dependency held below the major that removed an API, an undeclared module's distribution
added. Unit tests read failures as they are printed; the launches are real builds (their
environments in the session's cache)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
import trio
import uv
from packaging.version import Version

from preview.apps.depspec import PythonDeps
from preview.apps.detect import detect
from preview.apps.imports import import_mapping
from preview.apps.node.nodeapp import BUN, node_start
from preview.backing.pgprivate import server_binaries
from preview.builds.envcache import BuildFailed, write_requirements
from preview.builds.installers import (
    for_python,
    installer_failure,
    noting_failed_builds,
    relevant_lines,
)
from preview.builds.interpreters import Interpreter, build_first_fitting
from preview.builds.remedies import MOST, MOST_IDLE, Fix, Remedies, removed_from_stdlib
from preview.builds.remedies.mysqldb import stand_in_for_mysqldb
from preview.builds.remedies.stacks import companions
from preview.logs import HostPaths, OutputTails
from preview.runtime.anyport import timeout_message

from ..conftest import Service, auth
from ..launching import BUILD_WAIT, app_files, launched, messages

GRAPHVIZ_HEADERS = Path("/usr/include/graphviz/cgraph.h").exists()  # pygraphviz builds
PYTHONS = ["3.13.0", "3.12.1", "3.11.7", "3.10.13", "3.9.18", "3.8.18"]


def _remedies(requirements: tuple[str, ...], env: Path | None = None) -> Remedies:
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(requirements, "requirements.txt", ">=3.8", "pyproject")
    remedies.tried.python_version, remedies.tried.env_path = "3.11.7", env
    return remedies


def _env_with(tmp_path: Path, name: str, version: str, top: str) -> Path:
    info = tmp_path / "lib" / "python3.11" / "site-packages" / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "top_level.txt").write_text(top + "\n")
    return tmp_path


def test_a_distutils_module_setuptools_dropped_holds_setuptools_below_it(tmp_path: Path) -> None:
    """daviromao's product-review-drf imports ``from distutils.command.upload import
    upload`` (an editor's auto-import beside ``upload_to``): on Python 3.10 that is the
    standard library's, but setuptools' copy of distutils takes its place, and 75.0
    dropped ``upload``; an older Python would change nothing."""
    env = _env_with(tmp_path, "setuptools", "80.9.0", "setuptools")
    remedies = _remedies(("Django==4.2", "djangorestframework"), env)
    remedies.tried.python_version = "3.10.13"
    lines = [
        '  File "reviews/models.py", line 1, in <module>',
        "    from distutils.command.upload import upload",
        "ModuleNotFoundError: No module named 'distutils.command.upload'",
    ]
    fix = remedies.next_fix(lines[-1], lines, {"reviews/models.py": b""}, PYTHONS)
    assert fix is not None and fix.add == "setuptools<75", fix
    assert "relaunching with setuptools<75" in fix.said
    # The module imported from its package (sushma-seet's djangoRecipeApi).
    named = [
        '  File "core/models.py", line 3, in <module>',
        "    from distutils.command import upload",
        "ImportError: cannot import name 'upload' from 'distutils.command' "
        "(<environment>/lib/python3.9/site-packages/setuptools/_distutils/command/__init__.py)",
    ]
    remedies = _remedies(("Django==4.2", "djangorestframework"), env)
    remedies.tried.python_version = "3.9.18"
    fix = remedies.next_fix(named[-1], named, {"core/models.py": b""}, PYTHONS)
    assert fix is not None and fix.add == "setuptools<75", fix
    # setuptools older than that, or none: not the cause.
    older = _env_with(tmp_path / "older", "setuptools", "74.1.3", "setuptools")
    remedies = _remedies(("Django==4.2",), older)
    remedies.tried.python_version = "3.10.13"
    assert remedies.next_fix(lines[-1], lines, {}, PYTHONS) is None


def test_an_app_config_named_otherwise_than_its_module_runs_on_django_before_3_2(
    tmp_path: Path,
) -> None:
    """xpros' django-rest-framework-todo lists ``todo_app.todo``, whose ``apps.py`` says
    ``name = 'todo'``; its migrations are Django 2.2's, its requirements unpinned: Django
    3.2 and later take that config by themselves and refuse it."""
    env = _env_with(tmp_path, "Django", "5.2.8", "django")
    remedies = _remedies(("django", "djangorestframework"), env)
    line = (
        "django.core.exceptions.ImproperlyConfigured: Cannot import 'todo'. Check that "
        "'todo_app.todo.apps.TodoConfig.name' is correct."
    )
    fix = remedies.next_fix(line, [line], {}, PYTHONS)
    assert fix is not None and fix.add == "Django<3.2", fix
    assert "relaunching with Django<3.2" in fix.said
    # The app's own Django pinned: its to say.
    assert _remedies(("Django==4.2",), env).next_fix(line, [line], {}, PYTHONS) is None
    # An older Django installed already: not the cause.
    older = _env_with(tmp_path / "older", "Django", "3.1.4", "django")
    assert _remedies(("django",), older).next_fix(line, [line], {}, PYTHONS) is None


def test_a_package_saying_the_app_needs_a_newer_python_gets_one() -> None:
    """duressa-feyissa's fastapi-clean-architecture-todo-app declares no Python and uses
    ``typing.TypedDict`` in its pydantic models: built on 3.11, pydantic 2 refuses it
    "on Python < 3.12". The oldest Python present from 3.12 on, once."""
    remedies = _remedies(("FastAPI", "pydantic"))
    lines = [
        '  File "<environment>/lib/python3.11/site-packages/pydantic/_internal/_generate'
        '_schema.py", line 1, in _typed_dict_schema',
        "pydantic.errors.PydanticUserError: Please use `typing_extensions.TypedDict` "
        "instead of `typing.TypedDict` on Python < 3.12.",
    ]
    fix = remedies.next_fix(lines[-1], lines, {}, PYTHONS)
    assert fix is not None and fix.python_from == "3.12", fix
    assert "relaunching with Python 3.12" in fix.said and fix.change == "Python >=3.12"
    deps = remedies.apply(remedies.tried.deps)  # type: ignore[arg-type]
    assert deps.python_request == ">=3.8,>=3.12"
    remedies.failure_before = (lines[-1], lines, None)
    assert remedies.next_fix(lines[-1], lines, {}, PYTHONS) is None  # once
    # This Python as new already, or none as new present: not the fix.
    newer = _remedies(("FastAPI",))
    newer.tried.python_version = "3.12.1"
    assert newer.next_fix(lines[-1], lines, {}, PYTHONS) is None
    assert _remedies(("FastAPI",)).next_fix(lines[-1], lines, {}, PYTHONS[2:]) is None


def test_an_f_string_of_python_312s_grammar_in_the_apps_code_gets_a_newer_python() -> None:
    """yuriiyukh's FastAPI-Receipts-Project: an f-string's expression continued on the
    next line (PEP 701), "unterminated string literal" on 3.11. The oldest Python present
    from 3.12 on; not for a package's file, a line holding no f-string, nor on 3.12."""
    source = b'x = 1\npayment_line = f"{receipt.payment_type.capitalize(\n)} {x}"\n'
    files = {"app/routers/receipt.py": source, "app/main.py": b""}
    lines = [
        '  File "/srv/previews/p_1/app/main.py", line 3, in <module>',
        "    from app.routers import receipt",
        '  File "/srv/previews/p_1/app/routers/receipt.py", line 2',
        '    payment_line = f"{receipt.payment_type.capitalize(',
        "                   ^",
        "SyntaxError: unterminated string literal (detected at line 2)",
    ]
    fix = _remedies(("fastapi",)).next_fix(lines[-1], lines, files, PYTHONS)
    assert fix is not None and fix.python_from == "3.12", fix
    assert fix.said.startswith("app/routers/receipt.py line 2 holds an f-string only Python")
    plain = {**files, "app/routers/receipt.py": b"x = 1\npayment_line = 'a\n"}
    fix = _remedies(("fastapi",)).next_fix(lines[-1], lines, plain, PYTHONS)
    assert fix is None or fix.python_from is None, fix
    package = [lines[0].replace("/srv/previews/p_1", "<environment>/site-packages"), *lines[1:]]
    package[2] = package[2].replace("/srv/previews/p_1", "<environment>/site-packages")
    fix = _remedies(("fastapi",)).next_fix(lines[-1], package, files, PYTHONS)
    assert fix is None or fix.python_from is None, fix
    newer = _remedies(("fastapi",))
    newer.tried.python_version = "3.12.1"
    fix = newer.next_fix(lines[-1], lines, files, PYTHONS)
    assert fix is None or fix.python_from is None, fix


def test_a_module_of_a_package_its_code_uses_unimported_is_no_release_to_hold(
    tmp_path: Path,
) -> None:
    """jdht1992's fastapi-shipment: ``import rich`` then ``rich.panel.Panel(…)``, which
    another import loaded on its author's machine: "module 'rich' has no attribute
    'panel'" was read as rich 15 having dropped it (rich<15, then its era: two attempts
    that could not help). A name that is no module of the package is held as before."""
    env = _env_with(tmp_path, "rich", "15.0.0", "rich")
    package = env / "lib" / "python3.11" / "site-packages" / "rich"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "panel.py").write_text("class Panel: ...\n")
    lines = [
        '  File "app/main.py", line 12, in lifespan',
        '    rich.print(rich.panel.Panel("Starting up..."))',
        "AttributeError: module 'rich' has no attribute 'panel'",
    ]
    own = {"app/main.py": b"import rich\n"}
    assert _remedies(("fastapi", "rich"), env).next_fix(lines[-1], lines, own, PYTHONS) is None
    gone = [*lines[:-1], "AttributeError: module 'rich' has no attribute 'print_json'"]
    fix = _remedies(("fastapi", "rich"), env).next_fix(gone[-1], gone, own, PYTHONS)
    assert fix is not None and fix.add == "rich<15", fix


def test_a_name_the_standard_library_lost_asks_for_an_older_python() -> None:
    remedies = _remedies(("flask",))
    message = "AttributeError: module 'collections' has no attribute 'MutableMapping'"
    fix = remedies.next_fix(message, [], {}, PYTHONS)
    assert fix is not None and fix.python_below == "3.10"
    assert "relaunching with Python 3.9" in fix.said
    deps = remedies.apply(remedies.tried.deps)  # type: ignore[arg-type]
    assert deps.python_request == ">=3.8,<3.10"
    imported = "ImportError: cannot import name 'Iterator' from 'collections' (<python>/x.py)"
    assert _remedies(()).next_fix(imported, [], {}, PYTHONS).python_below == "3.10"  # type: ignore[union-attr]
    assert removed_from_stdlib("distutils.core", None) == "3.12"
    assert removed_from_stdlib("asyncio", "coroutine") == "3.11"
    assert removed_from_stdlib("html.parser", "HTMLParseError") == "3.5"  # (Django 1.6's)
    assert removed_from_stdlib("cgi", "escape") == "3.8"  # (an old Flask-Markdown's)
    assert removed_from_stdlib("cgi", "FieldStorage") == "3.13"  # (the module's own end)
    assert removed_from_stdlib("collections", "OrderedDict") is None
    # On a Python that still has it, it is not the cause.
    old = _remedies(())
    old.tried.python_version = "3.9.18"
    assert old.next_fix(message, [], {}, PYTHONS) is None


def test_a_name_a_package_imports_from_an_optional_companion_adds_the_companion(
    tmp_path: Path,
) -> None:
    """nickAnhel's FastAPI-Fitness-Club: ``from fastapi_users.db import
    SQLAlchemyBaseUserTable``, which fastapi-users 10 moved into fastapi-users-db-sqlalchemy
    and re-exports only where that is installed (``try: from fastapi_users_db_sqlalchemy
    import …`` ``except ImportError: pass``): the companion is added, not fastapi-users held."""
    env = _env_with(tmp_path, "fastapi-users", "13.0.0", "fastapi_users")
    package = env / "lib" / "python3.11" / "site-packages" / "fastapi_users" / "db"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "from fastapi_users.db.base import BaseUserDatabase\n"
        "try:  # pragma: no cover\n"
        "    from fastapi_users_db_sqlalchemy import (  # noqa: F401\n"
        "        SQLAlchemyBaseUserTable,\n"
        "        SQLAlchemyUserDatabase,\n"
        "    )\n"
        "except ImportError:  # pragma: no cover\n"
        "    pass\n"
    )
    message = (
        "ImportError: cannot import name 'SQLAlchemyBaseUserTable' from 'fastapi_users.db' "
        "(<environment>/lib/python3.11/site-packages/fastapi_users/db/__init__.py)"
    )
    fix = _remedies(("fastapi_users==13.0.0",), env).next_fix(message, [], {}, PYTHONS)
    assert fix is not None and fix.add == "fastapi-users-db-sqlalchemy", fix
    # A name it does not import so, or a companion already there: not this fix.
    other = message.replace("SQLAlchemyBaseUserTable", "BaseUserTable")
    fix = _remedies(("fastapi_users==13.0.0",), env).next_fix(other, [], {}, PYTHONS)
    assert fix is None or fix.add != "fastapi-users-db-sqlalchemy"
    _env_with(tmp_path, "fastapi-users-db-sqlalchemy", "6.0.1", "fastapi_users_db_sqlalchemy")
    fix = _remedies(("fastapi_users==13.0.0",), env).next_fix(message, [], {}, PYTHONS)
    assert fix is None or fix.add != "fastapi-users-db-sqlalchemy"


def test_a_keyword_the_standard_library_no_longer_takes_asks_for_an_older_python() -> None:
    django = "TypeError: translation() got an unexpected keyword argument 'codeset'"
    fix = _remedies(("Django>=2.1.3,<2.2.0",)).next_fix(django, [], {}, PYTHONS)
    assert fix is not None and fix.python_below == "3.11" and "with Python 3.10" in fix.said
    loop = "TypeError: Queue.__init__() got an unexpected keyword argument 'loop'"
    assert _remedies(()).next_fix(loop, [], {}, PYTHONS).python_below == "3.10"  # type: ignore[union-attr]
    # A function of the app's own, or a Python that still takes it: not the cause.
    own = "TypeError: make_report() got an unexpected keyword argument 'codeset'"
    assert _remedies(()).next_fix(own, [], {}, PYTHONS) is None
    old = _remedies(())
    old.tried.python_version = "3.10.13"
    assert old.next_fix(django, [], {}, PYTHONS) is None


def test_a_dataclass_default_with_no_hash_asks_for_a_python_before_3_11() -> None:
    """sharon1bary's async-fastapi: a dataclass field defaulting to another dataclass's
    instance (no hash), refused since 3.11; a list's was refused before, no older Python
    mends it, nor is one asked for on 3.10."""
    said = (
        "ValueError: mutable default <class 'src.config.EndpointsConfig.RunTaskConfig'> for "
        "field run_task_config is not allowed: use default_factory"
    )
    fix = _remedies(()).next_fix(said, [], {}, PYTHONS)
    assert fix is not None and fix.python_below == "3.11" and "with Python 3.10" in fix.said
    listed = said.replace("src.config.EndpointsConfig.RunTaskConfig", "list")
    assert _remedies(()).next_fix(listed, [], {}, PYTHONS) is None
    old = _remedies(())
    old.tried.python_version = "3.10.13"
    assert old.next_fix(said, [], {}, PYTHONS) is None


def test_a_package_failing_on_a_newer_python_than_it_knows_takes_an_older_one(
    tmp_path: Path,
) -> None:
    env = _env_with(tmp_path, "Django", "1.10.5", "django")
    metadata = env / "lib" / "python3.11" / "site-packages" / "Django-1.10.5.dist-info" / "METADATA"
    classifiers = "".join(f"Classifier: Programming Language :: Python :: 3.{n}\n" for n in (4, 5))
    metadata.write_text(metadata.read_text() + classifiers)
    remedies = _remedies(("Django==1.10.5",), env)
    remedies.tried.python_version = "3.9.18"
    lines = [
        "Traceback (most recent call last):",
        '  File "<environment>/lib/python3.9/site-packages/django/contrib/auth/base_user.py"',
        "    class AbstractBaseUser(models.Model):",
        "RuntimeError: __class__ not set defining 'AbstractBaseUser' as <class 'x'>. Was "
        "__classcell__ propagated to type.__new__?",
    ]
    fix = remedies.next_fix("setup step failed (exited with code 1): migrate", lines, {}, PYTHONS)
    # Its classifiers end at 3.5, which is not installed: the oldest present, 3.8, then.
    assert fix is not None and fix.python_below == "3.9" and "with Python 3.8" in fix.said
    assert "Django fails on Python 3.9.18" in fix.said
    # A SyntaxError in the app's own code is not the interpreter's.
    own = ['  File "app.py", line 3', "SyntaxError: invalid syntax"]
    assert _remedies(()).next_fix("SyntaxError: invalid syntax", own, {}, PYTHONS) is None
    # Nor a database's, raised through an installed package (zeeshanravian1's
    # fastapi-ecommerce-postgresql: CREATE SCHEMA <database_name>, asyncpg's
    # PostgresSyntaxError through SQLAlchemy; it was relaunched on an older Python).
    sql = [
        "sqlalchemy.exc.ProgrammingError: (sqlalchemy.dialects.postgresql.asyncpg."
        "ProgrammingError) <class 'asyncpg.exceptions.PostgresSyntaxError'>: syntax error",
        '  File "<environment>/lib/python3.11/site-packages/django/db/base.py", line 3',
    ]
    assert remedies.next_fix("setup step failed (exited with code 1)", sql, {}, PYTHONS) is None


def test_a_code_object_built_with_an_older_pythons_arguments_takes_that_python(
    tmp_path: Path,
) -> None:
    """flask-restplus-boilerplate pins Werkzeug==0.15.2, whose routing builds code objects
    with 3.7's 13 arguments: on 3.9 every Flask() failed at its first rule."""
    env = _env_with(tmp_path, "Werkzeug", "0.15.2", "werkzeug")
    remedies = _remedies(("Flask==1.0.2", "Werkzeug==0.15.2"), env)
    remedies.tried.python_version = "3.9.18"
    lines = [
        "Traceback (most recent call last):",
        '  File "<environment>/lib/python3.9/site-packages/werkzeug/routing.py", line 1119',
        "    co = types.CodeType(*code_args)",
        "TypeError: code() takes at least 14 arguments (13 given)",
    ]
    fix = remedies.next_fix("exited with code 3", lines, {}, [*PYTHONS, "3.7.16"])
    assert fix is not None and fix.python_below == "3.8" and "with Python 3.7" in fix.said
    # 3.8's arguments on 3.11 (which takes 16): below 3.11.
    lines[-1] = "TypeError: code() takes at least 16 arguments (14 given)"
    newer = _remedies(("Werkzeug==0.15.2",), env)
    fix = newer.next_fix("exited with code 3", lines, {}, PYTHONS)
    assert fix is not None and fix.python_below == "3.11", fix


def test_a_syntax_tree_built_with_an_older_pythons_fields_takes_that_python(
    tmp_path: Path,
) -> None:
    """m4ra's flask-stripe pins Mako==1.0.4, whose templates compile a syntax tree with
    3.7's fields: on 3.8 and later Flask-Migrate's ``db upgrade`` failed in Mako."""
    env = _env_with(tmp_path, "Mako", "1.0.4", "mako")
    remedies = _remedies(("Flask==1.0", "Mako==1.0.4"), env)
    lines = [
        "Traceback (most recent call last):",
        '  File "<environment>/lib/python3.11/site-packages/mako/pyparser.py", line 25',
        "    return _ast_util.parse(code, '<unknown>', 'exec')",
        'TypeError: required field "type_ignores" missing from Module',
    ]
    fix = remedies.next_fix("setup step failed", lines, {}, [*PYTHONS, "3.7.16"])
    assert fix is not None and fix.python_below == "3.8" and "with Python 3.7" in fix.said


def test_a_keyword_as_a_parameter_name_takes_a_python_before_3_11(tmp_path: Path) -> None:
    """lfcamacho-dev's FastAPI-LMS-API locks pydantic 1.9.0 and fastapi 0.75 (poetry.lock):
    on 3.11, whose inspect.Parameter refuses ``not``, importing FastAPI failed."""
    env = _env_with(tmp_path, "pydantic", "1.9.0", "pydantic")
    remedies = _remedies(("fastapi==0.75.2", "pydantic==1.9.0"), env)
    remedies.tried.python_version = "3.11.7"
    lines = [
        "Traceback (most recent call last):",
        '  File "<environment>/lib/python3.11/site-packages/pydantic/utils.py", line 256',
        "    merged_params[param_name] = Parameter(",
        '  File "<python>/lib/python3.11/inspect.py", line 2725, in __init__',
        "ValueError: 'not' is not a valid parameter name",
    ]
    fix = remedies.next_fix("ValueError: 'not' is not a valid parameter name", lines, {}, PYTHONS)
    assert fix is not None and fix.python_below == "3.11" and "with Python 3.10" in fix.said
    # A name that is no identifier is refused on every Python: the code's own mistake.
    lines[-1] = "ValueError: '2x' is not a valid parameter name"
    again = _remedies(("fastapi==0.75.2", "pydantic==1.9.0"), env)
    again.tried.python_version = "3.11.7"
    assert again.next_fix(lines[-1], lines, {}, PYTHONS) is None


def test_a_class_of_both_timeout_errors_takes_a_python_before_3_11(tmp_path: Path) -> None:
    """yaroslavpich's NewFastAPI imports aioredis 2, whose ``TimeoutError`` derives from
    asyncio's and the builtin's, one class since 3.11: "duplicate base class"."""
    env = _env_with(tmp_path, "aioredis", "2.0.1", "aioredis")
    remedies = _remedies(("fastapi", "aioredis"), env)
    remedies.tried.python_version = "3.11.7"
    lines = [
        "Traceback (most recent call last):",
        '  File "<environment>/lib/python3.11/site-packages/aioredis/exceptions.py", line 14',
        "    class TimeoutError(asyncio.TimeoutError, builtins.TimeoutError, RedisError):",
        "TypeError: duplicate base class TimeoutError",
    ]
    fix = remedies.next_fix(lines[-1], lines, {}, PYTHONS)
    assert fix is not None and fix.python_below == "3.11" and "with Python 3.10" in fix.said


def test_an_old_pythons_import_error_is_read_with_its_line_of_code(tmp_path: Path) -> None:
    """Python 3.6 names no module in "cannot import name" (flask-restplus under Werkzeug 2
    in DarkSide7H's python-Flask-RBAC): the ``from M import`` line above it does."""
    env = _env_with(tmp_path, "Werkzeug", "2.0.3", "werkzeug")
    frame = '  File "<environment>/lib/python3.6/site-packages/flask_restplus/fields.py", line 17'
    said = "ImportError: cannot import name 'cached_property'"
    lines = [
        "Traceback (most recent call last):",
        frame,
        "    from werkzeug import cached_property",
        said,
    ]
    fix = _remedies(("Flask", "Flask-RESTPlus"), env).next_fix(
        "exited", lines, {"a.py": b""}, PYTHONS
    )
    # (below 1, which removed it: 1.0's own release broke flask-restplus so)
    assert fix is not None and fix.add == "Werkzeug<1"
    # A relative import names no package to hold; a line importing another name, no module.
    for code in ("    from . import cached_property", "    from werkzeug import secure_filename"):
        lines[2] = code
        again = _remedies(("Flask", "Flask-RESTPlus"), env)
        assert again.next_fix("exited", lines, {"a.py": b""}, PYTHONS) is None


def test_a_module_a_known_major_removed_holds_it_below_that_major_at_once(
    tmp_path: Path,
) -> None:
    """andreygp5's dictionary-flask: its Flask-Script imports ``flask._compat``, which Flask
    2 removed; held below the major installed (3), then below 3, … its relaunches ran out
    before Flask 1. The major known to have removed it is the hold's at once."""
    env = _env_with(tmp_path, "Flask", "3.1.3", "flask")
    remedies = _remedies(("flask", "flask-script"), env)
    lines = [
        "Traceback (most recent call last):",
        '  File "<environment>/lib/python3.11/site-packages/flask_script/__init__.py", line 15',
        "    from flask._compat import text_type",
        "ModuleNotFoundError: No module named 'flask._compat'",
    ]
    fix = remedies.next_fix("exited with code 1", lines, {"app.py": b""}, PYTHONS)
    assert fix is not None and fix.add == "Flask<2", fix
    # What no release is known to have removed is held below the major installed.
    lines[-1] = "ModuleNotFoundError: No module named 'flask._private'"
    fix = _remedies(("flask",), env).next_fix("exited with code 1", lines, {"a.py": b""}, PYTHONS)
    assert fix is not None and fix.add == "Flask<3", fix


def test_a_name_a_known_minor_release_removed_holds_it_below_that_release(
    tmp_path: Path,
) -> None:
    """cj-lin's coding-exercise-flask: its Flask-JWT-Extended 3 imports ``safe_str_cmp``,
    which Werkzeug 2.1 removed; held below 2.3 (the newest's minor), then below 2, each a
    relaunch of a 30 s build, and its launch ran out of time. The release known to have
    removed it is the hold's at once, from any later one installed."""
    env = _env_with(tmp_path, "Werkzeug", "3.1.3", "werkzeug")
    lines = [
        "Traceback (most recent call last):",
        '  File "<environment>/lib/python3.11/site-packages/flask_jwt_extended/tokens.py"',
        "    from werkzeug.security import safe_str_cmp",
        "ImportError: cannot import name 'safe_str_cmp' from 'werkzeug.security'"
        " (<environment>/lib/python3.11/site-packages/werkzeug/security.py)",
    ]
    remedies = _remedies(("flask", "flask-jwt-extended<4"), env)
    fix = remedies.next_fix("exited with code 1", lines, {"app.py": b""}, PYTHONS)
    assert fix is not None and fix.add == "Werkzeug<2.1", fix
    minor = _env_with(tmp_path / "m", "Werkzeug", "2.2.3", "werkzeug")
    fix = _remedies(("flask",), minor).next_fix("exited with code 1", lines, {}, PYTHONS)
    assert fix is not None and fix.add == "Werkzeug<2.1", fix
    # MarkupSafe's soft_unicode (gone in 2.1), under an old Jinja2.
    markup = _env_with(tmp_path / "s", "MarkupSafe", "3.0.2", "markupsafe")
    lines[-1] = "ImportError: cannot import name 'soft_unicode' from 'markupsafe' (<environment>/x)"
    fix = _remedies(("jinja2<3",), markup).next_fix("exited with code 1", lines, {}, PYTHONS)
    assert fix is not None and fix.add == "MarkupSafe<2.1", fix
    # An object's method Flask 2.3 removed: below 2.3 from Flask 3 at once (it was <3,
    # then <2.3, a relaunch each).
    flask = _env_with(tmp_path / "f", "Flask", "3.1.3", "flask")
    package = flask / "lib" / "python3.11" / "site-packages" / "flask"
    package.mkdir()
    (package / "blueprints.py").write_text("class Blueprint:\n    pass\n")
    said = "AttributeError: 'Blueprint' object has no attribute 'before_app_first_request'"
    fix = _remedies(("flask",), flask).next_fix(said, [], {}, PYTHONS)
    assert fix is not None and fix.add == "Flask<2.3", fix


def test_what_a_release_began_to_refuse_holds_it_below_that_release(tmp_path: Path) -> None:
    """RickZzDev's ApiErpDjango registers two viewsets of one model under one basename,
    which Django REST framework 3.15 refuses ("Router with basename … is already
    registered") in every route: held below 3.15, not below its major (the app's code is
    DRF 3's)."""
    env = _env_with(tmp_path, "djangorestframework", "3.15.1", "rest_framework")
    lines = [
        "Traceback (most recent call last):",
        '  File "<environment>/lib/python3.11/site-packages/rest_framework/routers.py"',
        "    raise ImproperlyConfigured(msg)",
        'django.core.exceptions.ImproperlyConfigured: Router with basename "empresa" is already'
        " registered. Please provide a unique basename for viewset \"<class 'x.EmpresaViewSet'>\"",
    ]
    remedies = _remedies(("django<3.2", "djangorestframework"), env)
    fix = remedies.next_fix("answered 500 at the smoke check", lines, {"urls.py": b""}, PYTHONS)
    assert fix is not None and fix.add == "djangorestframework<3.15", fix
    assert "rest_framework refuses this since 3.15" in fix.said, fix
    # Flask-PyMongo 2's required MONGO_URI, from an app that set none (its 0.5 defaulted
    # to localhost).
    mongo = _env_with(tmp_path / "m", "Flask-PyMongo", "3.0.1", "flask_pymongo")
    said = "ValueError: You must specify a URI or set the MONGO_URI Flask config variable"
    fix = _remedies(("Flask", "Flask-PyMongo"), mongo).next_fix("x", [said], {}, PYTHONS)
    assert fix is not None and fix.add == "Flask-PyMongo<2.0", fix


def test_an_api_gone_from_an_unpinned_dependency_holds_it_below_that_major(
    tmp_path: Path,
) -> None:
    env = _env_with(tmp_path, "Flask", "3.0.3", "flask")
    remedies = _remedies(("flask", "gunicorn"), env)
    lines = [
        "Traceback (most recent call last):",
        "ImportError: cannot import name 'escape' from 'flask' (<environment>/flask/__init__.py)",
    ]
    fix = remedies.next_fix("exited with code 1", lines, {"app.py": b""}, PYTHONS)
    assert fix is not None and fix.add == "Flask<3"
    assert remedies.apply(remedies.tried.deps).requirements == ("flask", "gunicorn", "Flask<3")  # type: ignore[arg-type]
    # A pin of the app's own is left alone; so is its lock's (poetry.lock's, constraints:
    # MalikDeveloper2077's fastapi-music-library locks typing-extensions 3.10, and a hold
    # below 3 left nothing to install).
    pinned = _remedies(("flask==3.0.3",), env)
    assert pinned.next_fix("exited with code 1", lines, {}, PYTHONS) is None
    locked = _remedies(("flask", "gunicorn"), env)
    locked.tried.deps = replace(locked.tried.deps, constraints=("flask==3.0.3",))  # type: ignore[arg-type]
    assert locked.next_fix("exited with code 1", lines, {"app.py": b""}, PYTHONS) is None
    # An object of an unpinned dependency that lost an attribute: the package defining it.
    old = _env_with(tmp_path / "o", "Flask", "2.3.3", "flask")
    package = old / "lib" / "python3.11" / "site-packages" / "flask"
    package.mkdir()
    (package / "globals.py").write_text("class _FakeStack:\n    pass\n")
    said = "AttributeError: '_FakeStack' object has no attribute '__ident_func__'"
    held = _remedies(("Flask_SQLAlchemy==2.2", "Flask"), old)
    held.apply(held.tried.deps)  # type: ignore[arg-type]
    # A hold of an earlier fix is not the app's own pin.
    # Within the major an earlier fix's hold reached, below its minor first (Flask 3's
    # Markup, then 2.3's JSONEncoder: Flask<2 gave a Flask 1 whose Werkzeug no longer
    # builds), then below the major.
    held.tried.deps = PythonDeps(("Flask_SQLAlchemy==2.2", "Flask", "Flask<3"), "r", None, None)
    fix = held.next_fix(said, [], {}, PYTHONS)
    assert fix is not None and fix.add == "Flask<2.3" and "_FakeStack" in fix.said
    stepped = ("Flask_SQLAlchemy==2.2", "Flask", "Flask<3", "Flask<2.3")
    held.tried.deps = PythonDeps(stepped, "r", None, None)
    fix = held.next_fix(said, [], {}, PYTHONS)
    assert fix is not None and fix.add == "Flask<2"
    # An object of a package a requirement brought (SQLAlchemy 2's scoped_session under
    # Flask-SQLAlchemy, listed alone): that package held, unless the app pins it.
    brought = _env_with(tmp_path / "b", "SQLAlchemy", "2.0.36", "sqlalchemy")
    package = brought / "lib" / "python3.11" / "site-packages" / "sqlalchemy"
    package.mkdir()
    (package / "scoping.py").write_text("class scoped_session(Generic[_S]):\n    pass\n")
    said = "AttributeError: 'scoped_session' object has no attribute 'close_all'"
    fix = _remedies(("flask-sqlalchemy", "pymysql"), brought).next_fix(said, [], {}, PYTHONS)
    assert fix is not None and fix.add == "SQLAlchemy<2"
    pins = _remedies(("flask-sqlalchemy", "SQLAlchemy==2.0.36"), brought)
    assert pins.next_fix(said, [], {}, PYTHONS) is None
    # pydantic's own "has been moved" error, with pydantic 2 installed.
    moved = _env_with(tmp_path / "p", "pydantic", "2.5.0", "pydantic")
    said = "pydantic.errors.PydanticImportError: `BaseSettings` has been moved to the "
    fix = _remedies(("fastapi",), moved).next_fix(said + "`pydantic-settings` package.", [], {}, [])
    assert fix is not None and fix.add == "pydantic<2"


def test_a_name_the_pinned_major_removed_that_the_apps_code_imports_holds_it_below(
    tmp_path: Path,
) -> None:
    """mustafaakgul's drf-chatting pins Django==4.2.3 and its own modules import Django 3's
    ``ugettext_lazy``: the pin gives way to a hold below Django 4. Where only a package
    imports it, or the installed major still has it, the pin stays."""
    env = _env_with(tmp_path, "Django", "4.2.3", "django")
    line = (
        "ImportError: cannot import name 'ugettext_lazy' from 'django.utils.translation' "
        "(<environment>/lib/python3.11/site-packages/django/utils/translation/__init__.py)"
    )
    own = {"core/models.py": b"from django.utils.translation import ugettext_lazy as _\n"}
    remedies = _remedies(("Django==4.2.3", "djangorestframework==3.14.0"), env)
    fix = remedies.next_fix("exited with code 1", [line], own, PYTHONS)
    assert fix is not None and fix.add == "Django<4" and "Django 4 removed" in fix.said
    applied = remedies.apply(remedies.tried.deps)  # type: ignore[arg-type]
    assert applied.requirements == ("djangorestframework==3.14.0", "Django<4")
    theirs = {"core/models.py": b"from django.db import models\n"}
    assert _remedies(("Django==4.2.3",), env).next_fix("x", [line], theirs, PYTHONS) is None
    old = _env_with(tmp_path / "o", "Django", "3.2.20", "django")
    assert _remedies(("Django==3.2.20",), old).next_fix("x", [line], own, PYTHONS) is None
    # A module a major removed, imported in parentheses over lines.
    flask = _env_with(tmp_path / "f", "Flask", "3.0.3", "flask")
    parens = {"app.py": b"from flask import (\n    Flask,\n    escape,\n)\n"}
    said = "ImportError: cannot import name 'escape' from 'flask' (<environment>/flask/__init__.py)"
    fix = _remedies(("Flask==3.0.3",), flask).next_fix("x", [said], parens, PYTHONS)
    assert fix is not None and fix.add == "Flask<3" and fix.drop == "flask"
    # Flask 1's removal of ``flask.ext`` (Smirl's teaflask pins Flask==1.0 and imports
    # ``flask.ext.sqlalchemy``, written for 0.10).
    one = _env_with(tmp_path / "one", "Flask", "1.1.4", "flask")
    ext = {"app/__init__.py": b"from flask.ext.sqlalchemy import SQLAlchemy\n"}
    said = "ModuleNotFoundError: No module named 'flask.ext'"
    fix = _remedies(("Flask==1.0",), one).next_fix("x", [said], ext, PYTHONS)
    assert fix is not None and fix.add == "Flask<1" and fix.drop == "flask", fix
    # WTForms 3's removal of wtforms.fields.html5 (Massssssi's e-scooter-Flask-app pins
    # WTForms==3.0.1).
    forms = _env_with(tmp_path / "w", "WTForms", "3.0.1", "wtforms")
    html5 = {"app/forms.py": b"from wtforms.fields.html5 import DateTimeLocalField\n"}
    said = "ModuleNotFoundError: No module named 'wtforms.fields.html5'"
    fix = _remedies(("WTForms==3.0.1",), forms).next_fix("x", [said], html5, PYTHONS)
    assert fix is not None and fix.add == "WTForms<3" and fix.drop == "wtforms", fix
    # After a fix relaxed the pins (its Flask>=1.0,<2 among them), the hold takes the
    # relaxed line's place: the two together resolve to nothing.
    remedies = _remedies(("Flask==1.0", "Jinja2==2.7.3"), one)
    remedies.take(Fix("relaxed", add="Flask>=1.0,<2\nJinja2>=2.10", drop="flask,jinja2"))
    remedies.take(Fix("held", add="Flask<1", drop="flask"))
    applied = remedies.apply(remedies.tried.deps)  # type: ignore[arg-type]
    assert applied.requirements[:2] == ("Jinja2>=2.10", "Flask<1"), applied.requirements
    assert "Flask>=1.0,<2" not in applied.requirements  # (Flask 0's companions held after)


def test_a_name_a_locked_major_moved_that_the_apps_code_imports_holds_it_below(
    tmp_path: Path,
) -> None:
    """arunanshub's fastapi-complaint-system: its settings import pydantic 1's
    ``BaseSettings``; its pyproject.toml asks Poetry for ``^2.0.0`` and its poetry.lock
    pins 2.10.6 (its dependency bot's raises): "`BaseSettings` has been moved". The range
    and the lock's pin give way to a hold below pydantic 2, its extras kept; where the
    app's code does not import the name, or nothing of its own asks that major, none."""
    env = _env_with(tmp_path, "pydantic", "2.10.6", "pydantic")
    said = (
        "pydantic.errors.PydanticImportError: `BaseSettings` has been moved to the "
        "`pydantic-settings` package. See https://docs.pydantic.dev/2.10/migration/"
    )
    own = {"src/app/core/settings.py": b"from pydantic import BaseSettings, EmailStr, Field\n"}
    listed = ("fastapi>=0.124.0,<0.125.0", "pydantic[dotenv,email]>=2.0.0,<3.0.0")
    remedies = _remedies(listed, env)
    remedies.tried.deps = replace(  # type: ignore[arg-type]
        remedies.tried.deps, constraints=("fastapi==0.124.4", "pydantic==2.10.6")
    )
    fix = remedies.next_fix("exited with code 1", [said], own, PYTHONS)
    assert fix is not None and fix.add == "pydantic[dotenv,email]<2", fix
    assert "and pins pydantic[dotenv,email]>=2.0.0,<3.0.0: relaunching with" in fix.said
    applied = remedies.apply(remedies.tried.deps)  # type: ignore[arg-type]
    assert applied.requirements == ("fastapi>=0.124.0,<0.125.0", "pydantic[dotenv,email]<2")
    assert applied.constraints == ("fastapi==0.124.4",)
    theirs = {"src/app/core/settings.py": b"from pydantic_settings import BaseSettings\n"}
    locked = _remedies(listed, env)
    locked.tried.deps = replace(locked.tried.deps, constraints=("pydantic==2.10.6",))  # type: ignore[arg-type]
    assert locked.next_fix("exited with code 1", [said], theirs, PYTHONS) is None
    # A range with no upper bound (``pydantic>=2``): its lock's pin asks the major.
    unbounded = ("fastapi", "pydantic>=2")
    floor = _remedies(unbounded, env)
    floor.tried.deps = replace(floor.tried.deps, constraints=("pydantic==2.10.6",))  # type: ignore[arg-type]
    fix = floor.next_fix("exited with code 1", [said], own, PYTHONS)
    assert fix is not None and fix.add == "pydantic<2" and "its lock holds" in fix.said, fix


def test_an_exact_pin_behind_a_name_the_apps_code_imports_gives_way_to_its_declared_range(
    tmp_path: Path,
) -> None:
    """sayfullayevabdulaziz's fastapi-flight: requirements.txt pins pydantic==2.0.3, its
    pyproject.toml asks Poetry for ``^2.0.3``, and its schemas import pydantic 2.4's
    ``StringConstraints``: the pin gives way to the range. Without a range past the pin
    declared, or where the app's own code does not import the name, it stays."""
    env = _env_with(tmp_path, "pydantic", "2.0.3", "pydantic")
    metadata = (
        env / "lib" / "python3.11" / "site-packages" / "pydantic-2.0.3.dist-info" / "METADATA"
    )
    requires = "Requires-Dist: pydantic-core==2.3.0\nRequires-Dist: typing-extensions>=4.6.1\n"
    metadata.write_text(metadata.read_text() + requires)
    line = (
        "ImportError: cannot import name 'StringConstraints' from 'pydantic' "
        "(<environment>/lib/python3.11/site-packages/pydantic/__init__.py)"
    )
    pyproject = (
        b'[tool.poetry.dependencies]\npython = "^3.10"\n'
        b'pydantic = {extras = ["email"], version = "^2.0.3"}\n'
    )
    own = {
        "app/schemas/user.py": b"from pydantic import BaseModel, StringConstraints\n",
        "pyproject.toml": pyproject,
    }
    requirements = (
        "fastapi==0.100.0",
        "pydantic==2.0.3",
        "pydantic[email]==2.0.3",
        "pydantic-core==2.3.0",
        "typing-extensions==4.7.1",
    )
    remedies = _remedies(requirements, env)
    fix = remedies.next_fix("exited with code 1", [line], own, PYTHONS)
    assert fix is not None and fix.add == "pydantic[email]<3,>=2.0.3,>2.0.3", fix
    # Its pin of pydantic-core, which pydantic 2.0.3 requires at one version, goes too.
    assert fix.drop == "pydantic,pydantic-core" and "its pin pydantic==2.0.3 lacks" in fix.said
    applied = remedies.apply(remedies.tried.deps)  # type: ignore[arg-type]
    assert "pydantic==2.0.3" not in applied.requirements
    assert "pydantic-core==2.3.0" not in applied.requirements
    assert "typing-extensions==4.7.1" in applied.requirements
    assert "pydantic[email]<3,>=2.0.3,>2.0.3" in applied.requirements
    # A pin of a package whose release requires pydantic below what it needs
    # (pydantic-partial 0.5.1: pydantic<2.1.0) goes to its declared range with it.
    _env_with(env, "pydantic-partial", "0.5.1", "pydantic_partial")
    partial = env / "lib" / "python3.11" / "site-packages" / "pydantic-partial-0.5.1.dist-info"
    (partial / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: pydantic-partial\nVersion: 0.5.1\n"
        "Requires-Dist: pydantic<2.1.0,>=1.9.0\n"
    )
    declared = {**own, "pyproject.toml": pyproject + b'pydantic-partial = "^0.5.1"\n'}
    fix = _remedies((*requirements, "pydantic-partial==0.5.1"), env).next_fix(
        "x", [line], declared, PYTHONS
    )
    assert fix is not None and fix.add is not None
    assert fix.add.split("\n") == [
        "pydantic[email]<3,>=2.0.3,>2.0.3",
        "pydantic-partial<0.6,>=0.5.1",
    ]
    assert fix.drop == "pydantic,pydantic-core,pydantic-partial"
    pinned = {**own, "pyproject.toml": pyproject.replace(b"^2.0.3", b"2.0.3")}
    fix = _remedies(requirements, env).next_fix("x", [line], pinned, PYTHONS)
    assert fix is None or fix.drop != "pydantic"
    theirs = {**own, "app/schemas/user.py": b"from pydantic import BaseModel\n"}
    fix = _remedies(requirements, env).next_fix("x", [line], theirs, PYTHONS)
    assert fix is None or fix.drop != "pydantic"


def test_an_exact_pin_behind_a_module_the_apps_code_imports_gives_way_to_its_major(
    tmp_path: Path,
) -> None:
    """jdht1992's fastapi-shipment pins redis==4.0.0 and imports ``redis.asyncio`` (redis
    4.2's), nothing declaring a range: the pin gives way to its own major. Its own
    ``app/database/redis.py`` is no package: the import found the installed one."""
    env = _env_with(tmp_path, "redis", "4.0.0", "redis")
    line = "ModuleNotFoundError: No module named 'redis.asyncio'"
    own = {"app/database/redis.py": b"from redis.asyncio import Redis\n"}
    remedies = _remedies(("fastapi", "redis==4.0.0"), env)
    fix = remedies.next_fix("exited with code 1", [line], own, PYTHONS)
    assert fix is not None and fix.add == "redis<5.0.0,>=4.0.0,>4.0.0", fix
    assert "imports redis.asyncio, which its pin redis==4.0.0 lacks" in fix.said
    # A 0.x pin stays within its minor.
    env0 = _env_with(tmp_path / "zero", "redis", "0.5.1", "redis")
    fix = _remedies(("redis==0.5.1",), env0).next_fix("x", [line], own, PYTHONS)
    assert fix is not None and fix.add == "redis<0.6.0,>=0.5.1,>0.5.1", fix
    # Its own package of that name is what the import found: no fix of the pin.
    package = {"redis/__init__.py": b"", "main.py": b"from redis.asyncio import Redis\n"}
    fix = _remedies(("redis==4.0.0",), env).next_fix("x", [line], package, PYTHONS)
    assert fix is None or "redis" not in (fix.add or ""), fix


def test_a_module_its_pyproject_declares_and_its_requirements_leave_out_is_added() -> None:
    """sayfullayevabdulaziz's fastapi-flight installs its requirements.txt, which leaves
    out the celery its pyproject.toml declares; its own app/core/celery.py (no top-level
    module) was taken for the missing one: "No module named 'celery'" had no fix."""
    files = {
        "requirements.txt": b"fastapi==0.100.0\n",
        "pyproject.toml": b'[tool.poetry.dependencies]\npython = "^3.10"\ncelery = "^5.3.1"\n',
        "app/core/celery.py": b"from celery import Celery\n",
    }
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(("fastapi==0.100.0",), "requirements.txt", None, None)
    remedies.tried.python_version = "3.11.7"
    message = "ModuleNotFoundError: No module named 'celery'"
    fix = remedies.next_fix(message, [], files, PYTHONS)
    assert fix is not None and fix.add == "celery>=5.3.1,<6", fix
    # A top-level module of its own of that name: the app's, nothing added.
    own = {**files, "celery.py": b"app = None\n"}
    fix = Remedies().next_fix(message, [], own, PYTHONS)
    assert fix is None or fix.add is None or "celery" not in fix.add


def test_a_module_no_dependency_names_wrapped_by_a_file_of_its_name_is_added() -> None:
    """ravuritejaswi's DJANGORESTPROJECT lists no celery, yet config/__init__.py loads
    config/celery.py, which imports Celery's ``celery``: that file wraps the package of
    its name and is not the missing module, so celery is added. A top-level module of
    that name that does not import it is the app's own: nothing added."""
    files = {
        "requirements.txt": b"Django==5.0\n",
        "config/__init__.py": b"from .celery import app as celery_app\n",
        "config/celery.py": b"import os\n\nfrom celery import Celery\n\napp = Celery('config')\n",
    }
    message = "ModuleNotFoundError: No module named 'celery'"
    fix = _remedies(("Django==5.0",)).next_fix(message, [], files, PYTHONS)
    assert fix is not None and fix.add == "celery", fix
    own = {**files, "config/celery.py": b"app = None\n"}
    fix = Remedies().next_fix(message, [], own, PYTHONS)
    assert fix is None or fix.add is None or "celery" not in fix.add


def test_a_method_refusing_a_keyword_the_apps_call_passes_holds_its_class_package(
    tmp_path: Path,
) -> None:
    """Y-Tarek's flask-newsfeed-app lists mysql-connector-python unpinned and runs its
    schema by ``cursor.execute(query, multi=True)``, a keyword version 9 dropped: the
    package defining ``MySQLCursor`` is held below 9. A call that does not pass it (the
    error is not the call's) is left."""
    env = _env_with(tmp_path, "mysql-connector-python", "9.1.0", "mysql")
    package = env / "lib" / "python3.11" / "site-packages" / "mysql" / "connector"
    package.mkdir(parents=True)
    (package / "cursor.py").write_text("class MySQLCursor(CursorBase):\n    pass\n")
    said = "TypeError: MySQLCursor.execute() got an unexpected keyword argument 'multi'"
    frame = '  File "models.py", line 70, in create_tables'
    call = "    for result in cursor.execute(create_tables_query, multi=True):"
    listed = ("Flask", "pymysql", "mysql-connector-python")
    fix = _remedies(listed, env).next_fix("exited with code 1", [frame, call, said], {}, PYTHONS)
    assert fix is not None and fix.add == "mysql-connector-python<9"
    other = "    cursor.execute(query)"
    assert _remedies(listed, env).next_fix("x", [frame, other, said], {}, PYTHONS) is None


def test_a_method_whose_positional_arguments_changed_under_the_call_holds_its_package(
    tmp_path: Path,
) -> None:
    """pavel-glukhov's FastAPI-Telegram-Auth lists fastapi unpinned and calls
    ``templates.TemplateResponse('login.html', context={…})``, the form the newest
    Starlette dropped for ``(request, name, …)``: its login route answered 500. The
    package defining ``Jinja2Templates`` is held below its (0.x) major; a line that does
    not call the method is left."""
    env = _env_with(tmp_path, "starlette", "0.50.0", "starlette")
    package = env / "lib" / "python3.11" / "site-packages" / "starlette"
    package.mkdir(parents=True)
    (package / "templating.py").write_text("class Jinja2Templates:\n    pass\n")
    said = (
        "TypeError: Jinja2Templates.TemplateResponse() missing 1 required positional "
        "argument: 'name'"
    )
    frame = '  File "app/routers.py", line 64, in login'
    call = "    return templates.TemplateResponse("
    listed = ("fastapi", "Jinja2", "uvicorn")
    fix = _remedies(listed, env).next_fix("GET /login → 500", [frame, call, said], {}, PYTHONS)
    assert fix is not None and fix.add == "starlette<0.50", fix
    other = "    return render(request)"
    assert _remedies(listed, env).next_fix("x", [frame, other, said], {}, PYTHONS) is None


def test_a_hold_below_the_major_the_apps_own_range_excludes_is_below_the_minor(
    tmp_path: Path,
) -> None:
    """flask-boilerplate: sqlalchemy-utils 0.33.6 imports SQLAlchemy's _literal_as_text,
    gone in 1.4; the app asks sqlalchemy>=1.3.0, so SQLAlchemy<1 would resolve nothing."""
    env = _env_with(tmp_path, "SQLAlchemy", "1.4.54", "sqlalchemy")
    lines = [
        "Traceback (most recent call last):",
        "ImportError: cannot import name '_literal_as_text' from 'sqlalchemy.sql.expression' "
        "(<environment>/sqlalchemy/sql/expression.py)",
    ]
    remedies = _remedies(("sqlalchemy-utils==0.33.6", "sqlalchemy>=1.3.0"), env)
    fix = remedies.next_fix("exited with code 1", lines, {"app.py": b""}, PYTHONS)
    assert fix is not None and fix.add == "SQLAlchemy<1.4", fix
    # A range starting at the installed minor leaves nothing to hold below.
    floor = _remedies(("sqlalchemy>=1.4",), env)
    assert floor.next_fix("exited with code 1", lines, {"app.py": b""}, PYTHONS) is None


def test_a_hold_within_the_apps_own_major_range_is_below_the_minor(tmp_path: Path) -> None:
    """s3m3dov's flask-employee-api asks Poetry's ``SQLAlchemy = "^2.0.12"`` (>=2.0.12,<3);
    2.1 came, which dropped ScalarAttributeImpl that its SQLAlchemy-Utils 0.41 imports: no
    fix, the upper bound read as the app's own pin. Held below the minor, inside its range;
    an exact pin or a bound within the major stays the app's."""
    env = _env_with(tmp_path, "SQLAlchemy", "2.1.9", "sqlalchemy")
    said = (
        "AttributeError: module 'sqlalchemy.orm.attributes' has no attribute 'ScalarAttributeImpl'"
    )
    ranged = _remedies(("SQLAlchemy>=2.0.12,<3", "SQLAlchemy-Utils>=0.41.1,<0.42"), env)
    fix = ranged.next_fix(said, [], {"app.py": b""}, PYTHONS)
    assert fix is not None and fix.add == "SQLAlchemy<2.1", fix
    for own in ("SQLAlchemy==2.1.9", "SQLAlchemy>=2.0,<2.2", "SQLAlchemy~=2.1"):
        assert _remedies((own,), env).next_fix(said, [], {"app.py": b""}, PYTHONS) is None, own


def test_an_undeclared_module_adds_its_distribution() -> None:
    remedies = _remedies(("flask",))
    message = "ModuleNotFoundError: No module named 'yaml' — add 'PyYAML' to requirements.txt"
    fix = remedies.next_fix(message, [], {"app.py": b""}, PYTHONS)
    assert fix is not None and fix.add == "PyYAML"
    assert remedies.next_fix(message, [], {}, PYTHONS) is None  # never the same fix twice
    pkg = _remedies(()).next_fix("No module named 'pkg_resources'", [], {}, PYTHONS)
    assert pkg is not None and pkg.add == "setuptools<81"
    psycopg = _remedies(("fastapi",)).next_fix("No module named 'psycopg'", [], {}, PYTHONS)
    assert psycopg is not None and psycopg.add == "psycopg[binary]"
    django = "django.core.exceptions.ImproperlyConfigured: Error loading psycopg2 or psycopg module"
    fix = _remedies(("django", "psycopg2==2.9.6")).next_fix(django, [], {}, PYTHONS)
    assert fix is not None and (fix.add, fix.drop) == ("psycopg2-binary", "psycopg2")
    assert fix.said == "Django cannot load psycopg2: relaunching with psycopg2-binary"
    # Read as its twin already (psycopg2-binary==2.9.9, no wheel for this Python): unpinned.
    twin = _remedies(("django", "-r base.txt", "psycopg2-binary==2.9.9"))
    assert twin.next_fix(django, [], {}, PYTHONS) is not None
    assert twin.apply(twin.tried.deps).requirements == ("django", "-r base.txt", "psycopg2-binary")  # type: ignore[arg-type]
    # fastapi-tdd-docker's newspaper3k on lxml 5.2, which split lxml.html.clean off
    split = "ImportError: lxml.html.clean module is now a separate project lxml_html_clean."
    fix = _remedies(("newspaper3k==0.2.8",)).next_fix(split, [], {}, PYTHONS)
    assert fix is not None and fix.add == "lxml_html_clean"
    # The upload's own module is not a distribution to install.
    files = {"shop/models.py": b""}
    assert _remedies(()).next_fix("No module named 'shop.x'", [], files, PYTHONS) is None
    # Nor one its .gitignore left out of the upload (a config.py of secrets): PyPI's
    # "config" is another project's.
    secret = {"app/main.py": b"from config import KEY\n", ".gitignore": b"*.pyc\nconfig.py\n"}
    assert _remedies(("flask",)).next_fix("No module named 'config'", [], secret, PYTHONS) is None
    unignored = {**secret, ".gitignore": b"*.pyc\n"}
    fix = _remedies(("flask",)).next_fix("No module named 'config'", [], unignored, PYTHONS)
    assert fix is not None and fix.add == "config"
    # A package's private module (a Python 2 package's import of its sibling _version:
    # prashant1879's mysql_connector_repackaged) is no distribution either: "_version"
    # written into requirements.txt failed every install after it.
    assert _remedies(("flask",)).next_fix("No module named '_version'", [], {}, PYTHONS) is None


def test_no_wheel_and_no_build_tries_an_older_python_and_psycopg2_its_binary() -> None:
    message = (
        "building httptools 0.1.2 for Python 3.11 needs a C compiler and its headers (no wheel)"
    )
    fix = _remedies(("httptools==0.1.2",)).next_fix(message, [], {}, PYTHONS)
    assert fix is not None and fix.python_below == "3.11" and "Python 3.10" in fix.said
    remedies = _remedies(("psycopg2==2.9.9", "django"))
    fix = remedies.next_fix(message.replace("httptools 0.1.2", "psycopg2 2.9.9"), [], {}, PYTHONS)
    assert fix is not None and fix.drop == "psycopg2"
    deps = remedies.apply(remedies.tried.deps)  # type: ignore[arg-type]
    assert deps.requirements == ("django", "psycopg2-binary")
    assert deps.not_installed == ("psycopg2",)  # a listed package's requirement of it too
    # One a listed package requires, the app listing none (no wheel on any Python either):
    # its binary, and it kept out, rather than an older Python.
    brought = _remedies(("django", "django-pgtrigger-legacy"))
    built = message.replace("httptools 0.1.2", "psycopg2 2.9.10")
    fix = brought.next_fix(built, [], {"app.py": b"import psycopg2\n"}, PYTHONS)
    assert fix is not None and fix.python_below is None and fix.keep_out
    assert fix.said.startswith("psycopg2, which a listed package requires, cannot be built")
    deps = brought.apply(brought.tried.deps)  # type: ignore[arg-type]
    assert deps.requirements == ("django", "django-pgtrigger-legacy", "psycopg2-binary")
    assert deps.not_installed == ("psycopg2",)


def test_a_fix_keeps_out_what_the_apps_list_already_kept_out() -> None:
    """herlyplanviu's training-drf: face-recognition's dlib kept out beside dlib-bin (the
    app's list, ``depspec``); a relaunch with a fix (an import its code lacked) gave uv
    the fix's keep-outs alone, and dlib compiled from source past the launch's 240 s."""
    listed = ("django", "face-recognition==1.3.0", "dlib-bin")
    remedies = _remedies(listed)
    remedies.tried.deps = replace(remedies.tried.deps, not_installed=("dlib",))  # type: ignore[arg-type]
    said = "ModuleNotFoundError: No module named 'cv2'"
    fix = remedies.next_fix(said, [], {"app/utils.py": b"import cv2\n"}, PYTHONS)
    assert fix is not None and fix.add is not None and "opencv" in fix.add, fix
    applied = remedies.apply(remedies.tried.deps)  # type: ignore[arg-type]
    assert applied.requirements[:3] == listed
    assert applied.not_installed == ("dlib",)
    # A locked app's too: what its list kept out stays out beside a fix's drop.
    lock = '[[package]]\nname = "django"\n\n[[package]]\nname = "mysqlclient"\n'
    locked = PythonDeps((), "uv.lock", None, None, ("[project]\n", lock), not_installed=("dlib",))
    other = Remedies()
    other.tried.deps, other.tried.python_version = locked, "3.12.1"
    built = "building mysqlclient 2.2.8 for Python 3.12 needs MySQL's client library"
    assert other.next_fix(built, [], {"src/settings.py": b"DATABASES = {}\n"}, ["3.12.1"])
    assert other.apply(locked).not_installed == ("dlib", "mysqlclient")


def test_fixes_are_remembered_by_upload() -> None:
    learned: dict = {}
    first = Remedies(learned)
    files = {"app.py": b"import yaml\n", "requirements.txt": b"flask\n"}
    assert first.adopt(files) == []
    first.tried.deps = PythonDeps(("flask",), "requirements.txt", None, None)
    fix = first.next_fix("No module named 'yaml'", [], {}, PYTHONS)
    again = Remedies(learned)
    assert again.adopt(files) == [fix] and again.adopt(files) == []  # its first attempt only
    # Another upload with the same requirements is not this one.
    assert Remedies(learned).adopt({**files, "app.py": b"import os\n"}) == []


def test_an_old_release_brings_its_contemporaries_holds_in_one_step() -> None:
    remedies = _remedies(())
    listed = PythonDeps(
        ("Werkzeug", "SQLAlchemy==1.1.9", "Flask_SQLAlchemy==2.2", "Flask"), "r", None, None
    )
    deps = remedies.apply(listed)
    # Flask-SQLAlchemy 2.2 needs Flask<2.2 and Werkzeug<2.1 (Flask<2.3's Werkzeug<3 is
    # implied); SQLAlchemy<2 gives way to the app's own pin.
    assert deps.requirements[4:] == ("Flask<2.2", "Werkzeug<2.1")
    assert remedies.news() == [
        "Flask_SQLAlchemy==2.2 runs only with releases of its time, which it does not "
        "bound: holding Flask<2.2, Werkzeug<2.1 (unpinned by the app; their newest break it)"
    ]
    assert remedies.news() == []  # said once
    # Before 2.5 it predates SQLAlchemy 1.4 (ask-me's flask-sqlalchemy==2.3.1, SQLAlchemy
    # unpinned: its health check's query('alive') is 1.3's API, an error in 1.4).
    askme = PythonDeps(("flask==1.0.2", "flask-sqlalchemy==2.3.1"), "r", None, None)
    assert "SQLAlchemy<1.4" in _remedies(()).apply(askme).requirements
    # fastapi-crudrouter's every release is pydantic 1's (corcasta's FastAPI-Demo, nothing
    # pinned: "'FieldInfo' object has no attribute 'name'" on pydantic 2).
    crud = PythonDeps(("fastapi", "fastapi_crudrouter", "tortoise-orm"), "r", None, None)
    assert _remedies(()).apply(crud).requirements[3:] == ("pydantic<2", "tortoise-orm<0.20")
    # passlib's every release probes bcrypt with a password bcrypt 5 refuses (julzt0244's
    # fastapi-address-book-api: passlib[bcrypt] unpinned, its start-up hash failed).
    auth = PythonDeps(("fastapi", "passlib[bcrypt]"), "r", None, None)
    assert _remedies(()).apply(auth).requirements[2:] == ("bcrypt<5",)
    own = PythonDeps(("passlib[bcrypt]", "bcrypt==5.0.0"), "r", None, None)
    assert _remedies(()).apply(own).requirements == own.requirements  # its own pin stands
    # A fix's hold brings its own: Flask<2 with what Flask 1.1.4 itself bounds.
    remedies.fixes.append(Fix("jinja2.escape is gone", add="Flask<2"))
    deps = remedies.apply(listed)
    assert set(deps.requirements[4:]) == {
        "Flask<2",
        "Werkzeug<2",
        "Jinja2<3",
        "itsdangerous<2",
        "click<8",
        "MarkupSafe<2.1",
    }
    # Pins of the app's own are never held over; a looser hold than one there is not added.
    pinned = PythonDeps(("Flask==1.1.2", "Jinja2==2.11.3", "Werkzeug<1.1"), "r", None, None)
    assert _remedies(()).apply(pinned).requirements[3:] == (
        "itsdangerous<2",
        "click<8",
        "MarkupSafe<2.1",
    )
    assert _remedies(()).apply(PythonDeps(("flask>=3",), "r", None, None)).requirements == (
        "flask>=3",
    )
    # tortoise-orm 0.20.0 with pydantic 2.11+ fails at its first pydantic_model_creator
    tortoise = PythonDeps(("fastapi==0.109.0", "tortoise-orm==0.20.0"), "r", None, None)
    assert _remedies(()).apply(tortoise).requirements[2:] == ("pydantic<2.11",)


def test_fixes_that_change_nothing_count_and_all_are_bounded() -> None:
    # Each fix moved the failure on: up to MOST (8) in all.
    remedies = _remedies(())
    for name in [f"a{n}" for n in range(1, 11)]:
        remedies.next_fix(f"No module named '{name}'", [], {}, PYTHONS)
        remedies.failure_before = (f"No module named '{name}'", [], None)
    assert [f.add for f in remedies.fixes] == [f"a{n}" for n in range(1, MOST + 1)]
    # The same failure after each fix (its other causes tried in turn): at most MOST_IDLE
    # (4) fixes that made no progress.
    idle = _remedies(())
    failure = [f"ModuleNotFoundError: No module named 'b{n}'" for n in range(1, 8)]
    while idle.next_fix("exited with code 1", failure, {}, PYTHONS) is not None:
        idle.failure_before = ("exited with code 1", failure, None)
    assert len(idle.fixes) == MOST_IDLE and idle.idle == MOST_IDLE


def test_a_compiler_failure_names_the_package_and_pyenv_paths_are_scrubbed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tails = OutputTails(interleaved=50)
    tails.extend(
        "stderr",
        [
            "  × Failed to build `httptools==0.1.2`",
            "  ├─▶ The build backend returned an error",
            "      httptools/parser/parser.c:4:10: fatal error: Python.h:"
            " No such file or directory",
            "      error: command '/usr/bin/gcc' failed with exit code 1",
        ],
    )
    reason, lines = installer_failure(tails, "uv")
    assert reason == "building httptools 0.1.2 needs a C compiler and its headers (no wheel)"
    assert any("Python.h" in line for line in lines)
    # A compiler's output longer than the tail kept: uv's own line was noted as it passed.
    long = OutputTails(interleaved=5)
    long.extend("stderr", ["      psycopg/psycopgmodule.c:924:26: error: lvalue required"] * 9)
    noted = ["  × Failed to build `psycopg2==2.7.3`"]
    reason, _ = installer_failure(long, "uv", noted)
    assert reason == "building psycopg2 2.7.3 needs a C compiler and its headers (no wheel)"

    version = tmp_path / "versions" / "3.9.18"
    (version / "lib").mkdir(parents=True)
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    paths = HostPaths.of_service(
        app_dir=tmp_path / "app",
        data_dir=tmp_path / "d",
        previews_dir=tmp_path / "p",
        env_root=tmp_path / "e",
        python="python3",
    )
    line = f'  File "{version}/lib/python3.9/collections/__init__.py", line 1'
    assert paths(line) == '  File "<python>/lib/python3.9/collections/__init__.py", line 1'


async def _relaunched(service: Service, app: str) -> tuple[dict, list[str]]:
    """Launched without waiting (a relaunch builds another environment: longer than one
    request's time), then its status polled until it settles."""
    gid = await service.upload(app_files(app))
    response = await service.launch(gid, tier="pro", wait=False)
    assert response.status_code == 200, response.text
    body = {"gid": gid, **response.json()}
    while body["status"] in ("starting", "stopping"):  # stopping: before a relaunch
        await trio.sleep(0.2)
        body = {"gid": gid, **await service.status(gid)}
    system = messages(await service.history(body["gid"]), "system")
    assert body["status"] == "running", (body["errorMessage"], body["errorLines"], system)
    return body, [line for line in system if line.startswith("fix ")]


async def _ignored(lines: list[tuple[str, str]], stream: str) -> None:
    del lines, stream


async def test_npms_path_of_a_failed_script_is_noted_past_the_tail() -> None:
    """agustinlari's hono-kanban lists chromedriver, whose install script's refused
    download dumps its request object, hundreds of lines: npm's ``path`` line naming the
    package was gone from the tail, and the reason was its last line, "}". Noted as it
    passed, it names the package: its program's download, left unbuilt."""
    head = [
        "npm error code 1",
        "npm error path /env/node_modules/chromedriver",
        "npm error command failed",
    ]
    dump = [f"npm error       _field{n}: false," for n in range(300)] + ["npm error }"]
    noted: list[str] = []
    note = noting_failed_builds(_ignored, noted)
    await note([(str(n), text) for n, text in enumerate(head + dump)], "stderr")
    long = OutputTails(interleaved=50)
    long.extend("stderr", [*head, *dump])
    reason, _ = installer_failure(long, "npm", noted)
    assert reason == "chromedriver's install script could not download its program", reason
    assert installer_failure(long, "npm")[0] != reason  # unnoted: the tail alone


def test_playwrights_browser_download_is_a_programs_and_nodes_version_no_reason() -> None:
    """victtor01's backend-sistem-nestjs-gestion: artillery brings playwright 1.37, whose
    ``node install.js`` could not download Chromium from its CDN; the reason was npm's
    copy of Node's last line, "Node.js v20.20.2". Its program's download, left unbuilt;
    and a script failing another way is said by its error, never by Node's version."""
    script = [
        "npm error code 1",
        "npm error path /env/node_modules/playwright",
        "npm error command failed",
        "npm error command sh -c node install.js",
        "npm error Downloading Chromium 116.0.5845.82 (playwright build v1076) from https://x",
        "npm error Error: Failed to download Chromium 116.0.5845.82, caused by",
        "npm error Error: Download failure, code=1",
        "npm error",
        "npm error Node.js v20.20.2",
        "npm error A complete log of this run can be found in: /env/_logs/x-debug-0.log",
    ]
    tails = OutputTails(interleaved=50)
    tails.extend("stderr", script)
    reason, _ = installer_failure(tails, "npm")
    assert reason == "playwright's install script could not download its program", reason
    other = [line.replace("/playwright", "/left-pad-setup") for line in script]
    tails = OutputTails(interleaved=50)
    tails.extend("stderr", other)
    reason, _ = installer_failure(tails, "npm")
    assert reason == "Error: Download failure, code=1", reason


def test_a_prisma_too_old_for_openssl_3_fails_its_generate_saying_so() -> None:
    """mojahige's hello-fastify: ``prisma generate`` of Prisma 2.28 on this machine's
    OpenSSL 3, "Unknown binaryTarget debian-openssl-3.0.x": said as the system's lack."""
    tails = OutputTails(interleaved=50)
    said = "Error: Unknown binaryTarget debian-openssl-3.0.x and no custom binaries were provided"
    tails.extend("stderr", ["prisma generate --schema prisma/schema.prisma", said])
    reason, lines = installer_failure(tails, "prisma")
    assert reason.startswith("the app's Prisma has no engine for OpenSSL 3"), reason
    assert lines == [said]


async def test_app_on_a_removed_stdlib_name_runs_on_an_older_python(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body, fixes = await _relaunched(service, "flask_mutablemapping")
        assert len(fixes) == 1 and "collections.MutableMapping" in fixes[0], fixes
        answer = (await service.app_get(body, "/")).json()
        assert answer["python"] == "3.9"
        assert body["runtime"]["python"].startswith("3.9")
        await service.stop(body["gid"])


async def test_app_passing_a_keyword_python_removed_runs_on_an_older_python(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body, fixes = await _relaunched(service, "flask_gettext_codeset")
        assert len(fixes) == 1 and "translation() of Python's standard library" in fixes[0], fixes
        answer = (await service.app_get(body, "/")).json()
        assert answer == {"greeting": "hello", "python": "3.10"}
        await service.stop(body["gid"])


async def test_undeclared_module_and_flask_before_3_are_fixed_and_run(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body, fixes = await _relaunched(service, "flask_undeclared")
        said = messages(await service.history(body["gid"]), "system")
        assert not fixes, fixes  # read from what its start imports: no failed start first
        assert any(line.startswith("its start imports yaml,") for line in said), said
        assert (await service.app_get(body, "/")).json() == {"items": ["apple", "pear"]}
        await service.stop(body["gid"])
        # Launched again: it starts with the fix the upload needed, no failure first.
        body, fixes = await _relaunched(service, "flask_undeclared")
        said = messages(await service.history(body["gid"]), "system")
        assert not fixes and any(
            "earlier launch of this upload" in line and "PyYAML" in line for line in said
        )
        await service.stop(body["gid"])
        body, fixes = await _relaunched(service, "flask_before3")
        # (2.3 dropped it too: held below 3, then below 2.3)
        assert [f.split("relaunching with ")[1][:9] for f in fixes] == ["Flask<3 (", "Flask<2.3"]
        answer = (await service.app_get(body, "/hello/you")).json()
        assert answer == {"greeting": "hello &lt;you&gt;", "safe": '"you"'}
        await service.stop(body["gid"])


async def test_a_fixs_attempt_runs_its_data_steps_on_empty_databases(
    builder_service: Service,
) -> None:
    """Its init script made and seeded its table, then died on a module its requirements
    do not list: the fix's attempt ran the script again on that table ("table items
    already exists"). Between attempts its databases are emptied of what a failed one
    left."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body, fixes = await _relaunched(service, "fastapi_half_initialised")
        assert len(fixes) == 1 and "adding PyYAML" in fixes[0], fixes
        assert (await service.app_get(body, "/items")).json() == ["seeded once"]
        said = messages(await service.history(body["gid"]), "system")
        assert any("the data its failed attempt left cleared" in line for line in said), said
        await service.stop(body["gid"])
        if server_binaries() is None or not service.supervisor.isolation.sandboxed:
            return  # (no private PostgreSQL here)
        body, fixes = await _relaunched(service, "fastapi_half_initialised_pg")  # its schema
        assert "adding PyYAML" in fixes[-1], fixes
        assert (await service.app_get(body, "/items")).json() == ["seeded once"]
        await service.stop(body["gid"])


def test_celery_4_holds_importlib_metadata_below_the_release_that_dropped_get() -> None:
    """glebmikha's django-rest-framework-bank pins celery>=4.3,<4.4: its kombu 4.6 calls
    importlib_metadata.entry_points().get (gone in importlib-metadata 5), and importing
    Celery failed as "cannot import name 'Celery' from 'celery'". Celery 5 is left be."""
    old = _remedies(()).apply(PythonDeps(("celery>=4.3.0,<4.4.0",), "r", None, None))
    assert "importlib-metadata<5" in old.requirements, old.requirements
    new = _remedies(()).apply(PythonDeps(("celery>=5.3",), "r", None, None))
    assert new.requirements == ("celery>=5.3",)


def test_an_old_sqlalchemy_utils_holds_sqlalchemy_below_1_4() -> None:
    """frol's flask-restplus-server-example: SQLAlchemy>=1.3,<2 and SQLAlchemy-Utils<0.35,
    which imports _literal_as_text (gone in SQLAlchemy 1.4): its migrations failed so."""
    listed = ("SQLAlchemy>=1.3.0,<2", "SQLAlchemy-Utils>=0.34,<0.35")
    deps = _remedies(()).apply(PythonDeps(listed, "r", None, None))
    assert "SQLAlchemy<1.4" in deps.requirements, deps.requirements
    recent = ("SQLAlchemy", "SQLAlchemy-Utils>=0.41")
    assert _remedies(()).apply(PythonDeps(recent, "r", None, None)).requirements == recent


def test_an_old_flask_holds_the_flask_migrate_a_fix_adds_below_its_g_options() -> None:
    """ricoputrap's flask-rest-api-modular: Flask==1.1.2 pinned, flask_migrate imported and
    not listed; the module added, Flask-Migrate 4.1's db group keeps its options in ``g``,
    which Flask before 2.2 does not share with the command: "'_AppCtxGlobals' object has
    no attribute 'directory'" at ``flask db upgrade``."""
    remedies = _remedies(("Flask==1.1.2", "click==7.1.2"))
    said = "ModuleNotFoundError: No module named 'flask_migrate'"
    fix = remedies.next_fix(said, [], {"app.py": b"import flask_migrate\n"}, PYTHONS)
    assert fix is not None and fix.add is not None
    deps = remedies.apply(PythonDeps(("Flask==1.1.2", "click==7.1.2"), "r", None, None))
    assert "Flask-Migrate<4.1" in deps.requirements, deps.requirements
    newer = ("Flask==2.3.3", "Flask-Migrate")  # one app context for the CLI: none held
    assert _remedies(()).apply(PythonDeps(newer, "r", None, None)).requirements == newer
    # bdemirtas's flask-prototype-blog: Flask~=2.0.1, flask_admin added, whose 2.0 imports
    # flask.typing's RouteCallable (Flask 2.2's): held below it.
    listed = ("Flask~=2.0.1", "Flask-Admin")
    held = _remedies(()).apply(PythonDeps(listed, "r", None, None)).requirements
    assert "Flask-Admin<2" in held, held


def test_celery_with_an_old_redis_pinned_holds_kombu_below_its_check() -> None:
    """fastapi-celery-project: celery==5.3.6 and redis==5.0.1, kombu unpinned: kombu 5.7
    refuses redis-py below 6.1 at its first connection (a route's 500). Held with
    celery (or kombu) listed only: an app pinning redis alone gets no kombu."""
    deps = _remedies(()).apply(PythonDeps(("celery==5.3.6", "redis==5.0.1"), "r", None, None))
    assert deps.requirements[2:] == ("kombu<5.7",)
    alone = _remedies(()).apply(PythonDeps(("flask", "redis==5.0.1"), "r", None, None))
    assert alone.requirements == ("flask", "redis==5.0.1")
    pinned = ("celery", "redis==5.0.1", "kombu==5.7.0")  # the app's own pin stands
    assert _remedies(()).apply(PythonDeps(pinned, "r", None, None)).requirements == pinned


async def test_celery_and_an_old_redis_get_a_kombu_that_takes_it(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("celery_redis_pinned"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer["redis"] == "5.0.1" and answer["driver"] == "redis", answer
        assert Version(answer["kombu"]) < Version("5.7"), answer
        system = messages(await service.history(body["gid"]), "system")
        assert any("holding kombu<5.7" in m for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_an_old_flask_pinned_alone_runs_at_once_with_its_contemporaries(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body, fixes = await _relaunched(service, "flask_old_stack")
        assert not fixes, fixes  # no failure first: all held before the first build
        said = messages(await service.history(body["gid"]), "system")
        assert any(
            line.startswith("Flask==1.1.2 runs only with releases of its time")
            and "Werkzeug<2, Jinja2<3, itsdangerous<2, click<8, MarkupSafe<2.1" in line
            for line in said
        ), said
        answer = (await service.app_get(body, "/versions")).json()
        assert answer["jinja2"].startswith("2.") and answer["werkzeug"].startswith("1.")
        assert answer["markupsafe"] < "2.1"
        await service.stop(body["gid"])


def test_a_start_up_timeout_quotes_the_last_error_the_app_printed() -> None:
    lines = [
        "INFO: starting",
        "Traceback (most recent call last):",
        '  File "app.py", line 3, in connect',
        "ConnectionRefusedError: [Errno 111] Connection refused",
        "INFO: retrying in 5 s",
    ]
    message = timeout_message(lines, 12000, 30)
    assert message == (
        "did not answer HTTP on port 12000 within 30 s; the last error it printed: "
        "ConnectionRefusedError: [Errno 111] Connection refused"
    )
    assert timeout_message(["INFO: starting"], 12000, 30).endswith("within 30 s")
    moved = timeout_message(["listening on :3000"], 12000, 30)
    assert "it should listen on $PORT (12000), not 3000" in moved


def test_scripts_that_run_bun_get_bun_from_npm_without_its_watcher() -> None:
    package = {"scripts": {"dev": "bun run --hot src/index.ts"}, "dependencies": {"hono": "^4"}}
    files = {"package.json": json.dumps(package).encode(), "src/index.ts": b""}
    start = node_start(files)
    assert start is not None and BUN in start.tools
    assert "bun run src/index.ts" in " ".join(start.argv) and "--hot" not in start.argv[-1]
    package["devDependencies"] = {"bun": "^1.1"}
    files["package.json"] = json.dumps(package).encode()
    assert BUN not in (node_start(files) or start).tools


def test_a_build_wanting_mysql_or_postgres_headers_says_so() -> None:
    old = OutputTails(interleaved=50)
    old.extend(
        "stderr",
        [
            "  × Failed to build `mysqlclient==2.1.1`",
            "  ├─▶ The build backend returned an error",
            "      /bin/sh: 1: mysql_config: not found",
            "      OSError: mysql_config not found",
        ],
    )
    reason, lines = installer_failure(old, "uv")
    assert reason == (
        "building mysqlclient 2.1.1 needs MySQL's client library and headers (mysql_config, "
        "or pkg-config's mysqlclient: Debian's default-libmysqlclient-dev) and a C compiler "
        "(no wheel)"
    )
    assert "OSError: mysql_config not found" in lines
    assert for_python(reason, "3.10").startswith("building mysqlclient 2.1.1 for Python 3.10 needs")
    new = OutputTails(interleaved=50)
    new.extend(
        "stderr",
        [
            "  × Failed to build `mysqlclient==2.3.1`",
            "      Exception: Can not find valid pkg-config name.",
            "      Specify MYSQLCLIENT_CFLAGS and MYSQLCLIENT_LDFLAGS env vars manually",
        ],
    )
    assert installer_failure(new, "uv")[0].startswith("building mysqlclient 2.3.1 needs MySQL's")
    pg = OutputTails(interleaved=50)
    pg.extend(
        "stderr",
        ["  × Failed to build `psycopg2==2.9.3`", "Error: pg_config executable not found."],
    )
    assert "pg_config (Debian's libpq-dev)" in installer_failure(pg, "uv")[0]


def test_mysqlclient_nothing_imports_is_dropped_and_an_unreadable_sdist_takes_an_older_python() -> (
    None
):
    message = "building mysqlclient 2.1.1 for Python 3.10 needs MySQL's client library and headers"
    remedies = _remedies(("fastapi", "mysqlclient==2.1.1", "orjson==3.6.8"))
    fix = remedies.next_fix(message, [], {"app.py": b"import sqlite3\n"}, PYTHONS)
    assert fix is not None and (fix.drop, fix.add, fix.python_below) == ("mysqlclient", None, None)
    assert "no module of the app imports MySQLdb: relaunching without it" in fix.said
    assert fix.change == "- mysqlclient"
    deps = remedies.apply(remedies.tried.deps)  # type: ignore[arg-type]
    assert deps.requirements == ("fastapi", "orjson==3.6.8")
    # An app importing MySQLdb needs it: nothing to drop, and no older Python has a wheel;
    # where mysqlclient cannot be built (no mysql_config), PyMySQL stands in for it.
    imports = {"db.py": b"import MySQLdb\n"}
    fix = _remedies(("mysqlclient",)).next_fix(message, [], imports, PYTHONS)
    if shutil.which("mysql_config") or shutil.which("mariadb_config"):
        assert fix is None
    else:
        assert fix is not None and (fix.add, fix.drop) == ("PyMySQL", "mysqlclient")
    # uv: no wheel for this Python, and the sdist it would build is unreadable.
    unreadable = (
        "Failed to download and build `orjson==3.6.8`: TOML parse error at line 1, column 1"
    )
    fix = _remedies(("orjson==3.6.8",)).next_fix(unreadable, [], {}, PYTHONS)
    assert fix is not None and fix.python_below == "3.11" and "orjson" in fix.said


async def test_the_package_failing_on_every_python_tried_is_the_cause() -> None:
    """orjson 3.6.8 fails on 3.11 only (no wheel there); mysqlclient on 3.10 and 3.9
    (on any): mysqlclient's failure is the one reported, not the first Python's."""
    told = {
        "3.11": "Failed to download and build `orjson==3.6.8`: TOML parse error",
        "3.10": "building mysqlclient 2.1.1 for Python 3.10 needs MySQL's client library",
        "3.9": "building mysqlclient 2.1.1 for Python 3.9 needs MySQL's client library",
    }
    pythons = tuple(Interpreter(f"/usr/bin/python{v}", f"{v}.1") for v in told)

    async def attempt(chosen: Interpreter, publish: object, wheels_only: bool) -> None:
        raise BuildFailed("no wheels" if wheels_only else told[chosen.minor])

    async def nothing(*args: object) -> None:
        return None

    with trio.fail_after(10), pytest.raises(BuildFailed) as failed:
        await build_first_fitting(pythons, nothing, attempt, nothing, nothing)
    assert failed.value.message == told["3.10"]
    # Different packages on each: the first Python's, as before.
    told["3.9"] = "building lxml 4.2 for Python 3.9 needs a C compiler"
    with trio.fail_after(10), pytest.raises(BuildFailed) as failed:
        await build_first_fitting(pythons, nothing, attempt, nothing, nothing)
    assert failed.value.message == told["3.11"]


def _wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> None:
    """A wheel holding only its metadata: what a resolver reads of it."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as wheel:
        wheel.writestr(f"{info}/METADATA", "\n".join(lines) + "\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        wheel.writestr(f"{info}/RECORD", "")


def test_mysqlclient_left_out_stays_out_where_a_listed_package_requires_it(
    tmp_path: Path,
) -> None:
    """jkbbinkowski's flask-ecommerce-backend lists mysqlclient and Flask-MySQLdb and
    imports mysql.connector alone: mysqlclient's line was dropped, and Flask-MySQLdb
    brought it back (built, and failing, at its newest). It is now overridden away."""
    if shutil.which("mysql_config") or shutil.which("mariadb_config"):
        return  # mysqlclient builds here
    listed = ("Flask-MySQLdb==2.0.0", "mysql-connector-python==9.2.0", "mysqlclient==2.2.7")
    remedies = _remedies(listed)
    built = "building mysqlclient 2.2.7 for Python 3.11 needs MySQL's client library"
    files = {"flaskr/functions.py": b"import mysql.connector\n"}
    fix = remedies.next_fix(built, [], files, PYTHONS)
    assert fix is not None and (fix.drop, fix.add, fix.keep_out) == ("mysqlclient", None, True)
    deps = remedies.apply(remedies.tried.deps)  # type: ignore[arg-type]
    assert deps.requirements == listed[:2] and deps.not_installed == ("mysqlclient",)
    # uv, given wheels alone: what Flask-MySQLdb requires of it is overridden away.
    wheels = tmp_path / "wheels"
    _wheel(wheels, "flask_mysqldb", "2.0.0", ("mysqlclient>=2.2.0",))
    _wheel(wheels, "mysql_connector_python", "9.2.0")
    _wheel(wheels, "mysqlclient", "2.2.7")
    arguments = write_requirements(
        tmp_path, list(deps.requirements), deps.build_constraints, left_out=deps.not_installed
    )
    env = {**os.environ, "UV_NO_CONFIG": "1", "UV_CACHE_DIR": str(tmp_path / "cache")}
    venv = tmp_path / "venv"
    run = partial(subprocess.run, capture_output=True, text=True, timeout=60, env=env)
    assert run([uv.find_uv_bin(), "venv", "--python", sys.executable, venv]).returncode == 0
    local = ["--python", venv / "bin" / "python", "--no-index", "--find-links", wheels]
    planned = run([uv.find_uv_bin(), "pip", "install", "--dry-run", *arguments, *local])
    assert planned.returncode == 0, planned.stderr
    installed = [line.strip() for line in planned.stderr.splitlines() if " + " in line]
    assert installed == ["+ flask-mysqldb==2.0.0", "+ mysql-connector-python==9.2.0"]


def test_mysqlclient_a_listed_package_brings_gives_way_to_pymysql() -> None:
    """An app listing Flask-MySQLdb and not mysqlclient, which Flask-MySQLdb requires and
    which cannot be built here: its line could not be dropped, and no fix was found."""
    if shutil.which("mysql_config") or shutil.which("mariadb_config"):
        return  # mysqlclient builds here
    remedies = _remedies(("flask", "Flask-MySQLdb"))
    built = "building mysqlclient 2.3.2 for Python 3.11 needs MySQL's client library"
    hint = (
        "hint: `mysqlclient` (v2.3.2) was included because `flask-mysqldb` (v2.0.0) depends "
        "on `mysqlclient`"
    )
    fix = remedies.next_fix(built, [hint], {"app.py": b"import flask_mysqldb\n"}, PYTHONS)
    assert fix is not None and (fix.add, fix.drop, fix.keep_out) == ("PyMySQL", "mysqlclient", True)
    assert fix.said.startswith("flask-mysqldb imports MySQLdb, whose mysqlclient cannot")
    deps = remedies.apply(remedies.tried.deps)  # type: ignore[arg-type]
    assert deps.requirements == ("flask", "Flask-MySQLdb", "PyMySQL")
    assert deps.not_installed == ("mysqlclient",)


async def test_mysqlclient_an_extension_requires_gives_way_and_the_app_runs(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body, fixes = await _relaunched(service, "flask_mysqldb_extension")
        answer = (await service.app_get(body, "/")).json()
        if shutil.which("mysql_config") is None and shutil.which("mariadb_config") is None:
            assert answer == {"answer": 42, "driver": "pymysql"}
            assert len(fixes) == 1 and "PyMySQL standing in for MySQLdb" in fixes[0], fixes
        assert (await service.stop(body["gid"])).status_code == 200


async def test_mysqlclient_listed_but_unused_is_dropped_and_the_app_runs(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body, fixes = await _relaunched(service, "mysqlclient_unused")
        assert (await service.app_get(body, "/")).json() == {"answer": 42}
        if shutil.which("mysql_config") is None and shutil.which("mariadb_config") is None:
            assert len(fixes) == 1, fixes  # where MySQL's headers are installed, none
            assert fixes[0].startswith("fix 1: mysqlclient cannot be built here"), fixes
        assert (await service.stop(body["gid"])).status_code == 200


@pytest.mark.skipif(GRAPHVIZ_HEADERS, reason="graphviz's headers are installed: it builds")
async def test_an_unbuildable_lock_pin_nothing_imports_is_left_out(
    builder_service: Service,
) -> None:
    """flask-rest-hello: its Pipfile.lock pins pygraphviz 1.14 (eralchemy2's, a diagram
    command's), which has no wheel and needs graphviz's headers: the pin goes (eralchemy2
    then takes a pygraphviz with wheels) rather than older Pythons tried, under which the
    lock's markers would drop half of it."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body, fixes = await _relaunched(service, "unbuildable_tool")
        assert (await service.app_get(body, "/")).json() == {"answer": 42}
        assert len(fixes) == 1, fixes
        assert fixes[0].startswith("fix 1: pygraphviz cannot be built here"), fixes
        assert fixes[0].endswith("relaunching without pygraphviz"), fixes
        assert (await service.stop(body["gid"])).status_code == 200


def test_what_brought_an_unbuildable_package_goes_with_it() -> None:
    """uv's hint names the listed package that brought the one that failed: both go,
    unless the app imports either (then an older Python is tried, as before)."""
    lines = [
        "  × Failed to build `pygraphviz==1.14`",
        "hint: `pygraphviz` (v1.14) was included because `eralchemy2` (v1.4.1) depends on "
        "`pygraphviz`",
    ]
    listed = ("flask", "eralchemy2==1.4.1", "pygraphviz==1.14")
    message = "building pygraphviz 1.14 for Python 3.11 needs a C compiler and its headers"
    fix = _remedies(listed).next_fix(message, lines, {"app.py": b"import flask\n"}, PYTHONS)
    assert fix is not None and fix.drop == "pygraphviz,eralchemy2", fix
    assert fix.said.endswith(
        "nor eralchemy2, which brings it: relaunching without pygraphviz and eralchemy2"
    )
    used = {"app.py": b"import pygraphviz\n"}
    fix = _remedies(listed).next_fix(message, lines, used, PYTHONS)
    assert fix is not None and fix.drop is None and fix.python_below == "3.11", fix
    # Listed for itself, no hint (FastAPI's orjson), or brought by the app's server:
    # an older Python, as before.
    alone = _remedies(listed).next_fix(message, lines[:1], {"app.py": b"import flask\n"}, PYTHONS)
    assert alone is not None and alone.drop is None, alone
    served = [lines[0], lines[1].replace("eralchemy2", "uvicorn")]
    fix = _remedies(("uvicorn", "pygraphviz==1.14")).next_fix(message, served, {}, PYTHONS)
    assert fix is not None and fix.drop is None, fix


def test_what_an_imported_package_brought_that_cannot_be_built_is_kept_out_alone() -> None:
    """esakkimuthumskp's FastAPI-Billing-System lists reportlab 4.0.0, whose canvas it
    imports; reportlab requires rlPyCairo (its optional renderer's), which brought
    pycairo, built only with cairo's headers: every Python was tried, none installed it.
    The links the app does not import are kept out (uv's overrides), reportlab kept."""
    lines = [
        "  × Failed to build `pycairo==1.29.2`",
        "hint: `pycairo` (v1.29.2) was included because `reportlab` (v4.0.0) depends on "
        "`rlpycairo` (v0.4.0) which depends on `pycairo`",
    ]
    listed = ("fastapi==0.95.2", "reportlab==4.0.0", "aiosmtplib==1.1.6")
    message = "building pycairo 1.29.2 for Python 3.11 needs a C compiler and its headers"
    code = {"app/pdf.py": b"from reportlab.pdfgen import canvas\n"}
    remedies = _remedies(listed)
    fix = remedies.next_fix(message, lines, code, PYTHONS)
    assert fix is not None and fix.drop == "pycairo,rlpycairo" and fix.keep_out, fix
    assert fix.python_below is None
    assert fix.said.endswith("relaunching with reportlab alone, without pycairo and rlpycairo")
    deps = remedies.apply(remedies.tried.deps)  # type: ignore[arg-type]
    assert deps.requirements[:3] == listed and deps.not_installed == ("pycairo", "rlpycairo")
    # The app imports what failed itself: it is kept, an older Python tried.
    itself = {"app/pdf.py": b"import pycairo\nimport reportlab\n"}
    fix = _remedies(listed).next_fix(message, lines, itself, PYTHONS)
    assert fix is not None and fix.drop is None and fix.python_below == "3.11", fix
    # Brought by an extra the app asks for (a pos-fastapi's python-escpos[all], whose
    # pycups needs CUPS's headers): uv names the package with its extra.
    escpos = [
        "  × Failed to build `pycups==2.0.4`",
        "hint: `pycups` (v2.0.4) was included because `python-escpos[all]` (v3.1) depends "
        "on `pycups`",
    ]
    printing = {"app/printer.py": b"from escpos.printer import Network\n"}
    asked = ("fastapi==0.110.0", "python-escpos[all]==3.1")
    built = "building pycups 2.0.4 for Python 3.11 needs a C compiler and its headers"
    fix = _remedies(asked).next_fix(built, escpos, printing, PYTHONS)
    assert fix is not None and fix.drop == "pycups" and fix.keep_out, fix


def test_an_old_flask_without_its_extensions_commands_gets_setuptools() -> None:
    """flask-bluelog (Flask 1.1.2): ``flask db upgrade`` said only "No such command 'db'":
    Flask before 2.2 finds Flask-Migrate's commands through pkg_resources, and swallows
    its import error. Its procfile's gunicorn, listed only in Pipfile.lock, is installed."""
    message = "Error: No such command 'db'."
    fix = _remedies(("Flask==1.1.2", "Flask-Migrate==2.5.3")).next_fix(message, [], {}, PYTHONS)
    assert fix is not None and fix.add == "setuptools<81"
    assert fix.said.startswith("flask has no command 'db': a Flask before 2.2 finds")
    assert _remedies(("flask", "setuptools")).next_fix(message, [], {}, PYTHONS) is None
    assert _remedies(("django",)).next_fix(message, [], {}, PYTHONS) is None
    # click 7's quotes (haoolii's flask-blog-api, Flask 1.1.1): the same failure.
    quoted = 'Error: No such command "db".'
    again = _remedies(("Flask==1.1.1", "Flask-Migrate==2.5.2")).next_fix(quoted, [], {}, PYTHONS)
    assert again is not None and again.add == "setuptools<81"
    procfile = {
        "Procfile": b"web: gunicorn wsgi:app\n",
        "requirements.txt": b"flask==1.1.2\n",
        "wsgi.py": b"from flask import Flask\napp = Flask(__name__)\n",
    }
    assert detect(procfile).server == "gunicorn"
    assert detect({**procfile, "Procfile": b"web: python -m uvicorn m:app\n"}).server == "uvicorn"
    assert detect({**procfile, "Procfile": b"web: bin/start\n"}).server is None
    # Its server after the commands a chained line runs first (geekwise-estefania-flores's
    # django-drf-bank-app: ``cd app && python manage.py migrate && gunicorn main.wsgi``).
    chained = b"web: cd app && python manage.py migrate && gunicorn wsgi:app\n"
    assert detect({**procfile, "Procfile": chained}).server == "gunicorn"


def test_an_old_setup_py_builds_on_the_setuptools_that_still_had_its_api() -> None:
    """django-drfx pins django-allauth 0.42, whose setup.py imports convert_path from
    setuptools (gone since 70); its isolated build took the newest, and older Pythons
    were tried, which cannot help. Its build is constrained to setuptools<70 instead."""
    message = "Failed to build `django-allauth==0.42.0` ╰─▶ The build backend returned an error"
    lines = [
        '  File "<string>", line 11, in <module>',
        "ImportError: cannot import name 'convert_path' from 'setuptools' (/x/__init__.py)",
    ]
    remedies = _remedies(("Django==3.1", "django-allauth==0.42.0"))
    fix = remedies.next_fix(message, lines, {}, PYTHONS)
    assert fix is not None and fix.build == "setuptools<70" and fix.python_below is None
    assert fix.said.startswith("django-allauth's setup.py needs a setuptools API")
    deps = remedies.apply(remedies.tried.deps)  # type: ignore[arg-type]
    assert deps.build_constraints == ("setuptools<70",)
    assert deps.requirements == ("Django==3.1", "django-allauth==0.42.0")  # untouched
    assert deps.key("3.11.7@py", (), "") != PythonDeps(
        deps.requirements, "requirements.txt", ">=3.8", "pyproject"
    ).key("3.11.7@py", (), "")  # another environment
    use_2to3 = [
        "Failed to build `anyjson==0.3.3`",
        "error in anyjson setup command: use_2to3 is invalid.",
    ]
    fix = _remedies(("anyjson==0.3.3",)).next_fix(use_2to3[0], use_2to3[1:], {}, PYTHONS)
    assert fix is not None and fix.build == "setuptools<58"
    # MarkupSafe 1.0's setup.py imports Feature, which left setuptools in 46: on <70 its
    # build failed the same way (DaemonWill's flask-photo-app).
    feature = [
        "Failed to build `markupsafe==1.0`",
        "      ImportError: cannot import name 'Feature' from 'setuptools'",
    ]
    fix = _remedies(("MarkupSafe==1.0",)).next_fix(feature[0], feature[1:], {}, PYTHONS)
    assert fix is not None and fix.build == "setuptools<46"


def test_a_builds_last_exception_is_among_its_lines() -> None:
    """drfx's build failure: its ImportError ended a traceback past the 15 first lines of
    uv's error, so neither the user nor the remedies saw why it failed."""
    tail = [
        "  × Failed to build `django-allauth==0.42.0`",
        "  ├─▶ The build backend returned an error",
        *[f'      File "/x/build_meta.py", line {n}, in run_setup' for n in range(20)],
        "      ImportError: cannot import name 'convert_path' from 'setuptools'",
        "      (/x/setuptools/__init__.py)",
        "hint: Build failures usually indicate a problem with the package",
    ]
    lines = relevant_lines(tail)
    assert len(lines) == 16 and lines[0] == tail[0]
    assert lines[-1].strip().startswith("ImportError: cannot import name 'convert_path'")
    fix = _remedies(("django-allauth==0.42.0",)).next_fix(tail[0], lines, {}, PYTHONS)
    assert fix is not None and fix.build == "setuptools<70"


def test_a_guessed_requirement_the_index_lacks_is_left_out() -> None:
    """nikpopka's upload lists no dependencies; a Windows desktop script beside its FastAPI
    app imports win32com, which the guess added and uv cannot find: relaunched without it.
    A name the app lists and imports itself stays (its own list's failure is its own)."""
    lines = [
        "  × No solution found when resolving dependencies:",
        "  ╰─▶ Because win32com was not found in the package registry and you require",
        "      win32com, we can conclude that your requirements are unsatisfiable.",
    ]
    guessed = Remedies()
    requirements = ("fastapi", "psutil", "pyautogui", "win32com")
    guessed.tried.deps = PythonDeps(
        requirements, "", ">=3.8", "pyproject", inferred="fastapi, win32com"
    )
    fix = guessed.next_fix("installing dependencies failed", lines, {}, PYTHONS)
    assert fix is not None and fix.drop == "win32com", fix
    assert fix.said.startswith("win32com, guessed from an import (the app lists no dependencies)")
    imports = {"desktop.py": b"import win32com.client\n"}
    assert not _remedies(requirements).has_fix("", lines, imports, PYTHONS)


async def test_a_fix_made_at_launch_is_in_force_for_its_revisions(
    builder_service: Service,
) -> None:
    """A revision's files are another upload: the fix the launch needed (PyYAML added)
    used to be left out of its environment, and every revision under `watch` failed
    "No module named 'yaml'". The status says which fixes are in force."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body, fixes = await _relaunched(service, "flask_undeclared")
        assert not fixes, fixes  # taken before its first start (its start imports yaml)
        assert body["runtime"]["fixes"] == ["+ PyYAML"]
        changed = app_files("flask_undeclared")["app.py"].replace("pear", "plum")
        posted = await service.client.post(
            f"/api/generations/{body['gid']}/revisions",
            json={"files": {"app.py": changed}},
            headers=auth(),
        )
        assert posted.status_code == 201, posted.text
        applied = posted.json()
        assert applied["applied"] is True, applied["apply"]
        assert (await service.app_get(body, "/")).json() == {"items": ["apple", "plum"]}
        said = messages(await service.history(body["gid"]), "system")
        assert "revision 2: with the fixes in force: + PyYAML" in said, said
        status = await service.status(body["gid"])
        assert status["revision"] == 2 and status["runtime"]["fixes"] == ["+ PyYAML"]
        # One recipe for a process, wherever made: the revision's carries the fixes, and
        # the launch's diagnoses but the relaunch for a route's fix (runtime.recipe).
        runtime = service.supervisor.for_generation(body["gid"])
        assert runtime is not None and runtime.supervision is not None
        assert runtime.supervision.recipe.fixes == ("+ PyYAML",)
        assert runtime.supervision.recipe.spec.revision == 2
        await service.stop(body["gid"])


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
    linux = [
        *lines[:2],
        "hint: Wheels are available for `x` (v1) on the following platforms: "
        "`manylinux_2_17_aarch64`, `macosx_11_0_arm64`",
    ]
    assert fix_for({"main.py": b""}, linux) is None  # Linux has wheels: another cause


def test_a_package_larger_than_a_build_may_write_imported_in_a_function_is_left_out() -> None:
    """sarra31's Flask-medical-app lists TensorFlow (a 587 MiB wheel, past the 256 MiB a
    build may write) and imports it only in one route's function: left out, the rest of
    the app serves. Imported as the app loads, or not listed, it stays: the failure is
    said as it is."""
    text = (
        "uv was stopped writing a file larger than the 256 MiB a build may write "
        "(tensorflow 586.9 MiB)"
    )

    def fix_for(module: bytes, listed: tuple[str, ...] = ("Flask", "tensorflow==2.18.0")):
        remedies = Remedies()
        remedies.tried.deps = PythonDeps(listed, "requirements.txt", None, None)
        remedies.tried.python_version = "3.11.7"
        return remedies.next_fix(text, [], {"app.py": module}, ["3.11.7"])

    lazily = b"import flask\n\ndef predict():\n    import tensorflow as tf\n    return tf\n"
    fix = fix_for(lazily)
    assert fix is not None and fix.drop == "tensorflow", fix
    assert "imports it nowhere or only inside functions" in fix.said
    assert fix_for(b"import flask\nimport tensorflow\n") is None
    assert fix_for(b"import flask\nif True:\n    from tensorflow import keras\n") is None
    assert fix_for(lazily, ("Flask", "keras")) is None
    # yaswanthkumarch's fastapi-email-tracker: a freeze listing torch, never imported, and
    # CUDA's wheels it brings, named with it: torch left out, they with it.
    cuda = (
        "uv was stopped writing a file larger than the 256 MiB a build may write "
        "(nvidia-cudnn-cu12 544.5 MiB, torch 783.1 MiB)"
    )
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(("fastapi", "torch==2.7.1"), "requirements.txt", None, None)
    remedies.tried.python_version = "3.11.7"
    fix = remedies.next_fix(cuda, [], {"app.py": b"import fastapi\n"}, ["3.11.7"])
    assert fix is not None and fix.drop == "torch", fix
    assert "nvidia-cudnn-cu12, which it brings" in fix.said
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(("fastapi",), "requirements.txt", None, None)
    assert remedies.next_fix(cuda, [], {"app.py": b"import fastapi\n"}, ["3.11.7"]) is None


def test_a_package_named_by_a_url_the_build_does_not_reach_comes_from_the_index() -> None:
    """Moiz786's demoFastApiInventoryMgmtApp: a machine's freeze lists ``pgadmin4 @ https://
    ftp.postgresql.org/…/pgadmin4-6.15-py3-none-any.whl``, a host no build reaches: the
    registry's pgadmin4==6.15 in its place. One not named by a URL stays its failure."""
    url = "https://ftp.postgresql.org/pub/pgadmin/pgadmin4/v6.15/pip/pgadmin4-6.15-py3-none-any.whl"
    text = f"Failed to download `pgadmin4 @ {url}`"

    def fix_for(listed: tuple[str, ...]) -> object:
        remedies = Remedies()
        remedies.tried.deps = PythonDeps(listed, "requirements.txt", None, None)
        remedies.tried.python_version = "3.11.7"
        return remedies.next_fix(text, [text], {"main.py": b"import fastapi\n"}, ["3.11.7"])

    fix = fix_for(("fastapi==0.95.0", f"pgadmin4 @ {url}"))
    assert fix is not None and (fix.drop, fix.add) == ("pgadmin4", "pgadmin4==6.15"), fix
    assert fix_for(("fastapi==0.95.0", "pgadmin4==6.15")) is None


def test_a_listed_module_name_is_replaced_by_its_distribution() -> None:
    """KiranPrasath-26's flask-kanban lists ``pkg_resources``, setuptools' module, which no
    index has as a distribution: relaunched with setuptools instead. Another name the
    index lacks, which the app lists and imports, stays its own failure; one nothing
    imports is left out (QueenieBloom's crud-python-mysql-flask lists ``bycrypt``, a typo
    no module imports)."""
    lines = [
        "  × No solution found when resolving dependencies:",
        "  ╰─▶ Because pkg-resources was not found in the package registry and you",
        "      require pkg-resources, we can conclude that your requirements are",
    ]
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(("Flask", "pkg_resources"), "requirements.txt", None, None)
    fix = remedies.next_fix("installing dependencies failed", lines, {}, PYTHONS)
    assert fix is not None and fix.drop == "pkg-resources", fix
    assert fix.add == "setuptools<81"
    other = [line.replace("pkg-resources", "nosuchthing") for line in lines]
    listed = PythonDeps(("Flask", "nosuchthing"), "requirements.txt", None, None)
    imports = {"app.py": b"import nosuchthing\n"}
    remedies = Remedies()
    remedies.tried.deps = listed
    assert remedies.next_fix("installing dependencies failed", other, imports, PYTHONS) is None
    remedies = Remedies()
    remedies.tried.deps = listed
    typo = remedies.next_fix("installing dependencies failed", other, {"app.py": b""}, PYTHONS)
    assert typo is not None and typo.drop == "nosuchthing", typo
    assert "is on no package index under any version" in typo.said


def test_a_freezes_pin_the_index_lacks_that_nothing_imports_is_left_out() -> None:
    """haoolii's flask-blog-api lists a whole Ubuntu machine's pip freeze, ``defer==1.0.6``
    (apt's python3-defer, on no index) among its pins, which none of its modules imports.
    A pin the app imports, or one of a list that is no freeze, stays its own failure."""
    text = (
        "No solution found when resolving dependencies: Because there is no version of "
        "defer==1.0.6 and you require defer==1.0.6, we can conclude that your requirements "
        "are unsatisfiable."
    )
    freeze = (*(f"package{n}==1.0" for n in range(10)), "Flask==1.1.1", "defer==1.0.6")

    def fix_for(listed: tuple[str, ...], main: bytes) -> object:
        remedies = Remedies()
        remedies.tried.deps = PythonDeps(listed, "requirements.txt", None, None)
        remedies.tried.python_version = "3.11.7"
        return remedies.next_fix(text, [text], {"app.py": main}, ["3.11.7"])

    fix = fix_for(freeze, b"from flask import Flask\n")
    assert fix is not None and getattr(fix, "drop", None) == "defer"
    assert fix_for(freeze, b"import defer\n") is None
    assert fix_for(("Flask==1.1.1", "defer==1.0.6"), b"from flask import Flask\n") is None


def test_a_freezes_pins_the_index_lacks_are_left_out_together() -> None:
    """FlaskHospitalManagementSystem's Raspberry Pi freeze has a dozen pins no index has
    (apt's and the board's), which uv names one a failure: one relaunch each, past a
    launch's fixes. Once the index has told the freeze's releases (after the first such
    failure), every pin it lacks at that version that nothing imports goes with the one
    uv named; one it has, one it did not answer for, and one the app imports stay."""
    text = (
        "No solution found when resolving dependencies: Because there is no version of "
        "defer==1.0.6 and you require defer==1.0.6, we can conclude that your requirements "
        "are unsatisfiable."
    )
    freeze = (
        *(f"package{n}==1.0" for n in range(8)),
        "Flask==1.1.1",
        "defer==1.0.6",
        "python-apt==2.2.1",  # the index has other releases of it
        "ufw==0.36",  # the index has no such project
        "unknown-here==1.0",  # the index did not answer for it
        "RPi.GPIO==0.7.0",  # the app imports it
    )
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(freeze, "requirements.txt", None, None)
    remedies.tried.python_version = "3.11.7"
    remedies.tried.releases.update(
        {
            "defer": [],
            "python-apt": ["0.7.8"],
            "ufw": [],
            "rpi-gpio": ["0.7.1"],
            "flask": ["1.1.1", "2.0.0"],
            **{f"package{n}": ["1.0.0"] for n in range(8)},
        }
    )
    main = b"from flask import Flask\nimport RPi.GPIO\n"
    fix = remedies.next_fix(text, [text], {"app.py": main}, ["3.11.7"])
    assert fix is not None
    assert fix.drop == "defer,ufw", fix  # (python-apt's other releases: relaxed to them)
    assert "2 pins of its pip freeze" in fix.said and "ufw==0.36" in fix.said


def test_a_name_absent_from_the_index_is_read_across_uvs_wrapped_lines() -> None:
    """uv wraps its explanation at its width: a long name's "was" and "not found in the
    package registry" fall on two lines, which a rule reading one line at a time missed
    (the freeze's absent pin then failed the launch)."""
    absent = "no-such-distribution-of-an-apt-package"
    text = [
        f"No solution found when resolving dependencies: Because {absent} was",
        "  × No solution found when resolving dependencies:",
        f"  ╰─▶ Because {absent} was",
        f"      not found in the package registry and you require {absent}==1.0.6,",
        "      we can conclude that your requirements are unsatisfiable.",
    ]
    remedies = Remedies()
    freeze = (*(f"package{n}==1.0" for n in range(10)), "Flask==1.1.1", f"{absent}==1.0.6")
    remedies.tried.deps = PythonDeps(freeze, "requirements.txt", None, None)
    remedies.tried.python_version = "3.11.7"
    fix = remedies.next_fix(text[0], text, {"app.py": b"import flask\n"}, ["3.11.7"])
    assert fix is not None and getattr(fix, "drop", None) == absent, fix


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


def test_a_package_a_locked_app_lacks_is_added_where_its_failure_names_it() -> None:
    """rentbest's Fastapi-Websockets-Chat: its uv.lock lacks python-multipart, which its
    form routes need (FastAPI: 'Form data requires "python-multipart" to be installed');
    the remedies never touched a lock, and the launch failed so. The package is now
    installed beside the lock's; one the lock holds is still the app's to change."""
    lock = '[[package]]\nname = "fastapi"\n\n[[package]]\nname = "starlette"\n'
    deps = PythonDeps((), "uv.lock", None, None, ("[project]\n", lock))
    remedies = Remedies()
    remedies.tried.deps, remedies.tried.python_version = deps, "3.13.0"
    files = {"app/main.py": b"from fastapi import FastAPI, Form\n"}
    said = 'RuntimeError: Form data requires "python-multipart" to be installed. '
    fix = remedies.next_fix(said, [said], files, ["3.13.0"])
    assert fix is not None and (fix.add, fix.drop) == ("python-multipart", None), fix
    applied = remedies.apply(deps)
    assert applied.lock == deps.lock and applied.requirements == ("python-multipart",)
    assert applied.not_installed == ()
    locked = Remedies()
    locked.tried.deps, locked.tried.python_version = deps, "3.13.0"
    needs_starlette = "RuntimeError: this requires 'starlette' to be installed."
    assert locked.next_fix(needs_starlette, [needs_starlette], files, ["3.13.0"]) is None


def test_an_extra_an_exception_of_another_name_says_to_install_is_added() -> None:
    """wafissh's belajar-fastapi lists pwdlib and hashes with argon2: "pwdlib.exceptions.
    HasherNotAvailable: The argon2 hash algorithm is not available. … Try to run `pip
    install pwdlib[argon2]`." An exception named otherwise than ``…Error`` is read too."""
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(("fastapi", "pwdlib"), "requirements.txt", None, None)
    remedies.tried.python_version = "3.13.0"
    said = (
        "pwdlib.exceptions.HasherNotAvailable: The argon2 hash algorithm is not available. "
        "Are you sure it's installed? Try to run `pip install pwdlib[argon2]`."
    )
    files = {"app/security.py": b"from pwdlib import PasswordHash\n"}
    fix = remedies.next_fix(said, [said], files, ["3.13.0"])
    assert fix is not None and fix.add == "pwdlib[argon2]", fix


def test_an_unbuildable_package_a_pip_freeze_lists_and_nothing_imports_is_left_out() -> None:
    """okuzmenko31's drf-ecommerce: its requirements.txt, a ``pip freeze``, lists pycairo
    1.23 (which needs cairo's headers, not here) because rlPyCairo, reportlab's optional
    renderer, brought it; no module imports either. Listed, it was taken for the app's
    own choice, and the build failed as it was."""
    freeze = (
        "Django==4.2",
        "djangorestframework==3.14.0",
        "celery==5.2.7",
        "Pillow==9.5.0",
        "psycopg2==2.9.6",
        "pycairo==1.23.0",
        "redis==4.5.5",
        "reportlab==4.0.0",
        "rlPyCairo==0.2.0",
        "requests==2.30.0",
    )
    message = (
        "Failed to build `pycairo==1.23.0`: Call to `setuptools.build_meta.build_wheel` failed"
    )
    files = {"shop/views.py": b"from reportlab.pdfgen import canvas\n"}
    pythons = ["3.12.1", "3.11.7", "3.10.13"]

    def remedies(requirements: tuple[str, ...]) -> Remedies:
        found = Remedies()
        found.tried.deps = PythonDeps(requirements, "requirements.txt", None, None)
        found.tried.python_version = "3.11.7"
        return found

    fix = remedies(freeze).next_fix(message, [message], files, pythons)
    assert fix is not None and fix.drop == "pycairo", fix
    # Listed by hand among unpinned ones, it is the app's own choice: as before.
    chosen = ("django", "reportlab", "pycairo==1.23.0")
    fix = remedies(chosen).next_fix(message, [message], files, pythons)
    assert fix is None or fix.drop is None, fix


def test_a_missing_cloudinary_storage_module_is_named_by_its_distribution() -> None:
    """suwasghale's drf-api: its settings list ``cloudinary_storage`` (an app of
    django-cloudinary-storage) in INSTALLED_APPS, which its requirements.txt lacks; the
    relaunch that adds a missing module did not know its distribution."""
    assert (import_mapping() or {})["cloudinary_storage"] == "django-cloudinary-storage"
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(("django",), "requirements.txt", None, None)
    remedies.tried.python_version = "3.11.7"
    message = "ModuleNotFoundError: No module named 'cloudinary_storage'"
    fix = remedies.next_fix(message, [message], {"core/settings.py": b""}, ["3.11.7"])
    assert fix is not None and fix.add == "django-cloudinary-storage", fix
    # Modules pipreqs' table does not know (DkryuProject's fastapi-practice imports cv2,
    # unlisted: "+ cv2" found no such distribution): their distributions, a server's.
    pairs = (
        ("cv2", "opencv-python-headless"),
        ("docx", "python-docx"),
        ("argon2", "argon2-cffi"),
        # Relics of the module's own name in pipreqs' table (AdhilSalah's fastApiFinance
        # got python-bcrypt 0.3.2: "hashpw() argument 1 must be str, not bytes").
        ("bcrypt", "bcrypt"),
        ("msgpack", "msgpack"),
        ("docker", "docker"),
        # hellen-22's hospital-api-django: PyPI has no rest-framework-nested.
        ("rest_framework_nested", "drf-nested-routers"),
    )
    for module, distribution in pairs:
        remedies = _remedies(("django",))  # (one launch's fixes are bounded: each its own)
        message = f"ModuleNotFoundError: No module named '{module}'"
        fix = remedies.next_fix(message, [message], {"app/main.py": b""}, ["3.11.7"])
        assert fix is not None and fix.add == distribution, (module, fix)
    # A module its settings name among INSTALLED_APPS that no table knows: the Django
    # app's project, django-<name> (balmendra-f's django-sandbox: PyPI has no bootstrap5).
    settings = b"INSTALLED_APPS = [\n    'django.contrib.admin',\n    'bootstrap5',\n]\n"
    message = "ModuleNotFoundError: No module named 'bootstrap5'"
    files = {"core/settings.py": settings}
    fix = remedies.next_fix(message, [message], files, ["3.11.7"])
    assert fix is not None and (fix.add, fix.instead) == ("bootstrap5", "django-bootstrap5"), fix


def test_a_rest_framework_plugins_module_is_added_by_its_usual_names() -> None:
    """psswid's drf-app imports rest_framework_extensions (of drf-extensions), unlisted:
    "rest-framework-extensions is not in the package registry: no fix". A Django REST
    framework plugin's module adds ``drf-<name>``, else ``djangorestframework-<name>``;
    and where the first installed and the module is still missing (a package of another's
    by that name), the other takes its place."""
    remedies = _remedies(("django", "djangorestframework"))
    message = "ModuleNotFoundError: No module named 'rest_framework_extensions'"
    fix = remedies.next_fix(message, [message], {"app/settings.py": b""}, ["3.11.7"])
    assert fix is not None, fix
    assert (fix.add, fix.instead) == ("drf-extensions", "djangorestframework-extensions"), fix
    remedies.failure_before = (message, [message], None)
    again = remedies.next_fix(message, [message], {"app/settings.py": b""}, ["3.11.7"])
    assert again is not None and (again.add, again.instead) == (
        "djangorestframework-extensions",
        None,
    ), again
    assert remedies.fixes == [again]
    assert "installed no module the app imports" in again.said


def test_an_old_fastapi_pinned_alone_is_held_to_the_pydantic_of_its_time() -> None:
    """melos-simeneh's Blog-with-Authentication pins fastapi==0.103.1 and not pydantic:
    pydantic 2.12 broke its ``OAuth2PasswordRequestForm = Depends()`` at import ("'FieldInfo'
    object has no attribute 'in_'"; FastAPI 0.105 and later run on it). A pin of the app's
    own is never held over."""
    lines = ["bcrypt==4.0.1", "fastapi==0.103.1", "SQLAlchemy==2.0.20"]
    assert companions(lines, lines) == [("pydantic<2.12", "fastapi==0.103.1")]
    assert companions(["fastapi==0.110.0"], ["fastapi==0.110.0"]) == []
    pinned = [*lines, "pydantic==2.12.0"]
    assert companions(pinned, pinned) == []


def test_a_package_built_for_an_older_numpy_holds_numpy_below_the_installed_major(
    tmp_path: Path,
) -> None:
    """edesz's fastapi-async-db-auth pins pandas==1.2.4 and no numpy: NumPy 2 came, whose
    binary interface pandas' extensions were not built for ("numpy.dtype size changed")."""
    remedies = _remedies(("pandas==1.2.4", "fastapi==0.65.1"))
    remedies.tried.python_version = "3.9.18"
    remedies.tried.env_path = _env_with(tmp_path, "numpy", "2.0.2", "numpy")
    failure = [
        '  File "pandas/_libs/interval.pyx", line 1, in init pandas._libs.interval',
        "ValueError: numpy.dtype size changed, may indicate binary incompatibility. "
        "Expected 96 from C header, got 88 from PyObject",
    ]
    fix = remedies.next_fix(failure[-1], failure, {}, PYTHONS)
    assert fix is not None and fix.add == "numpy<2", fix
    # NumPy pinned by the app itself: not ours to change.
    pinned = _remedies(("pandas==1.2.4", "numpy==2.0.2"))
    pinned.tried.python_version, pinned.tried.env_path = "3.9.18", remedies.tried.env_path
    again = pinned.next_fix(failure[-1], failure, {}, PYTHONS)
    assert again is None or again.add != "numpy<2", again


async def test_what_its_start_imports_and_its_dependencies_lack_is_added_before_it_starts(
    builder_service: Service,
) -> None:
    """brunolnetto's fastapi-email lists neither fastapi nor pydantic-settings: each
    was a failed start, a fix and another install. Both are read from what its start
    imports and added before the first start: no fix after a failure."""
    service = builder_service
    files = {
        "requirements.txt": "uvicorn\n",
        "app/__init__.py": "",
        "app/main.py": (
            "from fastapi import FastAPI\n\n"
            "from .settings import Settings\n\n"
            "app = FastAPI()\n\n\n"
            '@app.get("/")\n'
            "def root() -> dict[str, str]:\n"
            '    return {"name": Settings().name}\n'
        ),
        "app/settings.py": (
            "from pydantic_settings import BaseSettings\n\n\n"
            "class Settings(BaseSettings):\n"
            '    name: str = "made"\n'
        ),
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        system = messages(await service.history(body["gid"]), "system")
        assert not [line for line in system if line.startswith("fix ")], system
        said = [line for line in system if line.startswith("its start imports ")]
        assert said == [
            "its start imports fastapi, pydantic_settings, which its environment does not "
            "have: + fastapi; + pydantic_settings, before its first start"
        ], system
        assert (await service.app_get(body, "/")).json() == {"name": "made"}
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_folder_of_the_modules_name_holding_no_python_is_not_the_apps_module() -> None:
    """ZakariaCoder's EcoleManager-flask does ``from fpdf import FPDF`` and keeps PHP's
    ``vendor/setasign/fpdf/`` (its README, its docs): taken for a module of its own, the
    missing fpdf was never added ("No module named 'fpdf'" at its migration and start). A
    folder of that name with Python in it is the app's own."""
    message = "ModuleNotFoundError: No module named 'fpdf'"
    files = {"app.py": b"from fpdf import FPDF\n", "vendor/setasign/fpdf/README.md": b"# FPDF\n"}
    fix = _remedies(("Flask==2.3.3",)).next_fix(message, [], files, PYTHONS)
    assert fix is not None and fix.add is not None and "fpdf" in fix.add.lower(), fix
    own = {**files, "lib/fpdf/__init__.py": b""}
    assert _remedies(("Flask==2.3.3",)).next_fix(message, [], own, PYTHONS) is None


def test_an_attribute_a_packages_newest_major_refuses_another_package_holds_it(
    tmp_path: Path,
) -> None:
    """MateuszPanek's reservationApp: its flask-marshmallow, held below 0.15 for
    ``ma.ModelSchema``, reads ``app.extensions["sqlalchemy"].db``, which Flask-SQLAlchemy
    3's ``__getattr__`` refuses ("AttributeError: db"): Flask-SQLAlchemy held below 3. Not
    where the app's own code reads it, nor where the refusing frame is no ``__getattr__``."""
    env = _env_with(tmp_path, "Flask-SQLAlchemy", "3.1.1", "flask_sqlalchemy")
    site = "<environment>/lib/python3.11/site-packages"
    failure = [
        "Traceback (most recent call last):",
        '  File "reservationAppConfig.py", line 8, in <module>',
        "    ma = Marshmallow(app)",
        f'  File "{site}/flask_marshmallow/__init__.py", line 115, in init_app',
        '    db = app.extensions["sqlalchemy"].db',
        f'  File "{site}/flask_sqlalchemy/extension.py", line 1008, in __getattr__',
        "    raise AttributeError(name)",
        "AttributeError: db",
    ]

    def fix(lines: list[str]) -> str | None:
        remedies = _remedies(("flask", "flask_sqlalchemy", "flask_marshmallow<0.15"), env)
        remedies.tried.python_version = "3.11.7"
        found = remedies.next_fix(lines[-1], lines, {"reservationAppConfig.py": b""}, ["3.11.7"])
        return found.add if found is not None else None

    assert fix(failure) == "Flask-SQLAlchemy<3"
    own = [*failure[:3], *failure[5:]]  # the app's own read: its own to get right
    assert fix(own) is None
    elsewhere = [*failure[:5], failure[5].replace("__getattr__", "query"), *failure[6:]]
    assert fix(elsewhere) is None


def test_marshmallow_sqlalchemys_model_schema_holds_it_below_the_release_that_removed_it(
    tmp_path: Path,
) -> None:
    """MateuszPanek's reservationApp: its Flask-Marshmallow 0.14 builds on
    ``marshmallow_sqlalchemy.ModelSchemaOpts``, removed in 0.26; held below each release
    installed in turn (1, 0.30, 0.29 …), it ran out of relaunches first. Held below 0.26 at
    once."""
    env = _env_with(tmp_path, "marshmallow-sqlalchemy", "1.5.0", "marshmallow_sqlalchemy")
    remedies = _remedies(("flask", "flask_marshmallow<0.15", "marshmallow-sqlalchemy"), env)
    site = "<environment>/lib/python3.11/site-packages"
    failure = [
        "Traceback (most recent call last):",
        f'  File "{site}/flask_marshmallow/sqla.py", line 28, in <module>',
        "    class SchemaOpts(FlaskSQLAlchemyOptsMixin, msqla.ModelSchemaOpts):",
        "AttributeError: module 'marshmallow_sqlalchemy' has no attribute 'ModelSchemaOpts'",
    ]
    fix = remedies.next_fix(failure[-1], failure, {"app.py": b""}, ["3.11.7"])
    assert fix is not None and fix.add == "marshmallow-sqlalchemy<0.26", fix
