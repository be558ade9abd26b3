"""What initialises an app's data before it serves: :func:`data_steps` (read with
:mod:`ast`, never run) and, when nothing does, why its routes will answer 500
(:func:`missing_tables_hint`).

In order, each found one a set-up step run in its directory of the upload:

- Django's ``manage.py migrate``, whatever starts the app (a Procfile's ``web:`` too),
  after ``makemigrations`` for its apps whose models have no ``migrations/`` in the upload;
- Alembic, wherever its ``alembic.ini`` is: the app's directory or one above it (run
  where its ``script_location`` resolves), else a ``migrations/`` below it. That one is
  Flask-Migrate's when its ``env.py`` takes the app from Flask (``current_app``): it is
  upgraded by ``flask db upgrade`` with ``FLASK_APP`` naming the app (with no revision
  yet, it is as if it were not there). Always to every head (``upgrade heads``): a
  history with two branches never merged (two people's migrations, or a generator's
  second "init") has two, and ``head`` refuses them
  (:mod:`.alembicheads`: where both cannot be applied, one); Tortoise's Aerich likewise;
- the project's own init command, when no migrations were found: a Flask or Quart CLI
  command (``@app.cli.command("init-db")``, a ``@click.command`` named ``init_db`` …) or a
  script (``init_db.py``, ``create_tables.py``, ``scripts/init_db.py``); a ``seed``
  command or script after it, migrations or not. A console script of the project's
  ``pyproject.toml`` so named (``init_db = "blog:init_db"``) counts as a command;
- else, for a Flask app on Flask-SQLAlchemy with no migrations (:mod:`.createall`), its
  ``db.create_all()``; for another, its module's ``__main__`` block where that makes them;
  else a call of its own init function that makes them (``create_tables()``, which a
  module of its defines and nothing calls); else, for SQLAlchemy models whose tables
  nothing makes, those tables (:func:`.createall.models_tables_step`); else Tortoise
  ORM's, by its ``generate_schemas`` (:func:`.createall.tortoise_tables_step`).

A ``create_all()`` only under another module's ``if __name__ == "__main__":`` runs when
that is run as a script, never when a server imports the app: the hint says so."""

from __future__ import annotations

import ast
import posixpath
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass

from ..discovery.pyast import is_main_check, last_name, uncommented
from .alembicheads import (
    aerich_upgrade,
    alembic_heads_longest_first,
    alembic_home,
    alembic_run_dir,
    alembic_unbuildable,
    alembic_upgrade,
)
from .configvars import README_NAMES
from .createall import (
    CREATE_ALL,
    create_all_step,
    env_kept_out,
    flask_migrations,
    flask_target,
    idempotent_table_script,
    in_directory,
    main_only_create_all,
    migrating_app,
    models_tables_step,
    no_revision_yet,
    sql_table_script,
    table_script_step,
    tortoise_tables_step,
)
from .pyapp import ROOT_PACKAGE, FoundApp, parse_module, python_files

__all__ = [
    "OWN_INIT",
    "DataStep",
    "data_steps",
    "main_only_create_all",
    "missing_tables_hint",
    "own_makemigrations",
]

_INIT_NAMES = {"init-db", "initdb", "create-db", "createdb", "create-tables", "init", "init-data"}
# The same without their hyphens, and their kin (``createtables``, ``create-all``).
_INIT_BARE = {n.replace("-", "") for n in _INIT_NAMES} | {"createall", "initdatabase", "dbcreate"}
_SEED_NAMES = {"seed", "seed-db", "seeddb", "seed-data", "load-data"}
_INIT_SCRIPTS = ("init_db", "initdb", "create_db", "create_tables", "init_database")
_SEED_SCRIPTS = ("seed", "seed_db", "seed_data")
_SCRIPT_DIRS = ("", "scripts", "bin", "tools")
_CLICK_SUFFIXES = re.compile(r"_(?:command|cmd|group|grp)$")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")


@dataclass(frozen=True)
class DataStep:
    argv: tuple[str, ...]  # a template, like the start command's ({python})
    where: str  # its directory in the upload ("": the root)
    what: str  # what it is, for the log and the hints ("Flask-Migrate's migrations/")


def _dir(path: str) -> str:
    return posixpath.dirname(path)


def _rel(path: str, base: str) -> str:
    return path[len(base) + 1 :] if base else path


