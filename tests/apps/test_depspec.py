"""Poetry's dependency tables and Pipenv's Pipfile(.lock) as PEP 508 requirements (no
process, no index); and a Pipenv project built and run with its locked versions."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import trio

from preview.apps.depspec import binary_twins, import_roots, python_dependencies, unlocked_for
from preview.apps.node.nodedeps import node_dependencies
from preview.apps.poetry import poetry_constraint, poetry_lock_pins
from preview.apps.pyfloor import code_python_floor
from preview.builds.envcache import write_node_project

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages


@pytest.mark.parametrize(
    ("constraint", "specifier"),
    [
        ("^1.2.3", ">=1.2.3,<2"),
        ("^0.2.3", ">=0.2.3,<0.3"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("~1.2.3", ">=1.2.3,<1.3"),
        ("~1", ">=1,<2"),
        ("1.2.3", "==1.2.3"),
        ("=1.2.3", "==1.2.3"),
        ("1.2.*", "==1.2.*"),
        ("*", ""),
        (">=1.0 <2.0", ">=1.0,<2.0"),  # space-separated clauses (was ">=1.0<2.0")
        (">= 1.0, < 2.0", ">=1.0,<2.0"),
        (">=1.0,<2.0 !=1.5", ">=1.0,<2.0,!=1.5"),
        ("^1.2.3b1", ">=1.2.3b1,<2"),
        # || : a union without a gap is one exact range (was ">=1.0.0,<2") ...
        ("^1.2 || ^2.0", ">=1.2,<3"),
        ("^0.2 | ^0.3 || ^0.4", ">=0.2,<0.5"),
        # ... else the newest alternative, as Poetry's solver would pick.
        ("^1.0 || ^3.0", ">=3.0,<4"),
        ("~2.7 || ^3.6", ">=3.6,<4"),
        ("^2 || *", ""),
    ],
)
def test_constraints(constraint: str, specifier: str) -> None:
    assert poetry_constraint(constraint) == specifier


POETRY = b"""[tool.poetry]
name = "shop"

[tool.poetry.dependencies]
python = "~2.7 || ^3.10"
fastapi = "^0.110 || ^0.111"
pydantic = "^1.10 || ^2.5"
httpx = ">=0.25 <0.28"
tomli = {version = "^2.0", python = "<3.11"}
uvloop = {version = "*", markers = "sys_platform != 'win32'", python = "^3.10"}
typing-extensions = {version = ">=4", python = "~3.8 || ^3.10"}
numpy = [
    {version = "<1.25", python = "<3.9"},
    {version = "^1.26", python = ">=3.9"},
]
wheel-from-url = {url = "https://example.com/w/wheel_from_url-1.0-py3-none-any.whl"}
from-git = {git = "https://github.com/example/from-git.git", tag = "v1.2", extras = ["x"]}
over-ssh = {git = "git@github.com:example/over-ssh.git", rev = "abc123", subdirectory = "py"}
shared = {path = "../libs/shared", develop = true}
elsewhere = {path = "../../elsewhere"}
docs-only = {version = "^1", optional = true}

[tool.poetry.group.dev.dependencies]
pytest = "^8"
"""

SHARED = b"""[tool.poetry.dependencies]
python = "^3.10"
six = "^1.16"
"""


def test_poetry_table_as_requirements_with_markers_references_and_notes() -> None:
    files = {"backend/pyproject.toml": POETRY, "libs/shared/pyproject.toml": SHARED}
    deps = python_dependencies(files, "backend/app/main.py")
    assert deps.source == "backend/pyproject.toml"
    assert deps.requirements == (
        "fastapi>=0.110,<0.112",
        "pydantic>=2.5,<3",
        "httpx>=0.25,<0.28",
        'tomli>=2.0,<3 ; python_version < "3.11"',
        'uvloop ; (python_version >= "3.10" and python_version < "4") and '
        "(sys_platform != 'win32')",
        'typing-extensions>=4 ; (python_version >= "3.8" and python_version < "3.9") or '
        '(python_version >= "3.10" and python_version < "4")',
        'numpy<1.25 ; python_version < "3.9"',
        'numpy>=1.26,<2 ; python_version >= "3.9"',
        "wheel-from-url @ https://example.com/w/wheel_from_url-1.0-py3-none-any.whl",
        "from-git[x] @ git+https://github.com/example/from-git.git@v1.2",
        "over-ssh @ git+ssh://git@github.com/example/over-ssh.git@abc123#subdirectory=py",
        "six>=1.16,<2",  # the local path package's own dependencies
    )
    # What a PEP 440 line cannot say is said in the build's output.
    notes = "\n".join(deps.notes)
    assert 'fastapi: "^0.110 || ^0.111" has alternatives' in notes
    assert "installed as >=0.110,<0.112 (their union, one range)" in notes
    assert "installed as >=2.5,<3 (one alternative only)" in notes
    assert "shared: the local package libs/shared is used from the upload" in notes
    assert "elsewhere: the path ../../elsewhere is outside the upload: left out" in notes
    assert deps.local == ("libs/shared",)  # imported from the upload (PYTHONPATH)
    # The interpreter asked for: the newest alternative (no 2.7 here).
    assert deps.python_request == ">=3.10,<4"
    # Notes are not part of the environment's key.
    assert deps.key("3.12.1@/x", (), "") == python_dependencies(files, "backend/x.py").key(
        "3.12.1@/x", (), ""
    )


def test_unreadable_constraint_installs_any_version_and_says_so() -> None:
    table = b'[tool.poetry.dependencies]\nweird = "1.0 ?? 2.0"\n'
    deps = python_dependencies({"pyproject.toml": table})
    assert deps.requirements == ("weird",)
    assert 'cannot read the constraint "1.0 ?? 2.0"' in deps.notes[0]


def test_a_version_no_installer_reads_is_taken_as_meant() -> None:
    """palms455's fastapi-tortoise: ``aerich==-0.2.3``, which uv refused ("Couldn't parse
    requirement"): nothing installed. The version less its stray ``-``; one that still
    reads as none, the name alone; a version that reads, and an option line, as they are."""
    text = b"fastapi==0.65.1\naerich==-0.2.3\ntortoise-orm>=v0.17\nuvicorn==latest\n-e .\n"
    deps = python_dependencies({"requirements.txt": text, "main.py": b"import fastapi\n"})
    assert deps.requirements[:4] == (
        "fastapi==0.65.1",
        "aerich==0.2.3",
        "tortoise-orm>=v0.17",  # (PEP 440 reads a leading v)
        "uvicorn",
    ), deps.requirements
    assert any("aerich==-0.2.3 → aerich==0.2.3" in note for note in deps.notes), deps.notes


def test_local_packages_of_a_requirements_file_import_from_the_upload() -> None:
    """pip's local lines (-e ./x, ./x, file:x, extras and #egg decorations): their
    dependencies are installed, the packages themselves import from the upload, from a
    project's src/ where it has one; the app itself (-e .) adds its own pyproject's."""
    files = {
        "svc/requirements.txt": (
            b"fastapi\n-e ./libs/common\n./libs/flat[extra]#egg=flat\nfile:libs/flat\n"
            b"-e .\n-e ../../outside\n/abs/path\n-e git+https://example.com/x.git#egg=x\n"
        ),
        "svc/pyproject.toml": b'[project]\nname="svc"\ndependencies=["httpx>=0.27"]\n',
        "svc/libs/common/pyproject.toml": (
            b'[project]\nname="common"\ndependencies=["pydantic>=2", "fastapi"]\n'
        ),
        "svc/libs/common/src/common/__init__.py": b"",
        "svc/libs/flat/flat/__init__.py": b"",
        "svc/main.py": b"",
    }
    deps = python_dependencies(files, "svc/main.py")
    assert deps.source == "svc/requirements.txt"
    assert deps.requirements == ("fastapi", "pydantic>=2", "httpx>=0.27")
    assert deps.local == ("svc/libs/common", "svc/libs/flat", "svc")
    assert import_roots(files, deps.local) == ["svc/libs/common/src", "svc/libs/flat", "svc"]
    # Where they lie is no part of the environment's key; what they need is.
    moved = {k.replace("libs/", "packages/"): v for k, v in files.items()}
    moved["svc/requirements.txt"] = files["svc/requirements.txt"].replace(b"libs/", b"packages/")
    assert python_dependencies(moved, "svc/main.py").key("3.12", (), "") == deps.key("3.12", (), "")


def test_a_root_project_declaring_its_packages_under_src_imports_from_there() -> None:
    """arunanshub's fastapi-complaint-system: Poetry's ``packages = [{include = "app",
    from = "src"}]``, installed with the project where Poetry installs it; its Alembic
    env.py imports ``app`` from the root ("No module named 'app'" in its set-up step).
    setuptools' and Hatch's declarations likewise; a ``src/`` nothing declares is not."""
    poetry = b'[tool.poetry]\nname = "x"\npackages = [{include = "app", from = "src"}]\n'
    files = {
        "pyproject.toml": poetry,
        "src/app/__init__.py": b"",
        "src/app/main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
        "migrations/env.py": b"from app import models\n",
    }
    assert import_roots(files, ()) == ["src"]
    for declared in (
        b'[tool.setuptools]\npackage-dir = {"" = "src"}\n',
        b'[tool.setuptools.packages.find]\nwhere = ["src"]\n',
        b'[tool.hatch.build.targets.wheel]\npackages = ["src/app"]\n',
    ):
        assert import_roots({**files, "pyproject.toml": declared}, ()) == ["src"], declared
    undeclared = b'[tool.poetry]\nname = "x"\n'
    assert import_roots({**files, "pyproject.toml": undeclared}, ()) == []
    no_package = {k: v for k, v in files.items() if not k.startswith("src/")}
    assert import_roots(no_package, ()) == []


def test_a_find_links_directory_of_the_authors_machine_is_dropped() -> None:
    """Replit's ``-f /usr/share/pip-wheels`` first in a requirements.txt (Alex-ley's
    Flask-banking-app; uv: "Invalid URL in `requirements.txt` at position 0: relative URL
    without a base"): a directory the upload does not carry, left out; a URL is kept."""
    text = b"-f /usr/share/pip-wheels\nflask==3.0.0\n--find-links=./wheels\n-f./more\n"
    deps = python_dependencies({"requirements.txt": text, "app.py": b""}, "app.py")
    assert deps.requirements == ("flask==3.0.0",)
    url = b"--find-links https://download.pytorch.org/whl/torch_stable.html\nflask\n"
    kept = python_dependencies({"requirements.txt": url, "app.py": b""}, "app.py")
    assert kept.requirements == (
        "--find-links https://download.pytorch.org/whl/torch_stable.html",
        "flask",
    )