def data_steps(files: dict[str, bytes], anchor: str, app: FoundApp | None) -> list[DataStep]:
    """The steps that initialise the data of the app detected from ``anchor`` (the
    file it was read from), ``app`` the Python app found in the upload, if any."""
    steps = _django(files) or _alembic(files, anchor, app) or _aerich(files, anchor)
    commands = _cli_commands(files, app) or _entry_points(files, anchor)
    scripts = _scripts(files, app, anchor)
    if not steps:
        steps = commands.get("init", []) or scripts.get("init", [])
        # A script making other tables in SQL where missing, run by hand beside it
        script = idempotent_table_script(files) if steps else None
        if script is not None and not any(script in step.what for step in steps):
            steps += [DataStep(*step) for step in table_script_step(files, script)]
    if not steps:  # only then: it reads every module's imports
        only_main = main_only_create_all(files)
        steps = [DataStep(*step) for step in create_all_step(files, app, only_main)]
    if not steps:  # a script making them in SQL, run by hand
        steps = [DataStep(*step) for step in table_script_step(files, sql_table_script(files))]
    if not steps:
        steps = _init_function_call(files, app, anchor)
    if not steps:  # models whose tables nothing of the app makes
        steps = [DataStep(*step) for step in models_tables_step(files, app)]
    if not steps:  # Tortoise ORM's, likewise
        steps = [DataStep(*step) for step in tortoise_tables_step(files, app)]
    steps += commands.get("seed", []) or scripts.get("seed", [])
    return steps


def _aerich(files: dict[str, bytes], anchor: str) -> list[DataStep]:
    found = aerich_upgrade(files, _dir(anchor) if anchor in files else "")
    return [DataStep(found[0], found[1], "Aerich (pyproject.toml)")] if found else []


def _django(files: dict[str, bytes]) -> list[DataStep]:
    managers = sorted((p for p in files if posixpath.basename(p) == "manage.py"), key=len)
    if not managers:
        return []
    manage = managers[0]
    if b"DJANGO_SETTINGS_MODULE" not in files[manage]:
        return []
    # --fake-initial: an initial migration whose tables are all there already is recorded,
    # not run again. A committed db.sqlite3 often holds tables its django_migrations does
    # not list (rows deleted to get past a custom user model's "inconsistent history"):
    # sajjadGhl's DRF-Blog, "table django_admin_log already exists". On a new database it
    # changes nothing: no table is there.
    # --skip-checks (Django 3.0 and later): a system check's error that says nothing of the
    # database (myclim's djangorest-jwt: "STATICFILES_DIRS should not contain the
    # STATIC_ROOT setting", staticfiles.E002) stopped migrate, and no table was made; the
    # server the preview runs (gunicorn, uvicorn) runs no check.
    checks = ("--skip-checks",) if not _pinned_below(files, "django", 3) else ()
    migrate = DataStep(
        ("{python}", manage, "migrate", "--noinput", "--fake-initial", *checks),
        "",
        "Django's migrate",
    )
    unmigrated = _unmigrated_apps(files)
    if not unmigrated:
        return [migrate]
    labels = tuple(sorted(unmigrated))  # (a .gitignore'd migrations/: its user model's too)
    what = f"Django's makemigrations for {', '.join(labels)} (no migrations/ in the upload)"
    make = ("{python}", manage, "makemigrations", *labels, "--noinput")
    return [DataStep(make, "", what), migrate]


# A dependency line naming Django (requirements, Pipfile, pyproject.toml), its rest after
# the name; and a bound in that rest (``==2.2.4``, ``<3``, ``~=2.2``, Poetry's ``^2.2`` or
# its bare ``"2.2.4"``).
# A dependency file's line naming a distribution, and its upper bound's major release.
_UPPER_BOUND = re.compile(rb"""(==|<=|<|~=|\^)\s*(\d+)|^\s*=\s*["'](\d+)\.""")


def _pinned_below(files: dict[str, bytes], distribution: str, release: int) -> bool:
    """Whether a dependency file of the upload's pins ``distribution`` below the major
    ``release`` (``Django==2.2``, ``flask<2``, Pipfile's ``flask = "==0.10.1"``)."""
    named = re.compile(rb"""(?im)^\s*["']?%s(?![-\w.])["']?(.*)$""" % distribution.encode())
    for path, data in files.items():
        name = posixpath.basename(path).lower()
        if not (name.startswith("requirements") or name in ("pipfile", "pyproject.toml")):
            continue
        for line in named.finditer(data):
            bound = _UPPER_BOUND.search(line[1])
            if bound is None:
                continue
            major = int(bound[2] or bound[3])
            if major < release or (bound[1] == b"<" and major == release):
                return True
    return False


_DJANGO_MODEL = re.compile(rb"^from django\.[\w.]+ import[\s\S]*^class \w+\(\w", re.M)
_APP_LABEL = re.compile(rb"^\s+label\s*=\s*['\"]([\w]+)['\"]", re.M)
_INSTALLED = re.compile(rb"^\s*INSTALLED_APPS\s*\+?=", re.M)  # a settings module's
_APP_NAME = re.compile(rb"^\s+name\s*=\s*['\"]([\w.]+)['\"]", re.M)


def _unmigrated_apps(files: dict[str, bytes]) -> set[str]:
    """The labels of the upload's Django apps (their models' folder, or its ``apps.py``'s
    name, named in the settings that list ``INSTALLED_APPS``) whose models have no
    ``migrations/``."""
    return {label for label, migrated in _own_apps(files).items() if not migrated}


def _own_apps(files: dict[str, bytes]) -> dict[str, bool]:
    """The labels of the upload's Django apps (as :func:`_unmigrated_apps` finds them),
    each with whether it has a ``migrations/`` in the upload."""
    # (an app commented out of the list is not installed: Strange18's DRF-Basic keeps
    # ``# 'home2'`` there, and "makemigrations home home2" made no migration at all)
    settings = b"\n".join(uncommented(d) for d in files.values() if _INSTALLED.search(d))
    labels: dict[str, bool] = {}
    for directory, models in _models_modules(files).items():
        # (an app with no apps.py is Django's default AppConfig of its module: akmalkhaniub's
        # django-payroll-engine installs ``payroll``, which has none and no migrations)
        config = files.get(f"{directory}/apps.py", b"")
        if not any(_DJANGO_MODEL.search(files[m]) for m in models):
            continue
        named = _APP_NAME.search(config)
        dotted = named.group(1) if named else directory.replace("/", ".").encode()
        installed = re.search(rb"""["']%s(?:\.apps\.\w+)?["']""" % re.escape(dotted), settings)
        if installed:
            label = _APP_LABEL.search(config)  # (an app not installed: its label refused)
            # A migrations/ of its __init__.py alone is none (gh0sthck's drf-todo, its
            # user model's app too: "Dependency on app with no migrations: users"), nor
            # one of a .gitignore beside it (ahmadalsajid's drf-postgres): a migration is
            # a module.
            migrated = any(
                p.startswith(f"{directory}/migrations/")
                and p.endswith(".py")
                and not p.endswith("/__init__.py")
                for p in files
            )
            labels[label.group(1).decode() if label else posixpath.basename(directory)] = migrated
    return labels


def _models_modules(files: dict[str, bytes]) -> dict[str, list[str]]:
    """{a Django app's folder: its models' modules}: its ``models.py``, or each module of
    its ``models/`` package (JoaoUF's drf-redis keeps Album and Musician in
    apps/mainApp/models/, which no makemigrations was given: relation "MAE_ALBUM" does
    not exist)."""
    found: dict[str, list[str]] = {}
    for path in sorted(files):
        if posixpath.basename(path) == "models.py":
            found.setdefault(_dir(path), []).append(path)
        elif path.endswith(".py") and posixpath.basename(_dir(path)) == "models":
            package = _dir(path)
            if f"{package}/__init__.py" in files:
                found.setdefault(_dir(package), []).append(path)
    return found


# ``manage.py makemigrations`` with no app label after it (options only, up to the end of
# its command: ``&&``, ``;``, a newline).
_MAKEMIGRATIONS = re.compile(
    r"(\bmanage\.py\s+makemigrations)((?:\s+-[-\w=]+)*)(?=\s*(?:&&|;|\||$))", re.M
)


def own_makemigrations(command: str, files: dict[str, bytes]) -> str:
    """``command`` (a Procfile ``release:`` line, a shell step the app declares) with its
    ``manage.py makemigrations`` given the upload's own apps' labels where it names none.
    Without labels, Django also writes the migrations an installed package lacks for
    the project's settings (``DEFAULT_AUTO_FIELD = BigAutoField`` beside an allauth 0.44
    that predates it) into that package, in the built environment, which is read-only
    here (redifo's recipe-drf-api: "Read-only file system: …/allauth/account/migrations");
    on its author's machine it wrote them into a virtualenv nobody deploys."""
    labels = sorted(_own_apps(files))
    if not labels or "makemigrations" not in command:
        return command
    return _MAKEMIGRATIONS.sub(lambda m: f"{m.group(1)} {' '.join(labels)}{m.group(2)}", command)


def _chain(directory: str) -> list[str]:
    """``directory`` and each one above it, up to the upload's root ("")."""
    return [directory, *_chain(_dir(directory))] if directory else [""]