def test_psycopg2_is_read_as_its_binary_twin_where_the_twin_has_the_version() -> None:
    files = {p: t.encode() for p, t in app_files("flask_psycopg2").items()}
    deps = python_dependencies(files, "app.py")
    assert deps.requirements == ("flask", 'psycopg2-binary>=2.8; python_version >= "3.8"')
    assert deps.notes and "the same module as wheels" in deps.notes[0]
    lines, _ = binary_twins(["psycopg2==2.7.5", "psycopg2==2.7.3", "psycopg2<2.7", "-e ."])
    # psycopg2-binary began at 2.7.4: an older pin stays as it is.
    assert lines == ["psycopg2-binary==2.7.5", "psycopg2==2.7.3", "psycopg2<2.7", "-e ."]
    # psycopg 3's C extra, built from source here (ja-camus's blog-fastapi: out of time
    # installing), is its binary extra: the same C implementation, as wheels.
    lines, notes = binary_twins(['psycopg[c,pool]>=3.1; sys_platform == "linux"', "psycopg[pool]"])
    assert lines == ['psycopg[binary,pool]>=3.1; sys_platform == "linux"', "psycopg[pool]"]
    assert len(notes) == 1 and "C implementation as wheels" in notes[0]
    # PyPI's decouple is another project than python-decouple, whose module the code
    # imports (tauhedulislam0001's JWT-Token-FastAPI: ``decouple~=0.0.7``, "cannot import
    # name 'config' from 'decouple'").
    lines, notes = binary_twins(["decouple~=0.0.7", "python-decouple==3.8"])
    assert lines == ["python-decouple", "python-decouple==3.8"]
    assert len(notes) == 1 and "decouple on PyPI is another's" in notes[0]
    # PyPI's sklearn, whose every build fails on purpose (funmech's drf-lab:
    # ``sklearn==0.0.post12``), for scikit-learn's module of that name.
    lines, notes = binary_twins(["sklearn==0.0.post12", "django"])
    assert lines == ["scikit-learn", "django"] and len(notes) == 1
    # PyPI's bson, for pymongo's module of that name (RomanovRomanU's
    # SimpleAppointments-Flask-: ``['Flask', 'PyMongo', 'bson']``).
    lines, notes = binary_twins(["Flask", "PyMongo", "bson"])
    assert lines == ["Flask", "PyMongo", "pymongo"] and "bson on PyPI is another's" in notes[0]


def test_pipenv_lock_pins_else_pipfile_packages() -> None:
    files = {p: t.encode() for p, t in app_files("pipenv_locked").items()}
    deps = python_dependencies(files, "app.py")
    assert deps.source == "Pipfile.lock"
    assert "flask==3.0.0; python_version >= '3.8'" in deps.requirements
    assert not any(r.startswith("pytest") for r in deps.requirements)  # develop: not run
    assert (deps.python_request, deps.python_source) == ("3.11", "Pipfile.lock")
    del files["Pipfile.lock"]
    deps = python_dependencies(files, "app.py")
    assert (deps.source, deps.requirements) == ("Pipfile", ("flask",))
    assert (deps.python_request, deps.python_source) == ("3.11", "Pipfile")
    pipfile = b"""[packages]
requests = {version = ">=2.28", extras = ["socks"]}
myapp = {path = ".", editable = true}
lib = {git = "https://example.com/lib.git", ref = "v1"}
win = {version = "*", markers = "sys_platform == 'win32'"}
[requires]
python_full_version = "3.12.1"
"""
    deps = python_dependencies({"Pipfile": pipfile, "main.py": b""}, "main.py")
    assert deps.requirements == (
        "requests[socks]>=2.28",
        "lib @ git+https://example.com/lib.git@v1",
        "win; sys_platform == 'win32'",
    )
    assert deps.python_request == "3.12.1"


def test_a_poetry_group_the_code_imports_is_installed_as_poetry_install_does() -> None:
    """hyoseok0604's fastapi-deploy keeps FastAPI, uvicorn and Alembic in a ``web`` group,
    which ``poetry install`` installs unasked ("No module named 'alembic'" with only its
    main dependencies); its ``test`` group of pytest and ruff, and an optional group,
    stay out."""
    pyproject = b"""[tool.poetry.dependencies]
python = "^3.12"
sqlalchemy = "^2.0.23"

[tool.poetry.group.web.dependencies]
fastapi = {extras = ["all"], version = "^0.104.1"}
alembic = "^1.13.1"

[tool.poetry.group.test.dependencies]
pytest = "^7.4.3"
ruff = "^0.1.7"

[tool.poetry.group.docs]
optional = true

[tool.poetry.group.docs.dependencies]
mkdocs = "^1.5"
"""
    main = b"from alembic.migration import MigrationContext\nimport fastapi\nimport mkdocs\n"
    test = b"import pytest\n"
    files = {"pyproject.toml": pyproject, "web/main.py": main, "web/tests/test_x.py": test}
    deps = python_dependencies(files, "web/main.py")
    assert deps.requirements == (
        "sqlalchemy>=2.0.23,<3",
        "fastapi[all]>=0.104.1,<0.105",
        "alembic>=1.13.1,<2",
    ), deps.requirements
    assert "its Poetry group 'web' too, whose packages its code imports" in deps.notes
    unused = {**files, "web/main.py": b"import sqlalchemy\n"}
    assert python_dependencies(unused, "web/main.py").requirements == ("sqlalchemy>=2.0.23,<3",)


def test_poetry_lock_holds_the_versions_unless_older_than_pyproject() -> None:
    """ultimate-fastapi-tutorial's part 10: uvicorn ~0.11 asks uvloop>=0.14, which gave
    uvloop 0.23 (its get_event_loop raises) where poetry.lock has 0.16."""
    files = {p: t.encode() for p, t in app_files("poetry_locked").items()}
    deps = python_dependencies(files, "app.py")
    assert deps.source == "pyproject.toml" and deps.requirements == ("flask>=3.0,<4",)
    # every package locked (pytest too: a constraint installs nothing)
    assert deps.constraints == ("flask==3.0.0", "pytest==7.4.3", "werkzeug==3.0.1")
    assert any("poetry.lock: the 3 versions" in n for n in deps.notes), deps.notes
    stale = files["pyproject.toml"].replace(b'flask = "^3.0"', b'flask = "^3.1"')
    deps = python_dependencies({**files, "pyproject.toml": stale}, "app.py")
    assert deps.constraints == ()
    assert any("flask locked at 3.0.0" in n and "not used" in n for n in deps.notes)
    assert poetry_lock_pins("[[package]\n", [])[0] == []  # unreadable: not used
    assert poetry_lock_pins("a = " + "[" * 5000, [])[0] == []  # nested past the parser
    lock = '[[package]]\nname = "lib"\nversion = "1.0"\n[package.source]\ntype = "git"\n'
    assert poetry_lock_pins(lock, [])[0] == []  # a direct reference: as pyproject names it


def test_a_requirements_folder_and_pypi_under_another_name() -> None:
    """No requirements.txt: the requirements/ file no other includes, local.txt before
    production.txt; -i https://pypi.python.org/simple is PyPI, left to the build's index."""
    files = {p: t.encode() for p, t in app_files("requirements_folder").items()}
    deps = python_dependencies(files, "app.py")
    assert (deps.source, deps.requirements) == (
        "requirements/local.txt",
        ("flask==3.0.0", "six==1.16.0"),
    )
    assert deps.notes == (
        "-i https://pypi.python.org/simple: PyPI, whose packages come from the build's own index",
    )
    del files["requirements/local.txt"]
    deps = python_dependencies(files, "app.py")
    assert deps.source == "requirements/production.txt"
    files["requirements/base.txt"] = b"--index-url=https://mirror.example/simple\nflask\n"
    assert python_dependencies(files, "app.py").requirements[0].startswith("--index-url=")


def test_a_requirements_folder_installed_side_by_side_has_its_base_too() -> None:
    """agustin-jimenez's drf-events-api: requirements/development.txt names only its tools,
    base.txt (which nothing includes) Django REST framework; its Dockerfile installs both.
    The chosen file gets the folder's base; one that includes it (even through another)
    does not get it twice."""
    files = {
        "manage.py": b"import django\n",
        "requirements/base.txt": b"django==5.0\ndjangorestframework\n",
        "requirements/development.txt": b"pytest\n",
        "requirements/production.txt": b"gunicorn\n",
    }
    deps = python_dependencies(files, "manage.py")
    assert deps.source == "requirements/development.txt"
    assert deps.requirements == ("django==5.0", "djangorestframework", "pytest")
    assert deps.notes[0].startswith("requirements/base.txt too")
    files["requirements/local.txt"] = b"-r development.txt\n"
    files["requirements/development.txt"] = b"-r common.txt\npytest\n"
    files["requirements/common.txt"] = b"-r base.txt\n"
    deps = python_dependencies(files, "manage.py")
    assert deps.source == "requirements/local.txt"
    assert deps.requirements == ("django==5.0", "djangorestframework", "pytest")
    assert not any("too" in n for n in deps.notes)


async def test_a_requirements_folder_app_runs_with_its_local_file(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("requirements_folder"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"flask": "3.0.0", "six": "1.16.0"}
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_root_file_without_a_framework_gives_way_to_the_apps_own() -> None:
    """The root's requirements.txt lists two extras, no framework; src/'s, on the app's
    way, lists FastAPI: that one is the app's (it was built without FastAPI, and
    alembic failed: KenMwaura1's Fast-Api-example). A root file naming one stays first."""
    files = {p: t.encode() for p, t in app_files("fastapi_src_requirements").items()}
    deps = python_dependencies(files, "src/app/main.py")
    assert deps.source == "src/requirements.txt" and "fastapi" in deps.names()
    files["requirements.txt"] += b"flask\n"
    assert python_dependencies(files, "src/app/main.py").source == "requirements.txt"
    del files["src/requirements.txt"]  # nothing nearer: the root's, whatever it lists
    files["requirements.txt"] = b"email-validator\n"
    assert python_dependencies(files, "src/app/main.py").source == "requirements.txt"


async def test_an_app_under_src_runs_with_its_own_requirements(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_src_requirements"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/ping")).json() == {"ping": "pong", "six": "1.16.0"}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_poetry_project_runs_with_its_locked_versions(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("poetry_locked"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer == {"flask": "3.0.0", "werkzeug": "3.0.1"}  # the lock's, not the newest
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_pipenv_project_runs_with_its_locked_versions(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("pipenv_locked"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer == {"flask": "3.0.0", "werkzeug": "3.0.1"}  # the lock's, not the newest
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_procfile_run_through_pipenv_runs_in_the_built_environment(
    builder_service: Service,
) -> None:
    """``release: pipenv run init`` (its Pipfile's script) and ``web: pipenv run
    gunicorn app:app``, pipenv not installed: both run in the environment the Pipfile
    built, the script as its command."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("pipenv_procfile_scripts"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer == {"data": "seeded by pipenv run init"}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_procfile_finds_the_built_environment_by_virtual_env(
    builder_service: Service,
) -> None:
    """$VIRTUAL_ENV is the built environment, as activating it sets: Wagtail's
    bakerydemo's uWSGI (virtualenv=$(VIRTUAL_ENV)) had no Python home without it."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("procfile_virtual_env"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"venv": True, "six": "1.16.0"}
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_requirements_file_beside_a_project_gets_the_projects_dependencies() -> None:
    """requirements.txt lists the servers, pyproject.toml's ``[project]`` the app's own
    dependencies (installed by ``pip install -e .`` after it): the build takes both, the
    names the file already has from the file. With ``-e .`` in it, they came from there."""
    files = {p: t.encode() for p, t in app_files("requirements_beside_project").items()}
    deps = python_dependencies(files, "shop/app.py")
    assert deps.source == "requirements.txt"
    assert deps.requirements == ("uvicorn>=0.29", "fastapi>=0.110", "six==1.16.0")
    assert any(
        "[project] dependencies it lacks: fastapi>=0.110, six==1.16.0" in n for n in deps.notes
    )
    files["requirements.txt"] = b"uvicorn>=0.29\nsix\n"  # named there: the file's line stays
    assert python_dependencies(files, "shop/app.py").requirements == (
        "uvicorn>=0.29",
        "six",
        "fastapi>=0.110",
    )
    files["requirements.txt"] = b"uvicorn>=0.29\n-e .\n"
    assert python_dependencies(files, "shop/app.py").requirements == (
        "uvicorn>=0.29",
        "fastapi>=0.110",
        "six==1.16.0",
    )


async def test_an_app_whose_requirements_name_only_its_server_runs_with_its_project(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("requirements_beside_project"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"six": "1.16.0"}
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_requirements_file_in_utf16_is_read_as_pip_reads_it() -> None:
    """nursultanm4's mini-bank: a Windows ``pip freeze > requirements.txt`` (UTF-16 with its
    byte-order mark) reached uv undecoded, "Unexpected '\ufffd'" on every Python tried."""
    text = "fastapi==0.110.0\r\nsqlmodel==0.0.16\r\n"
    for encoded in (
        text.encode("utf-16"),
        text.encode("utf-16-be").join([b"\xfe\xff", b""]),
        b"\xef\xbb\xbf" + text.encode(),
        # Unmarked (Jxck007's flask-resume-builder): uv could not parse its first line.
        text.encode("utf-16-le"),
        text.encode("utf-16-be"),
    ):
        deps = python_dependencies({"requirements.txt": encoded, "main.py": b""}, "main.py")
        assert deps.requirements == ("fastapi==0.110.0", "sqlmodel==0.0.16"), encoded[:4]


def test_a_requirements_file_named_as_pip_is_often_given_it_is_read() -> None:
    # flask-weather's `requirement.txt` (singular): its pins were not read, its imports were.
    for name in ("requirement.txt", "Requirements.txt"):
        deps = python_dependencies({name: b"flask==2.3.3\n", "app.py": b"import flask\n"})
        assert (deps.requirements, deps.source) == (("flask==2.3.3",), name), name
    both = {"requirements.txt": b"flask\n", "requirement.txt": b"django\n"}
    assert python_dependencies(both).source == "requirements.txt"


def test_an_empty_requirements_file_leaves_the_imports_to_say() -> None:
    # mzb527's FlaskWorkout: a requirements.txt of 0 bytes; only gunicorn was installed.
    app = {"app/__init__.py": b"from flask import Flask\nfrom flask_migrate import Migrate\n"}
    for empty in (b"", b"# nothing yet\n\n"):
        deps = python_dependencies({"requirements.txt": empty, **app})
        assert deps.source == "" and {"flask", "flask-migrate"} <= deps.names(), deps
    project = b'[project]\nname = "a"\ndependencies = ["flask"]\n'
    beside = python_dependencies({"requirements.txt": b"", "pyproject.toml": project, **app})
    assert beside.source == "requirements.txt" and "flask" in beside.names()


def test_a_requirements_file_named_for_its_use_is_read_where_none_is_plain() -> None:
    # quantbj's direct-marketing-portal: backend/requirements-dev.txt alone (its Dockerfile
    # installs it); alembic and psycopg were missing, guessed from the imports.
    app = {"backend/app/main.py": b"import fastapi\n"}
    dev = {"backend/requirements-dev.txt": b"fastapi\nalembic\npsycopg[binary]\n", **app}
    deps = python_dependencies(dev, "backend/app/main.py")
    assert deps.source == "backend/requirements-dev.txt" and "alembic" in deps.names()
    both = {**dev, "backend/requirements_prod.txt": b"fastapi\n"}
    assert python_dependencies(both, "backend/app/main.py").source.endswith("requirements-dev.txt")
    named_first = {**app, "backend/dev-requirements.txt": b"flask\n"}
    found = python_dependencies(named_first, "backend/app/main.py")
    assert found.source == "backend/dev-requirements.txt"
    # The tests' alone says less than the imports.
    tests = {**app, "backend/requirements-test.txt": b"pytest\n"}
    assert python_dependencies(tests, "backend/app/main.py").source == ""


def test_the_requirements_of_the_apps_image_build_context_are_its_own() -> None:
    """No dependency file on the app's way (app/): the compose service that serves it is
    built from docker/api/, whose requirements.txt lists FastAPI; the worker's, listed
    first, names no framework (steqa's fastapi-jwt-auth: guessed from the imports,
    alembic was missing, its migrations' folder being named alembic)."""
    files = {p: t.encode() for p, t in app_files("fastapi_build_context_requirements").items()}
    deps = python_dependencies(files, "app/main.py")
    assert deps.source == "docker/api/requirements.txt", deps
    assert "six==1.16.0" in deps.requirements
    # Without the compose file, the Dockerfile's own folder is the context it reads.
    del files["docker-compose.yml"]
    assert python_dependencies(files, "app/main.py").source == "docker/api/requirements.txt"
    # A dependency file on the app's way stays first.
    files["app/requirements.txt"] = b"fastapi\n"
    assert python_dependencies(files, "app/main.py").source == "app/requirements.txt"


async def test_an_app_built_from_another_folder_runs_with_that_folders_requirements(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_build_context_requirements"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"six": "1.16.0"}


def test_the_patches_its_install_script_applies_are_part_of_its_dependency_set(
    tmp_path: Path,
) -> None:
    """DmitriyMolochkov's koa-boilerplate: ``"postinstall": "patch-package"`` patches
    bullmq from patches/; the environment was built without that folder, the patch never
    applied, and its workers' file URLs were refused ('File file://… does not exist')."""
    files = {p: t.encode() for p, t in app_files("node_patch_package").items()}
    deps = node_dependencies(files)
    assert deps is not None
    assert [path for path, _ in deps.patches] == ["patches/is-number+7.0.0.patch"]
    unpatched = node_dependencies({**files, "patches/is-number+7.0.0.patch": b""})
    assert unpatched is not None and unpatched.key() != deps.key()  # its own environment
    write_node_project(tmp_path, deps)
    written = tmp_path / "patches" / "is-number+7.0.0.patch"
    assert written.read_bytes() == files["patches/is-number+7.0.0.patch"]
    # Its own folder (--patch-dir), and none where no install script runs patch-package.
    package = json.loads(files["package.json"])
    moved = {
        "package.json": json.dumps(
            {**package, "scripts": {"prepare": "patch-package --patch-dir ./fixes"}}
        ).encode(),
        "fixes/a+1.0.0.patch": b"x",
        "patches/b+1.0.0.patch": b"y",
    }
    found = node_dependencies(moved)
    assert found is not None and [p for p, _ in found.patches] == ["fixes/a+1.0.0.patch"]
    plain = {**files, "package.json": json.dumps({**package, "scripts": {}}).encode()}
    found = node_dependencies(plain)
    assert found is not None and found.patches == ()


@pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)
async def test_a_dependency_patched_by_patch_package_runs_patched(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_patch_package"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"patched": True}
        assert (await service.stop(body["gid"])).status_code == 200


@pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)
async def test_a_prepare_script_reading_the_apps_files_fails_no_install(
    builder_service: Service,
) -> None:
    """nodefactoryio's node-ts-starter-fastify: ``"prepare": "env-prompt -d .env.sample &&
    task build"``, run where its packages are installed (its package.json and lockfile
    alone): "Could not locate .env.sample" failed the launch. Said, and left out."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_prepare_reads_sources"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"installed": True}
        said = messages(await service.history(body["gid"]), "system")
        assert any("its prepare script failed where its packages are installed" in m for m in said)
        assert (await service.stop(body["gid"])).status_code == 200


def _bytes(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


_RENAMED_LOCK = """version = 1
requires-python = ">=3.12"

[[package]]
name = "fastapi"
version = "0.115.12"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "june-project"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "fastapi" },
]
"""


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
    # A union of other types than None (semenaa's homework-flask: a method's ``dict |
    # list | str``, on a 3.9 its pinned SQLAlchemy 1.4.0's wheels chose).
    method = b"class E(Exception):\n    def __init__(self, message: dict | list | str):\n"
    method += b"        pass\n"
    assert code_python_floor({"app.py": method}) == (
        "3.10",
        "app.py: an X | Y annotation evaluated as it runs (Python 3.10)",
    )
    assert code_python_floor({"app.py": b"flags = READ | WRITE\nx: int = 1\n"}) is None
    star = b"try:\n    pass\nexcept* ValueError:\n    pass\n"
    assert code_python_floor({"a.py": star, "tests/t.py": b"match x:\n    case 1: pass\n"}) == (
        "3.11",
        "a.py: except* (Python 3.11)",
    )
    # mouakos' fastapi-ecommerce: a generic class of Python 3.12 (PEP 695), none declared.
    generic = b"from abc import ABC\nclass Repository[T](ABC):\n    def get(self) -> T: ...\n"
    assert code_python_floor({"repo.py": generic}) == (
        "3.12",
        "repo.py: type parameters (Python 3.12)",
    )
    # deaxparadox's task-flask-user-api: a string quoted as the f-string around it (PEP 701).
    link = b'def link(server):\n    return f"http://{":".join(server)}/api"\n'
    assert code_python_floor({"utils.py": link}) == (
        "3.12",
        "utils.py: PEP 701 f-strings (3.12)",
    )
    assert code_python_floor({"utils.py": b"x = f\"{':'.join(server)}\"\n"}) is None
    # davidvillard's drfbackendcheck: a field carried over to the next line (PEP 701); in a
    # triple-quoted f-string any Python takes it.
    carried = b'print(f"answer: {response.status_code}, {\n      response.text}")\n'
    assert code_python_floor({"validators.py": carried}) == (
        "3.12",
        "validators.py: PEP 701 f-strings (3.12)",
    )
    tripled = b'print(f"""answer: {\n      response.text}""")\n'
    assert code_python_floor({"validators.py": tripled}) is None
    # rddewan's fastapi-user-management: typing's override (3.12), imported at the top;
    # under try: (its fallback beside it), or of the upload's own typing module, none.
    override = b"from typing import Optional, override\n"
    assert code_python_floor({"repo.py": override}) == (
        "3.12",
        "repo.py: typing.override (Python 3.12)",
    )
    guarded = b"try:\n    from typing import Self\nexcept ImportError:\n    Self = None\n"
    assert code_python_floor({"a.py": guarded}) is None
    assert code_python_floor({"a.py": override, "typing.py": b"override = 1\n"}) is None
    assert code_python_floor({"c.py": b"import tomllib\n"}) == (
        "3.11",
        "c.py: tomllib (Python 3.11)",
    )
    alias = b"type Id = int\n"
    assert code_python_floor({"ids.py": alias, "x.py": b"items = x[0]\n"}) is not None
    assert code_python_floor({"x.py": b"def f(:\n", "y.py": b"types = [int]\n"}) is None
    # What the app declares wins: its requires-python, its .python-version.
    files = {**_bytes("fastapi_union_syntax"), ".python-version": b"3.12\n"}
    assert python_dependencies(files, "main.py").python_request == "3.12"


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


def test_a_requirement_in_a_shells_quotes_is_read_without_them() -> None:
    """genagurbanguliyev's FastAPI-CRUD-auth lists ``"passlib[bcrypt]"`` and
    ``"python-jose[cryptography]"`` as ``pip install`` was given them in a shell, quotes
    and all: uv refused the file ("Unexpected '\\"', expected '-c', '-e', '-r' or the start
    of a requirement at requirements.txt:4:1") and nothing was installed."""
    files = {
        "requirements.txt": b"""fastapi\n\n"passlib[bcrypt]"\n'python-jose[cryptography]'\n"""
        b"""uvicorn  # "quoted" in a comment\n""",
        "main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
    }
    assert python_dependencies(files, "main.py").requirements == (
        "fastapi",
        "passlib[bcrypt]",
        "python-jose[cryptography]",
        "uvicorn",
    )


def test_a_uv_lock_of_the_project_before_its_rename_is_not_synced() -> None:
    """cybergenii's fastapi-sqlalchemy-starter: pyproject.toml names the project
    ``fastapi-sqlalchemy-starter``, its uv.lock still ``june-project``, which ``uv sync
    --frozen`` refuses ("Missing workspace member"): nothing was installed. The project's
    dependencies are installed from pyproject.toml instead, held to the lock's versions."""
    pyproject = (
        b'[project]\nname = "fastapi-sqlalchemy-starter"\nversion = "0.1.0"\n'
        b'dependencies = ["fastapi>=0.115", "uvicorn>=0.30"]\n'
    )
    files = {
        "pyproject.toml": pyproject,
        "uv.lock": _RENAMED_LOCK.encode(),
        "main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
    }
    deps = python_dependencies(files, "main.py")
    assert deps.lock is None and deps.requirements == ("fastapi>=0.115", "uvicorn>=0.30")
    assert deps.constraints == ("fastapi==0.115.12",)
    assert any("uv.lock is older than pyproject.toml" in note for note in deps.notes)
    # The lock of the project itself is synced, as before.
    same = _RENAMED_LOCK.replace('"june-project"', '"fastapi-sqlalchemy-starter"').replace(
        '{ name = "fastapi" },', '{ name = "fastapi" },\n    { name = "uvicorn" },'
    )
    assert python_dependencies({**files, "uv.lock": same.encode()}, "main.py").lock is not None


def test_a_uv_lock_beside_a_pyproject_uv_cannot_read_gives_way_to_the_requirements() -> None:
    """iklobato's django-stocks: a uv.lock beside a pyproject.toml with no ``[project]``
    table, its packages under ``[tool.uv.dependencies]`` and ``[tool.uv.dev-dependencies]``
    (tables, where uv takes a list): "Failed to parse: `pyproject.toml`" on each of eight
    Pythons, its requirements.txt never read. The requirements are installed instead."""
    pyproject = (
        b'[tool.uv]\n\n[tool.uv.dependencies]\ndjango = "==3.1.7"\n\n'
        b'[tool.uv.dev-dependencies]\npytest = ">=7.0.0"\n'
    )
    files = {
        "pyproject.toml": pyproject,
        "uv.lock": _RENAMED_LOCK.encode(),
        "requirements.txt": b"Django==3.1.7\ndjangorestframework==3.12.4\n",
        "manage.py": b"import django\n",
    }
    deps = python_dependencies(files, "manage.py")
    assert deps.lock is None and deps.requirements == (
        "Django==3.1.7",
        "djangorestframework==3.12.4",
    )
    assert deps.notes == ("uv.lock is not synced: its pyproject.toml has no [project] table",)
    project = b'[project]\nname = "june-project"\nversion = "0.1.0"\ndependencies = ["fastapi"]\n'
    listed = {**files, "pyproject.toml": project + b"[tool.uv.dev-dependencies]\npytest = '>=7'\n"}
    deps = python_dependencies(listed, "manage.py")
    assert deps.lock is None and "dev-dependencies are not a list" in deps.notes[0], deps.notes
    listed["pyproject.toml"] = project + b"[tool.uv]\ndev-dependencies = ['pytest>=7']\n"
    del listed["requirements.txt"]  # (which its lock would lack)
    assert python_dependencies(listed, "manage.py").lock is not None


def test_a_requirements_variant_for_another_use_gives_way_to_the_apps_pipfile() -> None:
    """dmytrobezruk's fastapitest: requirements-lambda.txt lists its Lambdas' packages
    (pydantic, num2words); its FastAPI app's fastapi and boto3 are in its Pipfile, which
    its Dockerfile installs. Built from the variant: "No module named 'boto3'". A variant
    lacking what the code imports and a Pipfile or pyproject.toml beside it lists gives
    way to that file; one that lists it all is still the list."""
    files = {
        "Pipfile": b'[packages]\nfastapi = "*"\nboto3 = "*"\npydantic = "*"\n',
        "requirements-lambda.txt": b"# Lambdas\npydantic==1.10.15\n",
        "main.py": b"import boto3\nfrom fastapi import FastAPI\napp = FastAPI()\n",
        "lambdas/add.py": b"import pydantic\n",
    }
    deps = python_dependencies(files, "main.py")
    assert deps.source == "Pipfile" and deps.requirements == ("fastapi", "boto3", "pydantic")
    assert deps.notes[0].startswith("requirements-lambda.txt lacks boto3, fastapi"), deps.notes
    whole = {**files, "requirements-lambda.txt": b"fastapi\nboto3\npydantic==1.10.15\n"}
    assert python_dependencies(whole, "main.py").source == "requirements-lambda.txt"


def test_what_the_dockerfile_installs_by_name_beside_the_requirements_is_installed() -> None:
    """jaruda-88's docker-python-flask-restful-mysql's shape: its Dockerfile runs ``pip
    install`` of packages its requirements.txt does not list (``flask_cors``, ``PyJWT``),
    which its app imports. Its image has them, so its preview does: not the installers
    it upgrades, the uWSGI it serves with (the preview's server does, and it builds from
    C), the requirements file (``-r``), the project itself (``-e .``), nor a line
    commented out."""
    files = {p: t.encode() for p, t in app_files("flask_dockerfile_pip_installs").items()}
    deps = python_dependencies(files, "app.py")
    assert deps.requirements == ("Flask>=2.2", "flask_cors", "PyJWT>=2"), deps.requirements
    assert deps.notes == ("Dockerfile also installs flask_cors, PyJWT>=2 (RUN pip install)",)
    listed = {**files, "requirements.txt": b"Flask>=2.2\nFlask-Cors\npyjwt==2.8.0\n"}
    assert python_dependencies(listed, "app.py").requirements == (
        "Flask>=2.2",
        "Flask-Cors",
        "pyjwt==2.8.0",
    )


def test_the_requirements_file_the_dockerfile_installs_is_read_whatever_its_name() -> None:
    """tunuk1109's StoreFastApi keeps its requirements in ``req.txt`` (UTF-16, as
    PowerShell writes it), which its Dockerfile installs (``RUN pip install -r req.txt &&
    pip install --upgrade pip``): nothing of it was read, and five relaunches each added
    one module its code imports. A requirements.txt still comes first."""
    dockerfile = b"FROM python:3.12\nWORKDIR /srv\nCOPY req.txt /srv/\n"
    dockerfile += b"RUN pip install -r req.txt && pip install --upgrade pip\n"
    files = {
        "Dockerfile": dockerfile,
        "req.txt": "fastapi==0.115.0\r\nhttpx==0.28.1\r\n".encode("utf-16"),
        "main.py": b"import httpx\nfrom fastapi import FastAPI\napp = FastAPI()\n",
    }
    deps = python_dependencies(files, "main.py")
    assert deps.source == "req.txt" and deps.requirements == ("fastapi==0.115.0", "httpx==0.28.1")
    listed = {**files, "requirements.txt": b"fastapi\n"}
    assert python_dependencies(listed, "main.py").source == "requirements.txt"
    # Installed by a path from the image's folder (``-r ./deps/req.txt``), or by the
    # ``--requirement=`` spelling.
    moved = {path: data for path, data in files.items() if path != "req.txt"}
    moved["deps/req.txt"] = files["req.txt"]
    moved["Dockerfile"] = dockerfile.replace(b"-r req.txt", b"--requirement=./deps/req.txt")
    assert python_dependencies(moved, "main.py").source == "deps/req.txt"


def test_pydantic_is_held_below_2_where_the_code_configures_pydantic_1s_models() -> None:
    files = {p: t.encode() for p, t in app_files("fastapi_pydantic_one_config").items()}
    deps = python_dependencies(files, "main.py")
    assert deps.constraints == ("pydantic<2",)
    assert any("main.py: orm_mode" in note for note in deps.notes)
    for own in (b"pydantic==1.10.7", b"pydantic>=2", b"pydantic<3", b"pydantic-settings"):
        listed = {**files, "requirements.txt": b"fastapi\nuvicorn\n" + own + b"\n"}
        assert python_dependencies(listed, "main.py").constraints == ()
    floor = {**files, "requirements.txt": b"fastapi\npydantic>=1.8\n"}
    assert python_dependencies(floor, "main.py").constraints == ("pydantic<2",)
    config = files["main.py"].replace(b"orm_mode = True", b"from_attributes = True")
    config = config.replace(b"allow_population_by_field_name", b"populate_by_name")
    assert python_dependencies({**files, "main.py": config}, "main.py").constraints == ()


def test_a_framework_is_held_below_the_release_that_removed_a_name_its_code_uses() -> None:
    """nahlaerrakik's tweets-flask-final: ``flask`` unpinned, ``if app.config['ENV'] ==
    'production':`` before it loads its settings; Flask 2.3 dropped the key: "KeyError:
    'ENV'" at import. Flask is held below 2.3; the lowest release wins where two names say
    otherwise; Werkzeug, which it does not list, likewise; not where its own line bounds
    it or asks for a release without the name, where it sets the key itself, nor for its
    tests' code or a comment."""
    app = (
        b"from flask import Flask, escape\napp = Flask(__name__)\n"
        b"if app.config['ENV'] == 'production':\n    pass\n"
        b"# engine.execute('select 1')\n"
    )
    helpers = b"from werkzeug.security import safe_str_cmp\n"
    files = {"requirements.txt": b"flask\nsqlalchemy\n", "run.py": app, "auth.py": helpers}
    files["tests/test_db.py"] = b"engine.execute('select 1')\n"
    deps = python_dependencies(files, "run.py")
    assert deps.constraints == ("flask<2.3", "werkzeug<2.1"), deps.constraints
    assert any("app.config['ENV'] (run.py), which 2.3 removed" in n for n in deps.notes)
    for own in (b"flask==3.0.0", b"flask>=2.3", b"flask<3"):
        listed = {**files, "requirements.txt": own + b"\nsqlalchemy\n"}
        assert python_dependencies(listed, "run.py").constraints == ("werkzeug<2.1",)
    floor = {**files, "requirements.txt": b"flask>=2.0\nsqlalchemy\n"}
    assert python_dependencies(floor, "run.py").constraints[0] == "flask<2.3"
    setting = app.replace(b"if app.config['ENV'] ==", b"app.config['ENV'] = 'x'\nif 1 ==")
    setting = setting.replace(b", escape", b"")
    alone = {"requirements.txt": b"flask\n", "run.py": setting}
    assert python_dependencies(alone, "run.py").constraints == ()
    executes = {**alone, "db.py": b"with app.app_context():\n    db.engine.execute('x')\n"}
    assert python_dependencies(executes, "run.py").constraints == ("sqlalchemy<2.0",)
    # viktordoms's github-flask-app: ``db = SQLAlchemy(app)``, then ``db.init_app(app)``,
    # which Flask-SQLAlchemy 3.0 refuses ("already been registered on this Flask app").
    twice = b"db = SQLAlchemy(app)\n\ndb.init_app(app)\n"
    registered = {"requirements.txt": b"flask\nflask_sqlalchemy\n", "run.py": setting + twice}
    assert python_dependencies(registered, "run.py").constraints == ("flask-sqlalchemy<3.0",)
    once = {**registered, "run.py": setting + b"db = SQLAlchemy()\ndb.init_app(app)\n"}
    assert python_dependencies(once, "run.py").constraints == ()


def test_gunicorn_is_held_below_the_release_that_dropped_the_worker_its_start_names() -> None:
    """25ejsb's school-flask: ``web: gunicorn --worker-class eventlet -w 1 app:app``,
    gunicorn unpinned; 26.0.0 removed the eventlet worker ("Entry point ('gunicorn.workers',
    'eventlet') not found")."""
    app = b"from flask import Flask\napp = Flask(__name__)\n"
    listed = b"Flask\ngunicorn\neventlet\nFlask-SocketIO\n"
    files = {"requirements.txt": listed, "app.py": app}
    started = {**files, "Procfile": b"web: gunicorn --worker-class eventlet -w 1 app:app"}
    deps = python_dependencies(started, "app.py")
    assert deps.constraints == ("gunicorn<26",)
    assert any("eventlet worker" in note for note in deps.notes)
    cmd = b'FROM python:3.12\nCMD ["gunicorn", "-k", "eventlet", "app:app"]\n'
    docker = {**files, "Dockerfile": cmd}
    assert python_dependencies(docker, "app.py").constraints == ("gunicorn<26",)
    conf = {**files, "gunicorn.conf.py": b"worker_class = 'eventlet'\nworkers = 1\n"}
    assert python_dependencies(conf, "app.py").constraints == ("gunicorn<26",)
    # A worker gunicorn still has, no worker named, or the app's own bound: nothing held.
    gevent = {**files, "Procfile": b"web: gunicorn -k gevent app:app"}
    assert python_dependencies(gevent, "app.py").constraints == ()
    assert python_dependencies(files, "app.py").constraints == ()
    for own in (b"gunicorn==25.0.0", b"gunicorn<24", b"gunicorn>=26"):
        mine = {**started, "requirements.txt": listed.replace(b"gunicorn", own)}
        assert python_dependencies(mine, "app.py").constraints == (), own


def test_sqlalchemy_is_held_below_2_1_where_psycopg2_is_its_only_postgresql_driver() -> None:
    """joansebhm's jwt-fastapi-auth lists ``sqlmodel>=0.0.38`` and ``psycopg2``: SQLAlchemy
    2.1 reads its plain ``postgresql://`` as psycopg 3's ("No module named 'psycopg'")."""
    main = b"from sqlmodel import create_engine\nengine = create_engine('postgresql://x')\n"
    listed = b"fastapi\nsqlmodel>=0.0.38\npsycopg2>=2.9.12\n"
    files = {"requirements.txt": listed, "main.py": main}
    deps = python_dependencies(files, "main.py")
    assert deps.constraints == ("sqlalchemy<2.1",)
    assert any("psycopg2" in note for note in deps.notes)
    for own in (b"psycopg[binary]", b"sqlalchemy==2.0.41", b"sqlalchemy>=2.1", b"SQLAlchemy<3"):
        mine = {**files, "requirements.txt": listed + own + b"\n"}
        assert python_dependencies(mine, "main.py").constraints == (), own
    assert (
        python_dependencies(
            {**files, "requirements.txt": b"fastapi\npsycopg2\n"}, "main.py"
        ).constraints
        == ()
    )


def test_fastapi_is_held_below_0_145_where_the_code_gives_fastapi_an_extra_keyword() -> None:
    """``FastAPI(title=…, VERSION=…)``, kept in ``app.extra`` before FastAPI 0.145 and
    refused from it on (souravmondaldev's fastAPI-JobBoard, fastapi unpinned)."""
    main = (
        b"from fastapi import FastAPI\n\n"
        b"def start():\n"
        b"    return FastAPI(title='Jobs', VERSION='0.1.0')\n\n"
        b"app = start()\n"
    )
    files = {"main.py": main, "requirements.txt": b"fastapi\nuvicorn\n"}
    deps = python_dependencies(files, "main.py")
    assert deps.constraints == ("fastapi<0.145",)
    assert any("main.py: VERSION" in note for note in deps.notes)
    dotted = main.replace(b"from fastapi import FastAPI", b"import fastapi as fa")
    dotted = dotted.replace(b"FastAPI(", b"fa.FastAPI(")
    assert python_dependencies({**files, "main.py": dotted}, "main.py").constraints == (
        "fastapi<0.145",
    )
    floor = {**files, "requirements.txt": b"fastapi>=0.100\n"}
    assert python_dependencies(floor, "main.py").constraints == ("fastapi<0.145",)
    for own in (b"fastapi==0.110.0", b"fastapi<0.120", b"fastapi>=0.150"):
        listed = {**files, "requirements.txt": own + b"\nuvicorn\n"}
        assert python_dependencies(listed, "main.py").constraints == ()
    own_keywords = main.replace(b"VERSION", b"version")
    assert python_dependencies({**files, "main.py": own_keywords}, "main.py").constraints == ()
    other = main.replace(b"from fastapi import FastAPI", b"from myapi import FastAPI")
    assert python_dependencies({**files, "main.py": other}, "main.py").constraints == ()


async def test_an_app_of_pydantic_1s_time_runs_on_pydantic_1(builder_service: Service) -> None:
    """piyota0901's fastapi-todo-app, nothing pinned: the newest pydantic ignored its
    ``allow_population_by_field_name`` and its route answered 500; held below 2, it runs."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_pydantic_one_config"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/todos")).json()
        assert answer == [{"title": "write", "createdBy": "me"}]
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_python_2_relic_pipreqs_names_is_its_modules_python_3_distribution(
    builder_service: Service,
) -> None:
    """prashant1879's flask-crud-with-mysql-and-jwt lists mysql_connector_repackaged==0.3.1
    (pipreqs' name for ``mysql``): its mysql.connector imports ``_version`` as Python 2
    did, and the app never started. mysql-connector-python is installed instead, and an
    upload listing nothing gets it for ``import mysql.connector`` too."""
    files = app_files("flask_pipreqs_mysql_relic")
    deps = python_dependencies({p: t.encode() for p, t in files.items()}, "app.py")
    assert deps.requirements == ("Flask==3.1.0", "mysql-connector-python")
    assert any("is Python 2's" in note for note in deps.notes)
    bare = {"app.py": files["app.py"].encode()}
    assert "mysql-connector-python" in python_dependencies(bare, "app.py").requirements
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/driver")).json()
        assert answer == {"connector": "mysql.connector", "connect": True}
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_whole_machines_freeze_leaves_out_its_operating_systems_own_packages() -> None:
    """haoolii's flask-blog-api lists a whole Ubuntu machine's ``pip freeze``: apt's
    ``apturl``, ``python-apt``, ``distro-info===0.18ubuntu0.18.04.1`` (which uv cannot
    even parse) beside Flask's pins: those of the operating system are left out, said;
    the app's stay. One such name alone is no machine's freeze."""
    freeze = (
        b"Flask==1.1.1\napturl==0.5.2\ndistro-info===0.18ubuntu0.18.04.1\n"
        b"python-apt==1.6.4\nxkit==0.0.0\nSQLAlchemy==1.3.8\n"
    )
    files = {"requirements.txt": freeze, "app.py": b"from flask import Flask\n"}
    deps = python_dependencies(files, "app.py")
    # What the app imports is its requirement; the machine's other pins hold only what
    # that brings (Flask's Werkzeug …), installing nothing by themselves.
    assert deps.requirements == ("Flask==1.1.1",)
    assert deps.constraints == ("SQLAlchemy==1.3.8",)
    assert any("whole machine's pip freeze" in note and "python-apt" in note for note in deps.notes)
    one = {**files, "requirements.txt": b"Flask==1.1.1\npygobject==3.26.1\n"}
    assert python_dependencies(one, "app.py").requirements == ("Flask==1.1.1", "pygobject==3.26.1")


def test_a_package_its_authors_machine_built_comes_from_the_index() -> None:
    """``pip freeze`` in a conda environment (Ahmedsalah-28's todo-api-fastapi: 32 lines
    such as ``tornado @ file:///D:/bld/tornado_1748003317080/work``; uv: "Distribution
    not found at"): a folder the upload does not carry, the package read by its name. A
    folder of the upload (``./libs/x``) is its own package, read as before."""
    freeze = (
        b"fastapi==0.129.0\n"
        b"colorama @ file:///home/conda/feedstock_root/build_artifacts/colorama_1/work\n"
        b"tornado @ file:///D:/bld/tornado_1748003317080/work\n"
        b"Jinja2[i18n] @ file:///tmp/build/80754af9/jinja2_1/work\n"
    )
    files = {"requirements.txt": freeze, "main.py": b"from fastapi import FastAPI\n"}
    deps = python_dependencies(files, "main.py")
    assert deps.requirements == ("fastapi==0.129.0", "colorama", "tornado", "Jinja2[i18n]")
    url = b"flask @ https://example.org/flask-3.0.0-py3-none-any.whl\n"
    kept = python_dependencies({**files, "requirements.txt": url}, "main.py")
    assert kept.requirements == ("flask @ https://example.org/flask-3.0.0-py3-none-any.whl",)


def test_a_notebook_machines_freeze_installs_what_the_app_imports() -> None:
    """magistraapta's fastapi-store lists its author's data-science machine's freeze (166
    pins: ipykernel, jupyter_client, jupyter_core, tensorflow, Django …) for a FastAPI app:
    what it imports (and serves with) is installed, the rest holds versions only. One
    kernel package alone is no machine's freeze."""
    freeze = (
        b"Django==5.1.1\nfastapi==0.112.0\nipykernel==6.29.5\njupyter_client==8.6.2\n"
        b"jupyter_core==5.7.2\ntensorflow==2.17.0\nuvicorn==0.30.6\n"
    )
    files = {"requirements.txt": freeze, "main.py": b"from fastapi import FastAPI\n"}
    deps = python_dependencies(files, "main.py")
    # (a framework's pin is kept as a server's is: the machine's Django too)
    assert deps.requirements == ("Django==5.1.1", "fastapi==0.112.0", "uvicorn==0.30.6")
    assert "tensorflow==2.17.0" in deps.constraints and "ipykernel==6.29.5" in deps.constraints
    assert any("notebook kernel's packages: ipykernel" in note for note in deps.notes)
    one = {**files, "requirements.txt": b"fastapi==0.112.0\nipykernel==6.29.5\nrich==13\n"}
    assert python_dependencies(one, "main.py").requirements == (
        "fastapi==0.112.0",
        "ipykernel==6.29.5",
        "rich==13",
    )


def test_a_conda_base_environments_freeze_leaves_out_anacondas_own() -> None:
    """ikshu7's Django-Notes-API lists a conda base environment's freeze: conda,
    anaconda-navigator, mkl-fft and ``pyodbc===4.0.0-unsupported`` (a version no index
    publishes, which uv cannot parse) beside Django's pin: those are left out, the app's
    stay, the rest hold versions only. A ``===`` pin of a PEP 440 version is no sign."""
    freeze = (
        b"anaconda-navigator==1.9.12\nconda==4.8.4\nDjango==3.2.25\nmkl-fft==1.0.15\n"
        b"numpy==1.18.1\npyodbc===4.0.0-unsupported\nsqlparse==0.4.4\n"
    )
    files = {"requirements.txt": freeze, "manage.py": b"import django\n"}
    deps = python_dependencies(files, "manage.py")
    assert deps.requirements == ("Django==3.2.25",)
    assert deps.constraints == ("numpy==1.18.1", "sqlparse==0.4.4")
    assert any("pyodbc" in note and "conda" in note for note in deps.notes)
    one = {**files, "requirements.txt": b"Django==3.2.25\nattrs===19.3.0\nx==1.*\n"}
    assert python_dependencies(one, "manage.py").requirements == (
        "Django==3.2.25",
        "attrs===19.3.0",
        "x==1.*",
    )


def test_a_requirement_lacking_the_comma_between_its_clauses_gets_it() -> None:
    """vitorcarareto's FastAPI-Movies-API lists ``bcrypt>=3.2.0<3.3.0``, which uv refuses
    ("after parsing `3.2.0`, found `<3.3.0`"): the comma is put back; a line that parses
    stays as it is, and one that no comma mends is left for the install to say why."""
    listed = (
        b"bcrypt>=3.2.0<3.3.0\nrequests[socks] >=2.25.1 <2.26.0 ; python_version >= '3'\n"
        b"fastapi>=0.63.0,<0.64.0\nbroken>=1.0<<2\n"
    )
    files = {"requirements.txt": listed, "main.py": b"import fastapi\n"}
    assert python_dependencies(files, "main.py").requirements == (
        "bcrypt>=3.2.0,<3.3.0",
        "requests[socks] >=2.25.1,<2.26.0 ; python_version >= '3'",
        "fastapi>=0.63.0,<0.64.0",
        "broken>=1.0<<2",
    )


def test_a_package_and_its_version_in_words_is_read_as_a_requirement() -> None:
    """sarra31's Flask-medical-app lists "Flask Version: 3.0.3" and "Python Version:
    3.11.1", which uv refuses at the first line: each package is read as its pin, Python's
    own line is no package; bhagavathms' Metro-Flask-Backend's note "api link :
    http://…" names none either (a word no package's name); a line of words that could
    each be a package's is left for the install to say why."""
    listed = (
        b"Python Version: 3.11.1 \nFlask Version: 3.0.3\nnumpy: 2.0.2\nWerkzeug 3.0.1\n"
        b"requests==2.31.0\nsee the README for more\n"
        b"api link : http://127.0.0.1:5000/route?from=Subhash%20Nagar&to=IFFCO%20Chowk\n"
    )
    files = {"requirements.txt": listed, "app.py": b"import flask\n"}
    assert python_dependencies(files, "app.py").requirements == (
        "Flask==3.0.3",
        "numpy==2.0.2",
        "Werkzeug==3.0.1",
        "requests==2.31.0",
        "see the README for more",
    )


def test_a_version_after_one_equals_sign_or_naming_none_is_read_as_meant() -> None:
    """RdotF's FastAPI-Login-App lists ``fastapi=0.116.1`` (uv: 'no such comparison
    operator "="'); ohayak's fastapi-login ``authlib<2.0.0==None``, a generator's line for a
    version it did not know (uv: "found `==None`"). Each is read as its author meant; a
    line that parses as it is stays so."""
    listed = b"streamlit=1.48.0\nfastapi = 0.116.1\nauthlib<2.0.0==None\nredis<5.0.0\n"
    files = {"requirements.txt": listed, "app.py": b"import fastapi\n"}
    assert python_dependencies(files, "app.py").requirements == (
        "streamlit==1.48.0",
        "fastapi==0.116.1",
        "authlib<2.0.0",
        "redis<5.0.0",
    )


def test_letters_left_after_a_pinned_version_are_left_out() -> None:
    """omarmuhammmed's book-store-fastapi pins ``rich-toolkit==0.14.7F`` (uv: "after parsing
    `0.14.7`, found `F`"): read as its version; a pre-release's letters are a version's."""
    listed = b"rich-toolkit==0.14.7F\nfastapi==0.115.0\nhttpx==1.0b1\nclick>=8.1.7x\n"
    files = {"requirements.txt": listed, "app.py": b"import fastapi\n"}
    assert python_dependencies(files, "app.py").requirements == (
        "rich-toolkit==0.14.7",
        "fastapi==0.115.0",
        "httpx==1.0b1",
        "click>=8.1.7",
    )


def test_a_dot_left_after_a_pinned_version_is_left_out() -> None:
    """ndina's Reddit-Flask pins ``requests==2.22.`` (uv: "after parsing `2.22`, found
    `.`"): read as ``requests==2.22``; a wildcard's ``.*`` is a version's."""
    listed = b"Flask==1.0.3\nrequests==2.22.\nurllib3>=1.25..\nidna==2.*\n"
    files = {"requirements.txt": listed, "app.py": b"import flask\n"}
    assert python_dependencies(files, "app.py").requirements == (
        "Flask==1.0.3",
        "requests==2.22",
        "urllib3>=1.25",
        "idna==2.*",
    )


def test_an_empty_marker_and_pipdeptrees_branches_are_read_as_meant() -> None:
    """minos32x's recipe-drf ends a line with an empty marker, ``Pillow>=8.3.1,<8.4.0;``
    (uv: "Expected marker value"); saheedade's postgres-flask-crawler commits pipdeptree's
    tree, each top line's dependencies indented under it (uv: "Unexpected '-'")."""
    files = {"requirements.txt": b"Django>=3.1.6,<3.2.0\nPillow>=8.3.1,<8.4.0;\n", "manage.py": b""}
    assert python_dependencies(files, "manage.py").requirements == (
        "Django>=3.1.6,<3.2.0",
        "Pillow>=8.3.1,<8.4.0",
    )
    tree = (
        b"Flask==2.0.1\n  - click [required: >=7.1.2, installed: 8.0.1]\n"
        b"    - MarkupSafe [required: >=2.0, installed: 2.0.1]\n"
        b"gunicorn==20.1.0\n  - setuptools [required: >=3.0, installed: 57.0.0]\n"
    )
    files = {"requirements.txt": tree, "app.py": b"import flask\n"}
    assert python_dependencies(files, "app.py").requirements == ("Flask==2.0.1", "gunicorn==20.1.0")


def test_pip_lists_table_is_read_as_its_packages() -> None:
    """ompakash's DRF-Image-Filter-API commits ``pip list``'s output (UTF-16, from
    PowerShell) as its requirements.txt, which uv refuses at its header ("found `V`"):
    the header and its rule of dashes are no requirements, each row is its pin."""
    table = (
        "Package                       Version\r\n"
        "----------------------------- --------\r\n"
        "Django                        4.1\r\n"
        "djangorestframework-simplejwt 5.2.0\r\n"
        "pytz                          2022.2.1\r\n"
    )
    files = {"requirements.txt": b"\xff\xfe" + table.encode("utf-16-le"), "manage.py": b""}
    assert python_dependencies(files, "manage.py").requirements == (
        "Django==4.1",
        "djangorestframework-simplejwt==5.2.0",
        "pytz==2022.2.1",
    )


def test_a_python_version_file_naming_no_version_says_none() -> None:
    """ThisIsAntonio's fastapi-order-system: its .python-version says ``order_system_env``
    (a pyenv virtualenv's name), which was asked for as a Python ("no Python interpreter
    here fits"). A line naming no version is passed over (pyproject's requires-python
    then speaks); pyenv's ``3.10.4/envs/app`` and a second line's version still count."""
    files = {"main.py": b"import fastapi\n", "requirements.txt": b"fastapi\n"}
    for pin, asked in (
        (b"order_system_env\n", None),
        (b"system\n", None),
        (b"3.10.4/envs/app\n", "3.10.4/envs/app"),
        (b"my-env\n3.11\n", "3.11"),
        (b"pypy3.10-7.3.12\n", "pypy3.10-7.3.12"),
    ):
        deps = python_dependencies({**files, ".python-version": pin}, "main.py")
        assert deps.python_request == asked, (pin, deps.python_request)
    files["pyproject.toml"] = b'[project]\nname = "a"\nrequires-python = ">=3.11"\n'
    deps = python_dependencies({**files, ".python-version": b"order_system_env\n"}, "main.py")
    assert (deps.python_request, deps.python_source) == (">=3.11", "pyproject.toml")


def test_a_requires_python_in_poetrys_words_is_read_as_poetry_reads_it() -> None:
    """yuldashov10's FirstFastAPI: ``requires-python = "^3.12"`` (Poetry's caret in PEP
    621's field, which Poetry reads): "no Python interpreter here fits '^3.12'" with
    3.12 and 3.13 present. Read as >=3.12,<4; a PEP 440 one stays as written."""
    files = {"app.py": b"import fastapi\n", "pyproject.toml": b""}
    for written, asked in (("^3.12", ">=3.12,<4"), (">=3.11,<3.13", ">=3.11,<3.13")):
        files["pyproject.toml"] = (
            f'[project]\nname = "a"\nrequires-python = "{written}"\ndependencies = ["fastapi"]\n'
        ).encode()
        deps = python_dependencies(files, "app.py")
        assert deps.python_request == asked, (written, deps.python_request)


def test_herokus_runtime_txt_says_the_python_it_runs_on() -> None:
    """carmor014's store-restful-flask (2020) says ``python-3.7.6`` in its runtime.txt
    (Heroku's way): its unpinned Flask-JWT and the rest were held back one at a time on
    the newest Python until the build ran out of time. It is asked for as .python-version's
    is (the nearest installed where that patch is not), pyproject's requires-python its
    fallback; .python-version comes first."""
    files = {"app.py": b"import flask\n", "requirements.txt": b"Flask==1.1.1\n"}
    deps = python_dependencies({**files, "runtime.txt": b"python-3.7.6\n"}, "app.py")
    assert (deps.python_request, deps.python_source) == ("3.7.6", "runtime.txt")
    both = {**files, "runtime.txt": b"python-3.7.6\n", ".python-version": b"3.9\n"}
    assert python_dependencies(both, "app.py").python_request == "3.9"
    assert (
        python_dependencies({**files, "runtime.txt": b"node-18\n"}, "app.py").python_request is None
    )


def test_a_windows_only_distribution_of_a_freeze_is_marked_for_windows() -> None:
    """GlazovDaniil's DRF-events-website-API, a Windows machine's freeze, pins
    twisted-iocpsupport==1.0.4 (wheels for Windows alone; its source builds nowhere else):
    tried on three Pythons before the remedies left it out. It is marked for Windows, as
    Twisted itself names it; a line with a marker of its own stays as it is."""
    files = {
        "manage.py": b"import django\n",
        "requirements.txt": b"Django==5.0.1\nTwisted==24.3.0\ntwisted-iocpsupport==1.0.4\n"
        b"pywin32==306 ; platform_system == 'Windows'\n",
    }
    deps = python_dependencies(files, "manage.py")
    assert deps.requirements == (
        "Django==5.0.1",
        "Twisted==24.3.0",
        'twisted-iocpsupport==1.0.4 ; sys_platform == "win32"',
        "pywin32==306 ; platform_system == 'Windows'",
    )
    assert any("twisted-iocpsupport: Windows' alone" in n for n in deps.notes)


def test_a_uv_lock_for_pythons_not_installed_gives_way_to_its_pyproject() -> None:
    """arunkumar237's fastapi-marketplace: requires-python ">=3.14", 3.13 the newest here
    (taken as the nearest): its uv.lock holds wheels for 3.14 alone (uv prunes the rest),
    and ``uv sync`` built pydantic-core from source, and failed. For an interpreter the
    lock's requires-python refuses, the pyproject's dependencies, said; one it allows
    keeps the lock."""
    pyproject = (
        b'[project]\nname = "x"\nversion = "0"\nrequires-python = ">=3.14"\n'
        b'dependencies = ["fastapi>=0.131.0", "uvicorn>=0.41.0"]\n'
    )
    lock = (
        b'version = 1\nrequires-python = ">=3.14"\n\n[[package]]\nname = "fastapi"\n'
        b'version = "0.131.0"\nsource = { registry = "https://pypi.org/simple" }\n'
    )
    files = {"main.py": b"import fastapi\n", "pyproject.toml": pyproject, "uv.lock": lock}
    deps = python_dependencies(files, "main.py")
    assert deps.lock is not None
    assert unlocked_for(deps, "3.14.1") is deps
    later_patch = replace(deps, lock=(deps.lock[0].replace(">=3.14", ">=3.13.9"), deps.lock[1]))
    assert unlocked_for(later_patch, "3.13.0") is later_patch  # the same minor's wheels
    unlocked = unlocked_for(deps, "3.13.0")
    assert unlocked.lock is None
    assert unlocked.requirements == ("fastapi>=0.131.0", "uvicorn>=0.41.0")
    assert unlocked.notes[-1].startswith("uv.lock is for Python >=3.14, which is not installed")
    # Its own list then read as any list is: joansebhm's jwt-fastapi-auth, sqlmodel and
    # psycopg2 alone, gets SQLAlchemy below 2.1 (sqlalchemy_is_held_below_2_1, above).
    listed = pyproject.replace(b'"uvicorn>=0.41.0"', b'"sqlmodel>=0.0.38", "psycopg2>=2.9"')
    locked = python_dependencies({**files, "pyproject.toml": listed}, "main.py")
    assert unlocked_for(locked, "3.13.0").constraints == ("sqlalchemy<2.1",)
    # The dependency groups uv sync would install come too (kirimaru's fastapi-practice:
    # fastapi in its default group ``api``, alembic in ``dev``, which its env.py imports):
    # ``[tool.uv] default-groups``, their included groups, dev where the app's code needs it.
    grouped = pyproject + (
        b'[dependency-groups]\napi = ["fastapi[standard]>=0.136.0", {include-group = "auth"}]\n'
        b'auth = ["pyjwt>=2.10"]\ndev = ["alembic>=1.13", "pytest"]\nnotebook = ["jupyter"]\n'
        b'[tool.uv]\ndefault-groups = ["api", "dev"]\n'
    )
    files = {**files, "pyproject.toml": grouped}
    migrations = {**files, "alembic/env.py": b"from alembic import context\n"}
    assert unlocked_for(python_dependencies(migrations, "main.py"), "3.13.0").requirements == (
        "fastapi>=0.131.0",
        "uvicorn>=0.41.0",
        "fastapi[standard]>=0.136.0",
        "pyjwt>=2.10",
        "alembic>=1.13",
        "pytest",
    )
    alone = unlocked_for(python_dependencies(files, "main.py"), "3.13.0")
    assert alone.requirements[2:] == ("fastapi[standard]>=0.136.0", "pyjwt>=2.10")
    every = grouped.replace(b'["api", "dev"]', b'"all"')
    every_deps = python_dependencies({**files, "pyproject.toml": every}, "main.py")
    assert "jupyter" in unlocked_for(every_deps, "3.13.0").requirements


def test_a_backport_of_a_standard_module_is_marked_for_the_pythons_before_it() -> None:
    """vipankumar123's Fastapi-Company-Management-System, a freeze made on Python 3.8,
    pins backports.zoneinfo==0.2.1 (no wheel on 3.9 and later, where zoneinfo is the
    standard library's): its install left 3.11 for 3.8 and failed there. Each backport is
    marked for the Pythons before its module; one with a marker of its own stays."""
    files = {
        "main.py": b"import fastapi\n",
        "requirements.txt": b"fastapi==0.100.0\nbackports.zoneinfo==0.2.1\ndataclasses==0.8\n"
        b"enum34==1.1.10 ; python_version < '3.4'\n",
    }
    deps = python_dependencies(files, "main.py")
    assert deps.requirements == (
        "fastapi==0.100.0",
        'backports.zoneinfo==0.2.1 ; python_version < "3.9"',
        'dataclasses==0.8 ; python_version < "3.7"',
        "enum34==1.1.10 ; python_version < '3.4'",
    )
    assert any(n.startswith("backports-zoneinfo, dataclasses: backports") for n in deps.notes)


def test_a_standard_modules_name_listed_as_a_requirement_is_marked_for_python_2() -> None:
    """QueenieBloom's crud-python-mysql-flask lists ``secrets`` (the standard library's
    module since 3.6, which its import finds first), whose distribution, 1.0.2, a Python 2
    package, failed its build. Marked for Python 2 alone; a backport keeps its own marker,
    a distribution of another name stays."""
    files = {
        "main.py": b"import secrets\nimport flask\n",
        "requirements.txt": b"Flask\nsecrets\nuuid==1.30\ndataclasses==0.8\npathlib2\n",
    }
    deps = python_dependencies(files, "main.py")
    assert deps.requirements == (
        "Flask",
        'secrets ; python_version < "3"',
        'uuid==1.30 ; python_version < "3"',
        'dataclasses==0.8 ; python_version < "3.7"',
        "pathlib2",
    )
    assert any(n.startswith("secrets, uuid: the standard library's own") for n in deps.notes)


def test_a_django_pinned_below_the_modules_its_settings_name_is_lifted_to_their_release() -> None:
    """Django==3.2.16 listed, its settings' CACHES on Django 4.0's RedisCache
    (mohammadanarul's drf-job-portal: "Could not find backend …RedisCache" at migrate)."""
    settings = (
        b"CACHES = {\n"
        b"    'default': {\n"
        b"        'BACKEND': 'django.core.cache.backends.redis.RedisCache',\n"
        b"        'LOCATION': 'redis://127.0.0.1:6379/1',\n"
        b"    }\n"
        b"}\n"
    )
    files = {
        "manage.py": b"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'core.s')\n",
        "core/settings.py": settings,
        "requirements.txt": b"Django==3.2.16\ndjangorestframework==3.14.0\n",
    }
    deps = python_dependencies(files, "manage.py")
    assert deps.requirements == ("Django~=4.0.0", "djangorestframework==3.14.0")
    assert any(
        "core/settings.py: django.core.cache.backends.redis.RedisCache" in n for n in deps.notes
    )
    for older in (b"Django<4", b"django==3.2.*", b"Django~=3.2", b"Django<=3.2.16"):
        listed = {**files, "requirements.txt": older + b"\n"}
        lifted = python_dependencies(listed, "manage.py").requirements
        assert [line.lower() for line in lifted] == ["django~=4.0.0"]
    for allowed in (b"Django==4.1.3", b"Django>=3.2", b"Django~=4.0", b"Django"):
        listed = {**files, "requirements.txt": allowed + b"\n"}
        assert python_dependencies(listed, "manage.py").requirements == (allowed.decode(),)
    locmem = settings.replace(b"redis.RedisCache", b"locmem.LocMemCache")
    assert python_dependencies({**files, "core/settings.py": locmem}, "manage.py").requirements[
        0
    ] == ("Django==3.2.16")


def test_a_requirements_file_exported_from_a_pipfile_asks_its_python() -> None:
    """lgferrara's portfolio-drf-bookstore: requirements.txt exported by ``pipenv
    requirements`` (Django marked ``python_version >= '3.10'``) beside a Pipfile asking
    3.11. Read without the Pipfile, no Python was asked: built on 3.7 (mysqlclient's
    wheels), Django was left out by its marker ("Couldn't import Django")."""
    pipfile = b'[packages]\ndjango = "*"\n\n[requires]\npython_version = "3.11"\n'
    requirements = b"-i https://pypi.org/simple\ndjango==5.2.5; python_version >= '3.10'\n"
    files = {"Pipfile": pipfile, "requirements.txt": requirements, "manage.py": b""}
    deps = python_dependencies(files, "manage.py")
    assert deps.source == "requirements.txt"
    assert (deps.python_request, deps.python_source) == ("3.11", "Pipfile")
    # Its own .python-version (or requires-python) first; no Pipfile, no request.
    pinned = python_dependencies({**files, ".python-version": b"3.12\n"}, "manage.py")
    assert (pinned.python_request, pinned.python_source) == ("3.12", ".python-version")
    del files["Pipfile"]
    assert python_dependencies(files, "manage.py").python_request is None


def test_a_machines_freeze_keeps_what_the_app_imports_beside_a_nested_namesake() -> None:
    """ronynor1's FastAPI-MarketPlace: a whole Ubuntu machine's freeze with PyJWT, and
    ``import jwt`` in src/middleware/jwt/jwt_handler.py beside a module of its own,
    src/helpers/jwt.py (imported as ``src.helpers.jwt``). That namesake deep in a package
    is no ``import jwt``'s: PyJWT is the app's; a module of that name at its root is."""
    freeze = b"fastapi==0.111.0\napturl==0.5.2\npython-apt==2.4.0\nPyJWT==2.8.0\nsix==1.16.0\n"
    handler = b"import jwt\nfrom fastapi import FastAPI\napp = FastAPI()\n"
    files = {
        "requirements.txt": freeze,
        "main.py": handler,
        "src/__init__.py": b"",
        "src/helpers/jwt.py": b"from jose import jwt\n",
    }
    deps = python_dependencies(files, "main.py")
    assert "PyJWT==2.8.0" in deps.requirements and "six==1.16.0" in deps.constraints
    own = {**files, "jwt.py": b"def encode(): pass\n"}
    assert "PyJWT==2.8.0" in python_dependencies(own, "main.py").constraints


def test_a_uv_lock_lacking_what_the_code_imports_gives_way_to_the_requirements_file() -> None:
    """KartikBhardwaj-BornBenefit's fastapi-bookstore, made on Replit: its uv.lock locks
    the template's pyproject.toml (fastapi, pandas), its requirements.txt lists sqlalchemy
    and psycopg2-binary, which its code imports: synced from the lock, "No module named
    'sqlalchemy'". The requirements file then (with the project's own dependencies); the
    lock where it has what the code imports, or where the file lists nothing imported."""
    pyproject = b'[project]\nname = "t"\nversion = "0"\ndependencies = ["fastapi", "pandas"]\n'
    lock = 'version = 1\n[[package]]\nname = "fastapi"\nversion = "1"\n'
    lock += '\n[[package]]\nname = "pandas"\nversion = "2"\n'
    files = {
        "pyproject.toml": pyproject,
        "uv.lock": lock.encode(),
        "requirements.txt": b"fastapi\nuvicorn[standard]==0.29.0\nsqlalchemy\npsycopg2-binary\n",
        "deployment.py": b"from fastapi import FastAPI\nfrom sqlalchemy.orm import Session\n",
    }
    deps = python_dependencies(files, "deployment.py")
    assert deps.source == "requirements.txt" and deps.lock is None
    assert "sqlalchemy" in deps.requirements and "pandas" in deps.requirements
    assert any("uv.lock lacks sqlalchemy" in note for note in deps.notes)
    locked = lock + '\n[[package]]\nname = "sqlalchemy"\nversion = "2"\n'
    assert python_dependencies({**files, "uv.lock": locked.encode()}, "deployment.py").lock
    plain = {**files, "deployment.py": b"from fastapi import FastAPI\n"}
    assert python_dependencies(plain, "deployment.py").source == "uv.lock"


def test_a_parameter_functions_own_keyword_holds_fastapi_below_its_refusal() -> None:
    """Pavel547's fastAPI-bookstore-api lists fastapi unpinned and declares
    ``Query("asc", enum=["asc", "desc"])``, which FastAPI kept in the parameter's schema
    before 0.155 and refuses from then on: "Query() got an unexpected keyword argument
    'enum'". Held below 0.155; not where its keywords are Query's own, nor where it bounds
    FastAPI itself, nor for another library's Query."""
    main = (
        b"from fastapi import FastAPI, Query\napp = FastAPI()\n\n"
        b"@app.get('/books')\n"
        b"def books(order: str = Query('asc', enum=['asc', 'desc'])):\n    return []\n"
    )
    files = {"app/main.py": main, "requirements.txt": b"fastapi[standard]\nsqlalchemy\n"}
    deps = python_dependencies(files, "app/main.py")
    assert deps.constraints == ("fastapi<0.155",)
    assert any("app/main.py: enum" in note for note in deps.notes)
    dotted = main.replace(b"Query('asc'", b"fastapi.Query('asc'").replace(
        b"from fastapi import FastAPI, Query", b"import fastapi\nfrom fastapi import FastAPI"
    )
    assert python_dependencies({**files, "app/main.py": dotted}, "app/main.py").constraints == (
        "fastapi<0.155",
    )
    own = main.replace(b"enum=['asc', 'desc']", b"pattern='^(asc|desc)$'")
    assert python_dependencies({**files, "app/main.py": own}, "app/main.py").constraints == ()
    bounded = {**files, "requirements.txt": b"fastapi<0.120\n"}
    assert python_dependencies(bounded, "app/main.py").constraints == ()
    other = main.replace(
        b"from fastapi import FastAPI, Query",
        b"from fastapi import FastAPI\nfrom graphene import Query",
    )
    assert python_dependencies({**files, "app/main.py": other}, "app/main.py").constraints == ()


def test_a_uwsgi_nothing_of_the_upload_runs_is_not_built() -> None:
    """remedialchaostheory's flask-shop lists ``uwsgi`` (no wheels: built from source, 30 s
    of each build) and nothing else of it names uWSGI: each of its relaunches built it
    again, past the launch's time. Left out; kept where a file of the upload runs it (a
    Procfile, an ini, a Dockerfile) or its code imports it."""
    files = {
        "requirements.txt": b"Flask\nFlask-JWT==0.3.2\nuwsgi\n",
        "run.py": b"from app import app\n",
        "app.py": b"from flask import Flask\napp = Flask(__name__)\n",
    }
    deps = python_dependencies(files, "run.py")
    assert deps.requirements == ("Flask", "Flask-JWT==0.3.2")
    assert any("uwsgi: named by its dependency files alone" in note for note in deps.notes)
    for path, text in (
        ("Procfile", b"web: uwsgi --http :$PORT --module app:app\n"),
        ("uwsgi.ini", b"[uwsgi]\nmodule = app:app\n"),
        ("Dockerfile", b'FROM python:3.9\nCMD ["uwsgi", "app.ini"]\n'),
        ("hooks.py", b"import uwsgi\n"),
    ):
        kept = python_dependencies({**files, path: text}, "run.py").requirements
        assert "uwsgi" in kept, path


def test_dlib_and_what_requires_it_get_dlib_bins_wheels() -> None:
    """heldout14's flask-attendance-system compiled dlib for its whole 240 s (a source
    archive alone on PyPI, CMake and C++ for minutes): dlib is kept out, where listed and
    where face_recognition requires it (uv's override), and dlib-bin, the same module as
    wheels, installed."""
    code = b"import face_recognition\nfrom fastapi import FastAPI\napp = FastAPI()\n"
    files = {"requirements.txt": b"fastapi\nface_recognition==1.3.0\n", "main.py": code}
    deps = python_dependencies(files, "main.py")
    assert deps.requirements == ("fastapi", "face_recognition==1.3.0", "dlib-bin")
    assert deps.not_installed == ("dlib",) and any("dlib-bin" in n for n in deps.notes)
    files = {"requirements.txt": b"flask\ndlib==19.24.2\n", "app.py": b"import dlib\n"}
    deps = python_dependencies(files, "app.py")
    assert (deps.requirements, deps.not_installed) == (("flask", "dlib-bin"), ("dlib",))
    # An app already on the wheels is left as it is.
    files["requirements.txt"] = b"flask\ndlib-bin==19.24.6\n"
    deps = python_dependencies(files, "app.py")
    assert (deps.requirements, deps.not_installed) == (("flask", "dlib-bin==19.24.6"), ())


def test_a_pipfiles_poetry_caret_is_read_as_poetry_reads_it() -> None:
    """Andrew-Nzioki's usermanager-flask writes Poetry's ``flask = "^2.0.1"`` in its
    Pipfile, which pipenv refuses ("Couldn't parse requirement … flask^2.0.1"): read as
    Poetry reads a caret; the Pipfile's own specifiers as they are."""
    pipfile = (
        b'[packages]\nflask = "^2.0.1"\nflask-restful = "^0.3.9"\nrequests = "*"\n'
        b'sqlalchemy = "==1.4.23"\n'
    )
    files = {"Pipfile": pipfile, "app.py": b"from flask import Flask\napp = Flask(__name__)\n"}
    deps = python_dependencies(files, "app.py")
    assert deps.requirements[:4] == (
        "flask>=2.0.1,<3",
        "flask-restful>=0.3.9,<0.4",
        "requests",
        "sqlalchemy==1.4.23",
    ), deps.requirements


def test_the_requirements_file_its_readme_installs_is_its_dependency_file() -> None:
    """bmlrb2xh's simple-flask-backend-api keeps its only requirements.txt in ``setup/``,
    which its README installs (``pip install -r setup/requirements.txt``): guessed from its
    imports instead, psycopg2 was left out and every route of its PostgreSQL app failed."""
    files = _bytes("flask_main_script_state")
    deps = python_dependencies(files, "app/api/app.py")
    assert deps.source == "setup/requirements.txt"
    assert deps.requirements == ("Flask>=3.0", "Werkzeug>=3.0")
    # Named by no README: the imports guessed, as before.
    del files["README.md"]
    assert python_dependencies(files, "app/api/app.py").source == ""