def _alembic(files: dict[str, bytes], anchor: str, app: FoundApp | None) -> list[DataStep]:
    directory = _dir(anchor) if anchor in files else ""
    at = alembic_home(files, _chain(directory))  # in the app's directory or above it
    if at is not None:
        run, relative = alembic_run_dir(files, at)  # where its script_location resolves
        ini = f"{at}/alembic.ini" if at else "alembic.ini"  # (named as the upload has it)
        if not _unused_alembic(files, run) and not _no_history(files, ini):
            return [DataStep(alembic_upgrade(files, run, relative), run, f"Alembic ({ini})")]
        # As without that alembic.ini: a Flask-Migrate history (hasankhaan107's
        # Basic-Flask-CRUD keeps an ``alembic init`` leftover naming a missing alembic/
        # beside its migrations/: none of them ran, and its tables were missing), else its
        # tables, if any, by the steps below.
    # A migrations/ there or above (Flask-Migrate's, beside the app's package), else
    # the shallowest one below.
    above = [
        f"{at}/migrations/alembic.ini" if at else "migrations/alembic.ini"
        for at in _chain(directory)
    ]
    below = sorted(
        (p for p in files if p.endswith("migrations/alembic.ini") and in_directory(p, directory)),
        key=lambda p: (p.count("/"), p),
    )
    ini = next((p for p in [*above, *below] if p in files), None)
    if ini is None:
        return []
    migrations, parent = _dir(ini), _dir(_dir(ini))
    if no_revision_yet(files, migrations):
        return []  # `flask db migrate` never run: as without migrations/ (createall)
    if flask_migrations(files, migrations):
        if (managed := _flask_script_upgrade(files, migrations)) is not None:
            return [managed]
        target = flask_target(migrating_app(files, app), parent, files)
        if target is not None:
            named = target.startswith(f"{ROOT_PACKAGE}.") and "__init__.py" in files
            cli = ("{python}", "-c", _FLASK_CLI_AS_NAMED) if named else ("{python}", "-m", "flask")
            flask = (*cli, "db", "upgrade", "heads")
            heads = alembic_heads_longest_first(files, migrations)
            upgrade = ("{python}", "-c", _FLASK_EACH_HEAD, *heads) if len(heads) > 1 else flask
            argv = ("env", f"FLASK_APP={target}", *upgrade)
            if alembic_unbuildable(files, migrations) and not env_kept_out(files, migrations):
                # Its first revision alters a table no revision creates, made on its
                # author's database by create_all() (saravanan-architect's
                # flask-smorest-api: add_column('description') to items): its models'
                # tables made instead, its history stamped at its heads.
                made = ("env", f"FLASK_APP={target}", "{python}", "-c", CREATE_ALL)
                stamp = ("env", f"FLASK_APP={target}", *cli, "db", "stamp", "heads")
                what = f"Flask-SQLAlchemy's create_all() ({migrations}/'s first revision alters "
                what += "tables no revision creates)"
                return [DataStep(made, parent, what), DataStep(stamp, parent, "Flask-Migrate")]
            if env_kept_out(files, migrations):
                env = _rel(f"{migrations}/env.py", parent)
                argv = ("sh", "-c", f'{_FLASK_MIGRATE_ENV} {env} && exec "$@"', "sh", *argv)
                what = f"Flask-Migrate ({migrations}/, its env.py Flask-Migrate's own template)"
                return [DataStep(argv, parent, what)]
            return [DataStep(argv, parent, f"Flask-Migrate ({migrations}/)")]
        return []
    if not _locates(files, ini, parent) and _locates(files, ini, migrations):
        # Its script_location is written from its own folder (``script_location = .``):
        # run there, as its author's command does (chdir'd in), its project's folder on
        # the path for env.py's imports (Vasyalisk's fastapi-sqlalchemy-docker-template:
        # "Can't find Python file ./env.py" run from backend/).
        argv = alembic_upgrade(files, migrations, "alembic.ini")
        on_path = 'PYTHONPATH="..${{PYTHONPATH:+:$PYTHONPATH}}" exec "$@"'
        return [DataStep(("sh", "-c", on_path, "sh", *argv), migrations, f"Alembic ({ini})")]
    argv = alembic_upgrade(files, parent, _rel(ini, parent))
    return [DataStep(argv, parent, f"Alembic ({ini})")]


# Flask's CLI with FLASK_APP read as the module it names: Flask walks up from a dotted
# name as from a file while the folders hold an __init__.py, so a root package's module
# served as uploaded_app.app (pyapp.ROOT_PACKAGE) was "preview_….uploaded_app.app":
# "Could not import", then "No such command 'db'" (hasankhaan107's Basic-Flask-CRUD).
_FLASK_CLI_AS_NAMED = """\
import flask.cli as cli
cli.prepare_import = lambda path: path  # FLASK_APP: a module's dotted name
cli.main()
"""


# What brings Alembic (itself, or a package depending on it), named anywhere in a file
# that lists what the app installs (its lockfiles and Dockerfile too).
_ALEMBIC_NAMED = re.compile(rb"alembic|flask[-_]migrate", re.IGNORECASE)
_DEPENDENCY_FILE = re.compile(
    r"(?:^|/)(?:[^/]*requirements[^/]*\.(?:txt|in)|requirements/[^/]+|pyproject\.toml|"
    r"Pipfile(?:\.lock)?|(?:uv|poetry)\.lock|setup\.(?:py|cfg)|Dockerfile[^/]*)$"
)


def _unused_alembic(files: dict[str, bytes], run: str) -> bool:
    """An ``alembic init`` never used: no revision under the folder it runs in, and no
    dependency file of the app names Alembic (MW982's fastapi-order-api: its alembic/ as
    ``alembic init`` made it, target_metadata None, alembic not in its pyproject.toml nor
    its uv.lock, and no database at all: its first revision's step failed, "No module named
    'alembic'"). Its author never ran it; nor does a preview."""
    prefix = f"{run}/" if run else ""
    revisions = any(
        p.startswith(prefix) and "/versions/" in f"/{p}" and p.endswith(".py")
        for p in files
        if not p.endswith("__init__.py")
    )
    listed = [data for p, data in files.items() if _DEPENDENCY_FILE.search(p)]
    # (with no dependency file, what it imports is installed: alembic's env.py's own)
    return not revisions and bool(listed) and not any(_ALEMBIC_NAMED.search(d) for d in listed)


_SCRIPT_LOCATION = re.compile(r"^script_location\s*=\s*(\S+)", re.MULTILINE)


def _no_history(files: dict[str, bytes], ini: str) -> bool:
    """An ``alembic.ini`` that leads to no history of the upload: it names no
    ``script_location`` at all (alsomedroo's FastAPI-marketplace-project commits an empty
    one and no migrations: its step failed, "No 'script_location' key found", and nothing
    made its models' tables), or a folder of its own (a plain relative path) holding no
    env.py, from its folder or the one above it. Alembic runs nothing there; the app's
    tables, if any, are made by the steps that follow. A package's resource
    (``myapp:migrations``) or a path of its variables is Alembic's to find."""
    found = _SCRIPT_LOCATION.search(files[ini].decode("utf-8", "replace"))
    if found is None:
        return True
    name = found.group(1).strip().replace("%(here)s", ".")
    if "%(" in name or name.startswith("/") or ":" in name:
        return False
    home = _dir(ini)
    places = [home, _dir(home)] if home else [home]
    return not any(
        posixpath.normpath(posixpath.join(p or ".", name, "env.py")) in files for p in places
    )


# Flask-Migrate's single-database env.py template, from the installed package, copied to
# the path that follows (a shell command's start; ``{python}`` is the app's interpreter).
_FLASK_MIGRATE_ENV = (
    "{python} -c 'import os, shutil, sys, flask_migrate; shutil.copyfile(os.path.join("
    'os.path.dirname(flask_migrate.__file__), "templates", "flask", "env.py"), sys.argv[1])\''
)

# flask db upgrade heads; where its heads do not upgrade together (two "init" revisions
# each creating the same tables: Buffito's Flask-Finance-Api, "table transaction_types
# already exists"), what applied undone and each head alone (its arguments, the longest
# branch first) until one upgrades, as Alembic's own history is (:mod:`.alembicheads`).
_FLASK_EACH_HEAD = """\
# flask db upgrade heads, else each head alone (longest first) until one upgrades
import subprocess
import sys
def db(*args):
    return subprocess.run([sys.executable, "-m", "flask", "db", *args]).returncode
if db("upgrade", "heads") != 0:
    db("downgrade", "base")  # what applied before the failure (SQLite's DDL is not undone)
    for head in sys.argv[1:]:
        if db("upgrade", head) == 0:
            print("flask db: its " + str(len(sys.argv) - 1) + " heads do not upgrade "
                  "together: upgraded to " + head + " alone", file=sys.stderr)
            break
        print("flask db: head " + head + " does not upgrade", file=sys.stderr)
    else:
        sys.exit(1)
"""


def _locates(files: dict[str, bytes], ini: str, where: str) -> bool:
    """Whether the ``alembic.ini`` at ``ini``, run from ``where``, finds its history:
    its relative ``script_location`` (Alembic reads it from the working directory)
    holds an env.py there."""
    found = _SCRIPT_LOCATION.search(files[ini].decode("utf-8", "replace"))
    name = found.group(1).strip() if found is not None else ""
    if not name or "%(" in name or name.startswith("/") or ":" in name:
        return True  # its own folder's, absolute, or a package's resource: anywhere
    return posixpath.normpath(posixpath.join(where or ".", name, "env.py")) in files


# -- the project's own commands --------------------------------------------------------


def _command_name(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The CLI command a decorated function defines (``@app.cli.command("init-db")``,
    ``@click.command()``), as Click names it; None when it defines none."""
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        func = call.func if call is not None else decorator
        if not (isinstance(func, ast.Attribute) and func.attr == "command"):
            continue
        first = call.args[0] if call is not None and call.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
        for keyword in call.keywords if call is not None else ():
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
        return _CLICK_SUFFIXES.sub("", node.name.lower()).replace("_", "-")
    return None


def _asks(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a Click command needs an argument, a required option or an answer."""
    for decorator in node.decorator_list:
        if not isinstance(decorator, ast.Call):
            continue
        kind = _name(decorator.func)
        if kind == "argument" and not any(
            k.arg in ("default", "required") for k in decorator.keywords
        ):
            return True
        if kind in ("confirmation_option", "password_option"):
            return True
        if kind == "option" and any(
            k.arg in ("required", "prompt")
            and not (isinstance(k.value, ast.Constant) and not k.value.value)
            for k in decorator.keywords
        ):
            return True
    return False


def _name(node: ast.AST) -> str:
    return (
        node.attr
        if isinstance(node, ast.Attribute)
        else node.id
        if isinstance(node, ast.Name)
        else ""
    )


# A Flask-Script manager run as a script (manage.py): its commands are its, not flask's
# (`python manage.py init_db`; apryor6's flask_api_example); imported as Flask before 1.0
# also let it be (``from flask.ext.script import Manager``).
_FLASK_SCRIPT = re.compile(
    rb"^from flask(?:_script|\.ext\.script) import[^\n]*\bManager\b[\s\S]*\.run\(\)", re.M
)
# Flask-Migrate's commands added to such a manager (``manager.add_command('db',
# MigrateCommand)``): their group's name.
_MIGRATE_COMMAND = re.compile(rb"""\.add_command\(\s*['"]([\w-]+)['"]\s*,\s*MigrateCommand\b""")


def _flask_script_upgrade(files: dict[str, bytes], migrations: str) -> DataStep | None:
    """Flask-Migrate's upgrade run by the app's own Flask-Script manager (``python
    manage.py db upgrade``, its README's step) where its Flask is one before 2.0, which
    Flask-Script was made for (2.0 broke it) and whose releases before 0.11 had no
    ``flask`` command (nmsbane's bookmarks-flask-app, Flask 0.10.1: "No module named
    flask.__main__"). None where no manager in or above the migrations' folder has
    Flask-Migrate's commands, or its Flask may be a later one."""
    for path in python_files(files):
        data = files[path]
        found = _MIGRATE_COMMAND.search(data)
        if found is None or not _FLASK_SCRIPT.search(data):
            continue
        folder = _dir(path)
        if not in_directory(migrations, folder):
            continue
        if not _pinned_below(files, "flask", 2):
            continue
        script = posixpath.basename(path)
        argv = ("{python}", script, found.group(1).decode(), "upgrade")
        return DataStep(argv, folder, f"Flask-Migrate ({migrations}/) by its manager {path}")
    return None


def _cli_commands(files: dict[str, bytes], app: FoundApp | None) -> dict[str, list[DataStep]]:
    if app is None or app.framework not in ("flask", "quart"):
        return {}
    target = flask_target(app, app.directory, files)
    if target is None:
        return {}
    variable = "FLASK_APP" if app.framework == "flask" else "QUART_APP"
    found: dict[str, list[DataStep]] = {}
    for path in python_files(files):
        tree = parse_module(files[path])
        if tree is None:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            name = _command_name(node)
            if name is None or _asks(node):
                continue  # not a command, or it needs arguments or answers: not unattended
            bare = name.replace("-", "")
            kind = "init" if bare in _INIT_BARE else "seed" if name in _SEED_NAMES else None
            if kind is None or found.get(kind):
                continue
            group = _blueprint_group(node, tree)
            command = (group, name) if group else (name,)
            argv = ("env", f"{variable}={target}", "{python}", "-m", app.framework, *command)
            where = app.directory
            if _FLASK_SCRIPT.search(files[path]):  # Flask-Script's manager: its own runner
                where, script = _dir(path), posixpath.basename(path)
                argv = ("env", f"{variable}={target}", "{python}", script, node.name)
            found[kind] = [DataStep(argv, where, f"the project's {' '.join(command)} command")]
    return found


def _blueprint_group(node: ast.FunctionDef | ast.AsyncFunctionDef, tree: ast.Module) -> str:
    """The command group a Flask blueprint's CLI command is under (``@commands_bl.cli.
    command("createtables")``, ``commands_bl = Blueprint("commands", …)``: ``flask
    commands createtables``, imanhpr's simple-flask-api, its README's step); "" for an
    app's own command, or a blueprint of no group (``cli_group=None``)."""
    holders = {
        decorator.func.value.value.id
        for decorator in node.decorator_list
        if isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and isinstance(decorator.func.value, ast.Attribute)
        and decorator.func.value.attr == "cli"
        and isinstance(decorator.func.value.value, ast.Name)
    }
    for statement in tree.body:
        if not isinstance(statement, ast.Assign) or not isinstance(statement.value, ast.Call):
            continue
        call = statement.value
        if last_name(call.func) != "Blueprint" or not call.args:
            continue
        if not any(isinstance(t, ast.Name) and t.id in holders for t in statement.targets):
            continue
        group = next((k.value for k in call.keywords if k.arg == "cli_group"), call.args[0])
        if isinstance(group, ast.Constant) and isinstance(group.value, str):
            return group.value
        return ""
    return ""


def _entry_points(files: dict[str, bytes], anchor: str) -> dict[str, list[DataStep]]:
    """The project's console scripts named like an init or seed command (PEP 621's
    ``[project.scripts]``, Poetry's ``[tool.poetry.scripts]``: ``init_db =
    "blog:init_db"``), called from where their module imports."""
    found: dict[str, list[DataStep]] = {}
    for directory in _chain(_dir(anchor) if anchor in files else ""):
        pyproject = files.get(f"{directory}/pyproject.toml" if directory else "pyproject.toml")
        if pyproject is None:
            continue
        try:
            table = tomllib.loads(pyproject.decode("utf-8", "replace"))
        except (tomllib.TOMLDecodeError, RecursionError):
            continue
        project = table.get("project", {})
        poetry = table.get("tool", {}).get("poetry", {})
        scripts = {
            **(poetry.get("scripts", {}) if isinstance(poetry, dict) else {}),
            **(project.get("scripts", {}) if isinstance(project, dict) else {}),
        }
        for name, target in scripts.items() if isinstance(scripts, dict) else ():
            command = str(name).lower().replace("_", "-")
            kind = "init" if command in _INIT_NAMES else "seed" if command in _SEED_NAMES else None
            module, _, func = target.partition(":") if isinstance(target, str) else ("", "", "")
            if (
                kind is None
                or kind in found
                or not _DOTTED.match(module)
                or not func.isidentifier()
            ):
                continue
            where = _importable_from(files, directory, module)
            if where is not None:
                argv = ("{python}", "-c", f"from {module} import {func}; {func}()")
                found[kind] = [DataStep(argv, where, f"the project's {name} script")]
        return found
    return found


def _importable_from(files: dict[str, bytes], project: str, module: str) -> str | None:
    """The directory (the project's, or its ``src/``) ``module`` imports from."""
    path = module.replace(".", "/")
    for where in (project, f"{project}/src" if project else "src"):
        prefix = f"{where}/" if where else ""
        if f"{prefix}{path}.py" in files or f"{prefix}{path}/__init__.py" in files:
            return where
    return None


def _runs_something(tree: ast.Module) -> bool:
    """Whether running the module does anything: a ``__main__`` block, a call, or a
    ``with`` / ``try`` at its top level that calls something (``with
    app.app_context(): db.create_all()``, flaskr-tdd's ``create_db.py``)."""
    for node in tree.body:
        if isinstance(node, ast.If) and is_main_check(node.test):
            return True
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call | ast.Await):
            return True
        if isinstance(node, ast.With | ast.AsyncWith | ast.Try) and any(
            isinstance(n, ast.Call) for n in ast.walk(node)
        ):
            return True
    return False


def _scripts(
    files: dict[str, bytes], app: FoundApp | None, anchor: str
) -> dict[str, list[DataStep]]:
    """Init and seed scripts beside the app or in its ``scripts/`` (run as modules from
    the app's import directory, so that they import the app as it does)."""
    base = app.directory if app is not None else (_dir(anchor) if anchor in files else "")
    found: dict[str, list[DataStep]] = {}
    for kind, names in (("init", _INIT_SCRIPTS), ("seed", _SEED_SCRIPTS)):
        for folder in _SCRIPT_DIRS:
            for name in names:
                inside = "/".join(p for p in (base, folder, f"{name}.py") if p)
                tree = parse_module(files[inside]) if inside in files else None
                if tree is None or not _runs_something(tree):
                    continue
                module = _rel(inside, base)[:-3].replace("/", ".")
                argv = ("{python}", "-m", module)
                found[kind] = [DataStep(argv, base, f"the project's {inside}")]
                break
            if kind in found:
                break
    for kind, steps in _readme_scripts(files).items():
        found.setdefault(kind, steps)
    return found


# A README's command running a module or script of the upload: ``python -m
# songs_api.apply_migrations``, ``python3 scripts/create_tables.py``; group 1 the module,
# group 2 the script, group 3 its arguments.
_README_RUN = re.compile(
    r"^[ \t]*(?:\$[ \t]*)?(?:poetry\s+run\s+|pipenv\s+run\s+|uv\s+run\s+)?python3?\s+"
    r"(?:-m\s+([A-Za-z_][\w.]*)|((?:\./)?[\w./-]+\.py))([^\n`]*)$",
    re.MULTILINE,
)
# What its name says it does: makes the tables, or puts rows in them.
_MAKES_TABLES = re.compile(
    r"migrat|init_?db|init_database|db_?(?:init|setup|create)"
    r"|(?:create|setup|make)_?(?:db|tables|database|schema)",
    re.IGNORECASE,
)
_FILLS_TABLES = re.compile(r"seed|populate|load_?data|fixtures", re.IGNORECASE)
_README_KINDS = (("init", _MAKES_TABLES), ("seed", _FILLS_TABLES))


def _readme_scripts(files: dict[str, bytes]) -> dict[str, list[DataStep]]:
    """The upload's own modules its README runs, in its folder, to make the tables or
    fill them (gogognome's assessment-fastapi: "To apply the migration scripts to the
    configured database, run this command: python -m songs_api.apply_migrations"; no
    table made otherwise, its route answered 500 "no such table"), where the module is
    the upload's and running it does something; the first of each kind."""
    readme = next((name for name in README_NAMES if name in files), None)
    if readme is None:
        return {}
    where = _dir(readme)
    prefix = f"{where}/" if where else ""
    found: dict[str, list[DataStep]] = {}
    text = files[readme][:200_000].decode("utf-8", "replace")
    for match in _README_RUN.finditer(text):
        module, script, rest = match.groups()
        path = f"{module.replace('.', '/')}.py" if module else posixpath.normpath(script)
        name = posixpath.basename(path)[:-3]
        kind = next((k for k, said in _README_KINDS if said.search(name)), None)
        tree = parse_module(files[prefix + path]) if prefix + path in files else None
        if kind is None or kind in found or tree is None or not _runs_something(tree):
            continue
        argv = ("{python}", "-m", module) if module else ("{python}", path)
        try:
            argv += tuple(shlex.split(rest.split(" #", 1)[0]))
        except ValueError:  # an unclosed quote: not a command to run
            continue
        found[kind] = [DataStep(argv, where, f"the {readme}'s {match.group(0).strip()}")]
    return found


_INIT_FUNCTIONS = ("init_db", "create_db", "create_tables", "init_database", "create_all_tables")
OWN_INIT = "# the project's own init function, which nothing calls"


# What a function that only makes the tables calls beside create_all() (its log).
_TABLES_ONLY_CALLS = {"create_all", "print", "info", "debug", "getLogger"}


def _only_makes_tables(node: ast.FunctionDef) -> bool:
    """Whether ``node``'s body does nothing but make the tables (``return Base.metadata.
    create_all(bind=engine)``, a line logged): whatever its name (sixfwa's
    fastapi-postgres-docker defines ``_add_tables()`` in services.py, for its author to
    call from a shell; nothing calls it, and its one route answered 500)."""
    calls = [_name(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)]
    return "create_all" in calls and set(calls) <= _TABLES_ONLY_CALLS and len(node.body) <= 4


def _init_functions(files: dict[str, bytes]) -> Iterator[tuple[str, ast.FunctionDef]]:
    """(path, function) of each module-level function named like an init one, or doing
    nothing but make the tables (:func:`_only_makes_tables`), taking no argument and
    undecorated, the shallowest modules first."""
    for path in sorted(python_files(files), key=lambda p: (p.count("/"), p)):
        data = files[path]
        if b"create_all" not in data and not any(n.encode() in data for n in _INIT_FUNCTIONS):
            continue
        tree = parse_module(data)
        for node in tree.body if tree is not None else ():
            if (
                isinstance(node, ast.FunctionDef)
                and (node.name in _INIT_FUNCTIONS or _only_makes_tables(node))
                and not node.args.args
                and not node.decorator_list
            ):
                yield path, node


def _init_function(files: dict[str, bytes]) -> tuple[str, str] | None:
    """(module, function) of a module-level function named like an init one (taking no
    argument), importable from the upload's root; None if there is none."""
    for path, node in _init_functions(files):
        return path[:-3].removesuffix("/__init__").replace("/", "."), node.name
    return None


def _init_function_call(
    files: dict[str, bytes], app: FoundApp | None, anchor: str
) -> list[DataStep]:
    """A call of the project's own init function, where nothing else initialises its
    data: a module-level function named like one (``create_tables``, ``init_db`` …),
    taking no argument, that makes the tables itself (``Base.metadata.create_all(engine)``
    in its body), in a module importable from the app's directory, which nothing runs
    (Cohetero's FastAPI-JWT-SQLAlchemy's ``app/v1/scripts/create_tables.py`` defines it
    and stops: every route on its data answered 500, "relation usuarios does not exist")."""
    base = app.directory if app is not None else (_dir(anchor) if anchor in files else "")
    for path, node in _init_functions(files):
        if (base and not path.startswith(base + "/")) or b"create_all" not in files[path]:
            continue
        makes_tables = any(
            isinstance(call, ast.Call) and _name(call.func) == "create_all"
            for call in ast.walk(node)
        )
        module = _rel(path, base)[:-3].removesuffix("/__init__").replace("/", ".")
        if not makes_tables or not _DOTTED.match(module):
            continue
        # (said so first: plans.optional_steps reads it, and the start goes on after its
        # failure, as after a seed's: the author never named it a step)
        code = f"{OWN_INIT}\n{_app_imported(app)}from {module} import {node.name}; {node.name}()"
        return [DataStep(("{python}", "-c", code), base, f"the project's {module}.{node.name}()")]
    return []


def _app_imported(app: FoundApp | None) -> str:
    """Code importing the app's module as its server does, first: the models its imports
    register are then on the metadata an init function makes (Tshergzeh's ikanos-cms-
    fastapi: ``SQLModel.metadata.create_all(engine)`` in app/db.py, its models imported by
    app/main.py's routers only; called alone, it made no table)."""
    if app is None or not _DOTTED.match(app.module):
        return ""
    return f"try:\n    import {app.module}\nexcept Exception:\n    pass\n"


def missing_tables_hint(files: dict[str, bytes], steps: list[str]) -> str:
    """Why the app's tables are missing, and what would create them; ``steps`` are the
    set-up steps that ran (as shown)."""
    main = main_only_create_all(files)
    if main is not None:
        return (
            f"{main} creates its tables (create_all()) only under "
            '`if __name__ == "__main__":`, which a server importing it never runs: '
            "move it where the app is made, or give the launch option setup a command "
            'that creates them (e.g. ["{python}", "init_db.py"])'
        )
    function = _init_function(files)
    if function is not None and not steps:
        module, name = function
        return (
            f"{module}.{name}() looks like what creates them, but nothing calls it before "
            "the app serves: relaunch with the launch option setup "
            f'["{{python}}", "-c", "from {module} import {name}; {name}()"]'
        )
    if steps:
        return (
            f"the set-up steps ({'; '.join(steps)}) ran but did not create this table: "
            "check that the migrations cover every model"
        )
    return (
        "nothing initialises the app's database: no migrations (Django, Alembic, "
        "Flask-Migrate), no init command (init-db, init_db.py) and no create_all() were "
        "found; give the launch option setup a command that creates its tables"
    )
