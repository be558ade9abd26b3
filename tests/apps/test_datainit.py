"""Apps whose data must be initialised before they serve, launched as uploaded with real
builds: Django's migrate under a Procfile, Flask-Migrate's migrations/, a Flask CLI
init-db command, an init script; and, where nothing creates the tables, the diagnosis in
the log. Each answers its database route with 200 (or, the last, says why it cannot)."""

from __future__ import annotations

import ast
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
import trio

from preview.apps.alembicheads import alembic_changes_nothing, alembic_heads
from preview.apps.createall import CREATE_ALL, MAIN_BLOCK, MODELS_TABLES, creates_its_tables
from preview.apps.datainit import (
    LOAD_FIXTURES,
    OWN_INIT,
    UNMANAGED_TABLES,
    data_steps,
    main_only_create_all,
    missing_tables_hint,
    own_makemigrations,
)
from preview.apps.detect import detect
from preview.apps.plans import optional_steps
from preview.apps.served import find_app
from preview.builds.steps import migrations_not_needed

from ..conftest import Service, auth
from ..launching import BUILD_WAIT, app_files, launched, messages
from ..outages import PG_ENV

_FLASK_UPGRADE = ("{python}", "-m", "flask", "db", "upgrade", "heads")


def _files(name: str) -> dict[str, bytes]:
    return {p: t.encode() for p, t in app_files(name).items()}


def _tables_made_by_another_module() -> dict[str, bytes]:
    """fastapi_mainonly's tables made under the ``__main__`` of a run.py beside it."""
    files = _files("fastapi_mainonly")
    main, block = files["main.py"].decode().split('if __name__ == "__main__":')
    files["main.py"] = main.encode()
    files["run.py"] = (
        f'from main import Base, app, engine\nif __name__ == "__main__":{block}'.encode()
    )
    return files


def test_djangos_migrate_skips_the_system_checks() -> None:
    """myclim's djangorest-jwt: a system check's error saying nothing of its database
    (staticfiles.E002, STATICFILES_DIRS holding STATIC_ROOT) stopped migrate, and no
    table was made. (Where the environment's Django is older than 3.0, the preparation
    leaves the option out: test_preparation.)"""
    files = _files("django_procfile")
    assert detect(files).setup_steps()[0][0][-1] == "--skip-checks"


def test_the_steps_found_for_each_shape() -> None:
    procfile = detect(_files("django_procfile"))
    assert procfile.framework == "procfile"
    assert procfile.setup_steps() == [
        (("{python}", "manage.py", "migrate", "--noinput", "--fake-initial", "--skip-checks"), "")
    ]
    flask_migrate = detect(_files("flask_migrate"))
    assert flask_migrate.setup_steps() == [
        (("env", "FLASK_APP=blog:create_app()", *_FLASK_UPGRADE), "")
    ]
    assert flask_migrate.data_init == ("Flask-Migrate (migrations/)",)
    # The app that serves registers no Flask-Migrate; src/manage.py's Migrate(server, db)
    # does, on an app of its own: flask db loads that one.
    manage = detect(_files("flask_migrate_manage"))
    assert manage.setup_steps() == [
        (("env", "FLASK_APP=src/manage.py:server", *_FLASK_UPGRADE), "")
    ]
    init_db = detect(_files("flask_initdb"))
    assert init_db.setup == (("env", "FLASK_APP=app:app", "{python}", "-m", "flask", "init-db"),)
    script = detect(_files("fastapi_initscript"))
    assert script.setup_steps() == [(("{python}", "-m", "scripts.init_db"), "")]
    top_level = detect(_files("flask_create_db_script"))
    assert top_level.framework == "procfile"
    assert top_level.setup_steps() == [(("{python}", "-m", "create_db"), "")]
    # create_all() only under __main__: a Flask app on Flask-SQLAlchemy gets its
    # create_all() (what `python app.py` would do), another app its __main__ block run,
    # the server it starts not started; tables made in another module's block: the hint.
    main_only = detect(_files("flask_mainonly"))
    assert main_only.data_init == (
        "Flask-SQLAlchemy's create_all() (app.py calls it only under __main__)",
    )
    block = detect(_files("fastapi_mainonly")).setup_steps()
    assert block == [(("{python}", "-c", MAIN_BLOCK, "main"), "")]
    assert detect(_files("flask_peewee_main")).data_init == (
        "app.py's __main__ block, which makes its tables (its server not started)",
    )
    # Tables made in another module's block, which a server never runs: its models' tables
    # (the hint names that module where they still fail).
    assert detect(_tables_made_by_another_module()).setup == (
        ("{python}", "-c", MODELS_TABLES, "main"),
    )
    assert main_only_create_all(_files("flask_mainonly")) == "app.py"
    assert main_only_create_all(_files("flask_initdb")) is None  # create_all in a function


def test_a_factory_needing_an_argument_is_migrated_through_the_module_calling_it() -> None:
    """luke-grammer's secure-login-flask-site: ``create_app(config_name)``, which Flask's
    CLI calls with no argument (Flask 1: its ScriptInfo, "KeyError: <flask.cli.ScriptInfo
    …>"); its run.py binds ``app = create_app(config_name)``: flask db loads that."""
    files = _files("flask_migrate")
    package = files["blog/__init__.py"].decode().replace("create_app():", "create_app(name):")
    # Flask-Migrate made on the factory's app (``Migrate(app, db)``), as its package does.
    package = package.replace("migrate.init_app(app, db)", "Migrate(app, db)")
    files["blog/__init__.py"] = package.encode()
    files["run.py"] = b"import os\nfrom blog import create_app\napp = create_app(os.getenv('X'))\n"
    assert detect(files).setup_steps() == [(("env", "FLASK_APP=run:app", *_FLASK_UPGRADE), "")]


def test_release_line_that_migrates_is_not_doubled() -> None:
    files = _files("django_procfile")
    files["Procfile"] += b"release: python manage.py migrate\n"
    found = detect(files)
    assert found.setup == (("sh", "-c", "python manage.py migrate"),)
    # Its data set-up: failing with no fix known, the app starts once more without it
    # (phorjax's StarWars-Flask-API: ``release: pipenv run upgrade``, a history whose DROP
    # TABLE PostgreSQL refused; the launch failed there, every plan alike).
    assert found.data_setup == found.setup
    files["Procfile"] = files["Procfile"].replace(b"manage.py migrate", b"seed.py")
    seeding = detect(files)  # a release line that does not migrate: not that set-up's
    assert ("sh", "-c", "python seed.py") in seeding.setup
    assert ("sh", "-c", "python seed.py") not in seeding.data_setup


def test_plain_alembic_in_migrations_below_and_cli_names() -> None:
    app = "from fastapi import FastAPI\napp = FastAPI()\n"
    files = {
        "svc/main.py": app.encode(),
        "svc/migrations/alembic.ini": b"[alembic]\nscript_location = .\n",
        "svc/migrations/env.py": b"from alembic import context\n",
    }
    steps = data_steps(files, "svc/main.py", find_app(files))
    # (script_location = . is read from where it runs: its own folder, the project's on
    # the path; test_batch24_fastapi_shapes.py runs one)
    assert [(s.argv[-5:], s.where) for s in steps] == [
        (("{python}", "-m", "alembic.config", "upgrade", "heads"), "svc/migrations")
    ]
    written_from_above = b"[alembic]\nscript_location = migrations\n"
    files["svc/migrations/alembic.ini"] = written_from_above
    steps = data_steps(files, "svc/main.py", find_app(files))
    ini = ("-c", "migrations/alembic.ini")
    assert [(s.argv, s.where) for s in steps] == [
        (("{python}", "-m", "alembic.config", *ini, "upgrade", "heads"), "svc")
    ]
    quart = (
        "from quart import Quart\napp = Quart(__name__)\n"
        "@app.cli.command()\nasync def init_db_command():\n    pass\n"
        "@app.cli.command('seed')\ndef fill():\n    pass\n"
    )
    files = {"app.py": quart.encode()}
    steps = data_steps(files, "app.py", find_app(files))
    assert [s.argv[1:] for s in steps] == [
        ("QUART_APP=app:app", "{python}", "-m", "quart", "init-db"),
        ("QUART_APP=app:app", "{python}", "-m", "quart", "seed"),
    ]
    # A library module named like a script, doing nothing when run, is not one.
    files = {"main.py": app.encode(), "init_db.py": b"def init():\n    pass\n"}
    assert data_steps(files, "main.py", find_app(files)) == []


def test_a_module_the_readme_runs_to_migrate_is_a_data_step() -> None:
    """gogognome's assessment-fastapi: "To apply the migration scripts to the configured
    database, run this command: python -m songs_api.apply_migrations"; nothing else made
    its tables, its route answered 500 "no such table". The module the README runs is the
    init step, in the README's folder; a seed script it runs after it; not a module the
    upload lacks, one doing nothing when run, nor one whose name says neither."""
    main = "from fastapi import FastAPI\napp = FastAPI()\n"
    migrate = "def apply():\n    pass\n\nif __name__ == '__main__':\n    apply()\n"
    readme = (
        "Install:\n\n    poetry install --no-root\n\n"
        "To apply the migration scripts, run this command:\n\n"
        "    python -m songs_api.apply_migrations\n\n"
        "Some rows:\n\n```\n$ python scripts/seed_songs.py --count 3  # a few\n```\n"
        "Then `python -m songs_api.report` and `fastapi dev songs_api/main.py`.\n"
    )
    files = {
        "README.md": readme.encode(),
        "songs_api/__init__.py": b"",
        "songs_api/main.py": main.encode(),
        "songs_api/apply_migrations.py": migrate.encode(),
        "songs_api/report.py": migrate.encode(),
        "scripts/seed_songs.py": migrate.encode(),
    }
    steps = data_steps(files, "songs_api/main.py", find_app(files))
    assert [(s.argv, s.where) for s in steps] == [
        (("{python}", "-m", "songs_api.apply_migrations"), ""),
        (("{python}", "scripts/seed_songs.py", "--count", "3"), ""),
    ]
    assert "python -m songs_api.apply_migrations" in steps[0].what
    files["songs_api/apply_migrations.py"] = b"def apply():\n    pass\n"
    del files["scripts/seed_songs.py"]
    assert data_steps(files, "songs_api/main.py", find_app(files)) == []


def test_the_readmes_later_runs_of_its_migration_script_follow_its_first() -> None:
    """SandPipper's VerySimpleFlaskApp: its README runs ``python migrate.py db init``, then
    ``db migrate`` and ``db upgrade`` (Flask-Script's manager, no migrations/ committed);
    the first alone ran, and no table was made. Each of the same script's runs, in order;
    another migration script's not."""
    manage = (
        "from flask_script import Manager\nmanager = Manager(app)\n"
        "if __name__ == '__main__':\n    manager.run()\n"
    )
    readme = (
        "Initialize data base and start migration script:\n\n```\n"
        "python migrate.py db init\npython migrate.py db migrate\npython migrate.py db upgrade\n"
        "python migrate.py db init\npython other_migrate.py\n```\n"
    )
    files = {
        "README.md": readme.encode(),
        "migrate.py": manage.encode(),
        "other_migrate.py": manage.encode(),
        "app/__init__.py": b"from flask import Flask\napp = Flask(__name__)\n",
    }
    steps = data_steps(files, "app/__init__.py", find_app(files))
    assert [s.argv for s in steps] == [
        ("{python}", "migrate.py", "db", "init"),
        ("{python}", "migrate.py", "db", "migrate"),
        ("{python}", "migrate.py", "db", "upgrade"),
    ]


def test_missing_tables_hints() -> None:
    assert "only under" in missing_tables_hint(_files("flask_mainonly"), [])
    assert "nothing initialises" in missing_tables_hint({"main.py": b""}, [])
    assert "check that the migrations" in missing_tables_hint({}, ["alembic upgrade head"])


async def _proxied(service: Service, body: dict[str, Any], path: str) -> dict[str, Any]:
    answer = await service.client.post(
        f"/api/generations/{body['gid']}/preview/request",
        json={"method": "GET", "path": path},
        headers={**auth(), "X-Preview-Token": body["previewToken"]},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _healthy(
    service: Service, name: str, path: str, files: dict[str, str] | None = None
) -> tuple[list[Any], list[dict]]:
    body = await launched(service, files if files is not None else app_files(name))
    assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
    answer = await _proxied(service, body, path)
    assert answer["statusCode"] == 200, answer
    events = await service.history(body["gid"])
    assert (await service.stop(body["gid"])).status_code == 200
    return answer["data"], events


async def test_django_started_by_a_procfile_is_migrated(builder_service: Service) -> None:
    with trio.fail_after(BUILD_WAIT):
        data, events = await _healthy(builder_service, "django_procfile", "/api/notes/")
        assert data == []
        assert any("Applying notes.0001_initial" in m for m in messages(events, "setup"))


async def test_django_before_3_is_migrated_without_skip_checks(builder_service: Service) -> None:
    """rickzzdev's apiErpDjango: Django 2.2 (a fix's ``Django<3``, for
    django-rest-swagger's ``django.utils.six``) has no ``--skip-checks``, and its migrate
    failed on "unrecognized arguments". The environment's Django decides, not the pins."""
    files = app_files("django_procfile")
    files["requirements.txt"] = "Django==2.2.28\ndjangorestframework==3.12.4\ngunicorn>=21\n"
    migration = files["notes/migrations/0001_initial.py"]
    files["notes/migrations/0001_initial.py"] = migration.replace("BigAutoField", "AutoField")
    settings = files["mysite/settings.py"]
    files["mysite/settings.py"] = settings.replace('"django.db.models.BigAutoField"', "None")
    with trio.fail_after(BUILD_WAIT):
        data, events = await _healthy(builder_service, "", "/api/notes/", files)
        assert data == []
        said = messages(events, "setup")
        assert any("Applying notes.0001_initial" in m for m in said), said
        assert " + django==2.2.28" in messages(events, "build")


async def test_django_unmanaged_models_get_their_tables(builder_service: Service) -> None:
    """JmeterChen's drfdemo keeps inspectdb's models of its author's database (``managed =
    False``, ``db_table = "tb_user"``): migrate makes no table for them, and their route
    answered 500 ("Table 'students.tb_user' doesn't exist"). After migrate, an unmanaged
    model's missing table is made."""
    files = app_files("django_procfile")
    files["notes/models.py"] += (
        "\n    class Meta:\n        managed = False\n        db_table = 'legacy_notes'\n"
    )
    steps = detect({p: t.encode() for p, t in files.items()}).setup_steps()
    assert [argv[:3] for argv, _ in steps][-1] == ("{python}", "-c", UNMANAGED_TABLES)
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await _proxied(service, body, "/api/notes/")
        assert (answer["statusCode"], answer["data"]) == (200, []), answer
        said = messages(await service.history(body["gid"]), "setup")
        assert any("unmanaged models' tables made: legacy_notes" in m for m in said), said
        assert (await service.stop(body["gid"])).status_code == 200


async def test_django_fixtures_are_loaded_after_migrate(builder_service: Service) -> None:
    """NikitaDid's DjangoBlogAPI ships its pages as fixtures (data/home.json: the page its
    "/" looks up) and no step that loads them: "Page matching query does not exist" on an
    empty database. Its fixtures are loaded after migrate, in one call (the second file's
    row refers to the first's by key, loaded in name order after it); a JSON of another
    shape, or a test's fixture, is not one."""
    files = app_files("django_procfile")
    files["notes/models.py"] = files["notes/models.py"].rstrip("\n") + (
        "\n    parent = models.ForeignKey('self', null=True, on_delete=models.CASCADE)\n"
    )
    files["notes/migrations/0002_parent.py"] = _PARENT_MIGRATION
    files["data/a_child.json"] = (
        '[{"model": "notes.note", "pk": 2, "fields": {"text": "child", "parent": 7}}]'
    )
    files["data/b_parent.json"] = '[{"model": "notes.note", "pk": 7, "fields": {"text": "top"}}]'
    files["data/settings.json"] = '[{"name": "not a fixture"}]'
    files["notes/tests/fixtures/x.json"] = '[{"model": "notes.note", "fields": {"text": "t"}}]'
    found = detect({p: t.encode() for p, t in files.items()})
    assert found.setup_steps()[-1][0][2] == LOAD_FIXTURES
    assert found.setup_steps()[-1][0][-2:] == ("data/a_child.json", "data/b_parent.json")
    assert found.setup[-1] in found.optional  # its rows are to look at, not to serve
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await _proxied(builder_service, body, "/api/notes/")
        said = messages(await builder_service.history(body["gid"]), "setup")
        rows = [{"id": 2, "text": "child"}, {"id": 7, "text": "top"}]
        assert answer["data"] == rows, "\n".join(said[-8:])
        assert (await builder_service.stop(body["gid"])).status_code == 200


_PARENT_MIGRATION = """from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    dependencies = [("notes", "0001_initial")]
    operations = [
        migrations.AddField(
            model_name="note",
            name="parent",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, to="notes.note"
            ),
        ),
    ]
"""


async def test_flask_migrate_is_upgraded(builder_service: Service) -> None:
    with trio.fail_after(BUILD_WAIT):
        data, events = await _healthy(builder_service, "flask_migrate", "/posts")
        assert data == ["migrated"]
        assert any("flask db upgrade" in m for m in messages(events, "system"))


async def test_flask_migrate_runs_for_a_root_packages_module(builder_service: Service) -> None:
    """hasankhaan107's Basic-Flask-CRUD: its root's ``__init__.py`` makes the app's factory
    and ``app.py`` does ``from . import create_app``, served as ``uploaded_app.app``; Flask's
    CLI walked up from that dotted name through the root's ``__init__.py`` ("Could not
    import 'preview_….uploaded_app.app'", then "No such command 'db'"). The CLI reads it
    as the module it names, and the history runs."""
    files = {path.removeprefix("blog/"): text for path, text in app_files("flask_migrate").items()}
    files["app.py"] = "from . import create_app\n\napp = create_app()\n"
    found = detect({p: t.encode() for p, t in files.items()})
    assert found.argv[-1] == "uploaded_app.app:app", found.argv
    assert "prepare_import" in found.setup[0][4], found.setup
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await _proxied(builder_service, body, "/posts")
        assert answer["statusCode"] == 200 and answer["data"] == ["migrated"], answer
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_a_flask_migrate_history_altering_tables_nothing_creates_gets_its_models(
    builder_service: Service,
) -> None:
    """saravanan-architect's flask-smorest-api: its one revision adds a column to ``items``
    (``batch_alter_table``, SQLite's way), which no revision creates: its author's
    create_all() made it. Its models' tables are made and its history stamped instead."""
    files = app_files("flask_migrate")
    revision = "migrations/versions/3f1c2a7b9d01_posts.py"
    files[revision] = files[revision].split("def upgrade():")[0] + (
        "def upgrade():\n"
        '    with op.batch_alter_table("post", schema=None) as batch_op:\n'
        '        batch_op.add_column(sa.Column("title", sa.String(200), nullable=False))\n'
    )
    await _made_from_models_and_stamped(builder_service, files)


async def _made_from_models_and_stamped(service: Service, files: dict[str, str]) -> None:
    """``files`` (the flask_migrate fixture's, its history changed) set up by its models'
    tables and a stamp, not by its history's upgrade; launched, its /posts empty."""
    steps = detect({p: t.encode() for p, t in files.items()}).setup_steps()
    assert [argv[2:5] for argv, _ in steps] == [
        ("{python}", "-c", CREATE_ALL),
        ("{python}", "-m", "flask"),
    ]
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/posts"))["data"] == []
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_flask_migrate_history_creating_a_table_twice_gets_its_models(
    builder_service: Service,
) -> None:
    """timmy0801's flaskdemo: its second revision, autogenerated against a database its
    author had emptied, creates ``products`` and ``users`` again ("relation "products"
    already exists"); its seed then met no users table. Along a history's line, a
    revision creating a table one before it made and none dropped: its models' tables are
    made and its history stamped instead. A table dropped between is made again."""
    files = app_files("flask_migrate")
    again = (
        '"""posts again"""\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        'revision = "9a8b7c6d5e4f"\ndown_revision = "3f1c2a7b9d01"\n'
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n"
        '    op.create_table("post", sa.Column("id", sa.Integer(), nullable=False),\n'
        '                    sa.Column("title", sa.String(200), nullable=False),\n'
        '                    sa.PrimaryKeyConstraint("id"))\n'
    )
    files["migrations/versions/9a8b7c6d5e4f_posts_again.py"] = again
    dropped = again.replace("def upgrade():\n", 'def upgrade():\n    op.drop_table("post")\n')
    redone = {**files, "migrations/versions/9a8b7c6d5e4f_posts_again.py": dropped}
    steps = detect({p: t.encode() for p, t in redone.items()}).setup_steps()
    assert [argv[-3:] for argv, _ in steps] == [("db", "upgrade", "heads")], steps
    await _made_from_models_and_stamped(builder_service, files)


async def test_a_flask_migrate_history_begun_twice_is_upgraded_to_one_of_its_heads(
    builder_service: Service,
) -> None:
    """Buffito's Flask-Finance-Api: two revisions revising none, each creating the same
    tables; ``flask db upgrade heads`` fails on SQLite ("table … already exists") after
    the first made its tables. Those are undone and each head upgraded alone."""
    files = app_files("flask_migrate")
    first = files["migrations/versions/3f1c2a7b9d01_posts.py"]
    files["migrations/versions/9e8d7c6b5a40_again.py"] = first.replace(
        "3f1c2a7b9d01", "9e8d7c6b5a40"
    ).replace('"migrated"', '"begun again"')
    steps = detect({p: t.encode() for p, t in files.items()}).setup_steps()
    [(argv, _)] = steps
    assert argv[4].startswith("# flask db upgrade heads, else each head alone"), argv
    assert argv[5:] == ("3f1c2a7b9d01", "9e8d7c6b5a40")
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/posts"))["data"] == ["migrated"]
        said = messages(await service.history(body["gid"]), "setup")
        assert any(m.endswith("upgraded to 3f1c2a7b9d01 alone") for m in said), said[-5:]
        assert (await service.stop(body["gid"])).status_code == 200


async def test_flask_migrate_registered_by_a_second_app_is_upgraded(
    builder_service: Service,
) -> None:
    with trio.fail_after(BUILD_WAIT):
        data, _ = await _healthy(builder_service, "flask_migrate_manage", "/posts")
        assert data == ["migrated"]


async def test_flask_init_db_command_is_run(builder_service: Service) -> None:
    with trio.fail_after(BUILD_WAIT):
        data, events = await _healthy(builder_service, "flask_initdb", "/notes")
        assert data == ["first"]
        assert "Initialized the database." in messages(events, "setup")


async def test_init_script_is_run(builder_service: Service) -> None:
    with trio.fail_after(BUILD_WAIT):
        data, events = await _healthy(builder_service, "fastapi_initscript", "/items")
        assert data == ["seeded"]
        assert "tables created" in messages(events, "setup")


async def test_a_top_level_create_db_script_is_run(builder_service: Service) -> None:
    with trio.fail_after(BUILD_WAIT):
        data, events = await _healthy(builder_service, "flask_create_db_script", "/")
        assert data == ["created"]
        assert "tables created" in messages(events, "setup")


async def test_missing_tables_are_diagnosed_in_the_log(builder_service: Service) -> None:
    """Its tables made under run.py's ``__main__``, its models imported by its route alone:
    the step making its models' tables finds none once the app is imported, the start goes
    on, and its 500 is diagnosed, naming run.py (said before it serves too)."""
    service = builder_service
    files = dict(_MODELS_IMPORTED_BY_ITS_ROUTE)
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await _proxied(service, body, "/todos")
        assert answer["statusCode"] == 500
        diagnosis = await service.first_system_line(body["gid"], "diagnosis:")
        assert diagnosis.startswith("diagnosis: GET /todos answered 500"), diagnosis
        assert "its table todo does not exist" in diagnosis
        assert "run.py creates its tables (create_all()) only under" in diagnosis
        system = messages(await service.history(body["gid"]), "system")
        assert any(m.startswith("nothing initialises the app's data: run.py") for m in system)
        assert (await service.stop(body["gid"])).status_code == 200
        # A Flask app's: created by the step, as `python app.py` would have (REST-auth).
        data, _ = await _healthy(service, "flask_mainonly", "/todos")
        assert data == []
        # Its models imported with the app: their tables made by the step.
        made = {p: t.decode() for p, t in _tables_made_by_another_module().items()}
        body = await launched(service, made)
        answer = await _proxied(service, body, "/todos")
        assert (answer["statusCode"], answer["data"]) == (200, []), answer
        said = messages(await service.history(body["gid"]), "setup")
        assert any("its models' tables made" in m for m in said), said[-5:]
        assert (await service.stop(body["gid"])).status_code == 200


# Its tables made under run.py's __main__ block, its models imported by its route alone.
_MODELS_IMPORTED_BY_ITS_ROUTE = {
    "main.py": """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/todos")
def todos() -> list[str]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from models import Todo, engine

    with Session(engine) as session:
        return [t.text for t in session.scalars(select(Todo))]
""",
    "models.py": """\
import ast
import os

from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import declarative_base

engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///todo.db"))
Base = declarative_base()


class Todo(Base):
    __tablename__ = "todo"
    id = Column(Integer, primary_key=True)
    text = Column(String(200), nullable=False)
""",
    "run.py": """\
from main import app
from models import Base, engine

if __name__ == "__main__":
    import uvicorn

    Base.metadata.create_all(engine)
    uvicorn.run(app)
""",
    "requirements.txt": "fastapi\nuvicorn\nSQLAlchemy>=2.0\n",
}


async def test_tables_made_in_the_app_modules_main_block_are_made(
    builder_service: Service,
) -> None:
    """The app module's ``__main__`` block makes its tables, itself (create_all() before
    uvicorn.run) or through the function it calls (peewee's create_tables() in main(),
    then app.run()): a set-up step runs it as ``python -m`` would, its server not
    started (sinisaos' simple-piccolo, peewee's blog example)."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        data, events = await _healthy(service, "fastapi_mainonly", "/todos")
        assert data == []
        setup = messages(events, "setup")
        assert any("its server is not started by this step" in m for m in setup), setup
        data, _ = await _healthy(service, "flask_peewee_main", "/notes")
        assert data == ["made by main()"]


def test_tables_made_by_sql_in_the_main_block_are_made() -> None:
    """Ahmad-Faraj's flask-sqlite-auth: ``init_db()`` runs ``cursor.execute("CREATE TABLE IF
    NOT EXISTS users …")`` (sqlite3), called in its ``__main__`` block before ``app.run()``;
    under a server importing it, "no such table: users". A query that makes nothing is no
    such step."""
    init = b"""import sqlite3
from flask import Flask
app = Flask(__name__)
def init_db():
    conn = sqlite3.connect("university.db")
    conn.cursor().execute(
        "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)"
    )
    conn.commit()
if __name__ == "__main__":
    init_db()
    app.run()
"""
    files = {"app.py": init, "requirements.txt": b"flask\n"}
    [(argv, where)] = detect(files).setup_steps()
    assert (argv[:2], argv[3:], where) == (("{python}", "-c"), ("app",), "")
    selects = init.replace(
        b"CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)", b"SELECT 1"
    )
    assert detect({**files, "app.py": selects}).setup_steps() == []


def test_a_script_making_the_tables_in_sql_is_run_as_its_author_runs_it() -> None:
    """leisenhour2's python_task_manager-FastAPI-SQLite-: database.py's ``__main__`` block
    calls its ``create_table()`` (``CREATE TABLE IF NOT EXISTS tasks``, sqlite3), which its
    author runs by hand; nothing else makes the table ("no such table: tasks"). Where
    another module calls that function (the app makes it as it runs), no step."""
    database = b"""import sqlite3
def connection():
    return sqlite3.connect("db/tasks.db")
def create_table():
    connection().execute(
        \"\"\"
        CREATE TABLE IF NOT EXISTS tasks(id INTEGER PRIMARY KEY, name TEXT)
        \"\"\"
    )
    print("Tasks table ready")
if __name__ == "__main__":
    create_table()
"""
    main = b"from fastapi import FastAPI\nimport database\napp = FastAPI()\n"
    files = {"database.py": database, "main.py": main, "requirements.txt": b"fastapi\n"}
    assert detect(files).setup_steps() == [(("{python}", "database.py"), "")]
    itself = main + b"database.create_table()\n"
    assert detect({**files, "main.py": itself}).setup_steps() == []
    # a-watkin's flask-photo-site: another module's method calls it, itself called only
    # from that module's own __main__ block ("no such table: tag"): still run by hand.
    by_hand = b"""from database import create_table
class Store:
    def make(self):
        create_table()
if __name__ == "__main__":
    Store().make()
"""
    both = {**files, "store.py": by_hand}
    assert detect(both).setup_steps() == [(("{python}", "database.py"), "")]
    served = {**both, "main.py": main + b"import store\nstore.Store().make()\n"}
    assert detect(served).setup_steps() == []
    routed = b"import database\n@app.get('/init')\ndef init():\n    database.create_table()\n"
    assert detect({**files, "main.py": main + routed}).setup_steps() == []


async def test_a_script_that_only_makes_the_tables_is_run_as_its_author_runs_it(
    builder_service: Service,
) -> None:
    """luisnquin's fastapi-restapi-sqlalchemy-v2: src/db/migrations.py, a script its
    author runs by hand, makes the tables in its ``__main__`` block (``from connection
    import engine``: its own folder on the import path); nothing else does, and every
    route answered 500. It is run as a script before the app starts; a module whose
    ``__main__`` block does more (a server, an assignment) is not."""
    files = {p: t.encode() for p, t in app_files("fastapi_table_script").items()}
    found = detect(files)
    assert found.setup_steps() == [(("{python}", "app/db/tables.py"), "")]
    served = b"from models import Base, engine\nif __name__ == '__main__':\n"
    for body in (
        b"    Base.metadata.create_all(engine)\n    uvicorn.run(app)\n",
        b"    Base.metadata.create_all(engine)\n    x = 1\n",
        b"    print('nothing made')\n",
    ):
        other = {**files, "app/db/tables.py": served + body}
        assert found.setup_steps() != detect(other).setup_steps()
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        data, events = await _healthy(service, "fastapi_table_script", "/notes")
        assert data == []
        assert "tables made" in messages(events, "setup")


BASE_MODULE = b"from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n"
REPO_MODULE = b"""from sqlalchemy import create_engine
from settings import DB_URL
from app.models.base import Base

class PostgresRepo:
    def __init__(self, url: str = DB_URL):
        self._engine = create_engine(url)

    def create_tables(self) -> None:
        Base.metadata.create_all(bind=self._engine)

if __name__ == "__main__":
    repo = PostgresRepo(url=DB_URL)
    repo.create_tables()
"""


def test_a_script_making_tables_through_its_own_method_runs_from_the_root() -> None:
    """chanikarnock's workout-tracker-fastapi: app/databases/postgres.py's ``__main__``
    block builds its ``PostgresRepo`` and calls its ``create_tables()`` (create_all in a
    method nothing else calls); its modules import the root's ``settings`` and ``app``:
    run as ``python -m`` from the root. Not where the method is also the app's as it runs
    (named elsewhere, or a decorated hook)."""
    files = {
        "requirements.txt": b"fastapi\nsqlalchemy\npsycopg2-binary\n",
        "settings.py": b"DB_URL = 'postgresql://u:p@localhost/app'\n",
        "app/__init__.py": b"",
        "app/models/__init__.py": b"",
        "app/models/base.py": BASE_MODULE,
        "app/databases/__init__.py": b"",
        "app/databases/postgres.py": REPO_MODULE,
        "app/main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
    }
    assert main_only_create_all(files) == "app/databases/postgres.py"
    ((argv, folder),) = detect(files).setup_steps()
    # (the app's module imported first: its models, which the script's imports leave out)
    assert argv[:2] == ("{python}", "-c") and folder == "", argv
    assert argv[2].index("import app.main") < argv[2].index(
        "runpy.run_module('app.databases.postgres', run_name='__main__'"
    )
    used = {**files, "app/main.py": files["app/main.py"] + b"PostgresRepo().create_tables()\n"}
    assert main_only_create_all(used) is None
    hooked = REPO_MODULE.replace(
        b"    def create_tables", b"    @staticmethod\n    def create_tables"
    )
    assert main_only_create_all({**files, "app/databases/postgres.py": hooked}) is None


_WRAPPED_MIGRATE = b"""\
import sys
from functools import wraps

from app import app, db


def with_app_context(f):
    @wraps(f)
    def decorated(*args, **kwargs):
        with app.app_context():
            f(*args, **kwargs)
    return decorated


@with_app_context
def migrate():
    db.drop_all()
    db.create_all()


if __name__ == "__main__":
    if "--migrate" in sys.argv or "-m" in sys.argv:
        migrate()
"""


def test_create_all_in_a_function_wrapped_by_its_own_decorator_is_the_scripts_alone() -> None:
    """erikborella's simple-flask-chat-api: db_utils.py's ``migrate()`` (``drop_all``,
    ``create_all``), wrapped by the module's own ``@with_app_context``, runs only from its
    ``__main__`` block (``--migrate``): taken for a framework's hook, nothing made its
    tables ("no such table: room"). Its create_all() is the step's; a framework's
    decorator (a CLI command) still makes it the app's own."""
    app = (
        b"from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
        b"app = Flask(__name__)\ndb = SQLAlchemy(app)\n"
    )
    files = {"requirements.txt": b"flask\nflask-sqlalchemy\n", "app.py": app}
    files["db_utils.py"] = _WRAPPED_MIGRATE
    assert main_only_create_all(files) == "db_utils.py"
    found = detect(files)
    assert found.data_init == (
        "Flask-SQLAlchemy's create_all() (db_utils.py calls it only under __main__)",
    )
    assert found.setup[0][-1] == CREATE_ALL
    command = _WRAPPED_MIGRATE.replace(b"@with_app_context", b"@app.cli.command()")
    assert main_only_create_all({**files, "db_utils.py": command}) is None


async def test_a_table_script_making_other_tables_runs_after_the_init_command(
    builder_service: Service,
) -> None:
    """ChaoticML's flask-finance-tracker: ``flask init-db`` makes one table and a script
    run by hand (``CREATE TABLE IF NOT EXISTS``) another; both run, the command first.
    A script whose table is made unconditionally is left to the command."""
    files = {p: t.encode() for p, t in app_files("flask_initdb_table_script").items()}
    steps = detect(files).setup_steps()
    assert [argv[-1] for argv, _ in steps] == ["init-db", "add_tags_table.py"], steps
    always = files["add_tags_table.py"].replace(b" IF NOT EXISTS", b"")
    steps = detect({**files, "add_tags_table.py": always}).setup_steps()
    assert [argv[-1] for argv, _ in steps] == ["init-db"], steps
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("flask_initdb_table_script"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await _proxied(service, body, "/summary")
        assert answer["statusCode"] == 200, answer
        assert answer["data"] == {"entries": 0, "tags": 0}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_flask_migrates_env_py_kept_out_by_a_gitignore_is_its_own_template(
    builder_service: Service,
) -> None:
    """ricoputrap's flask-rest-api-modular: its .gitignore's ``env*`` kept
    migrations/env.py out of the repository; Alembic, run on migrations/alembic.ini, found
    "No 'script_location' key". The step writes back Flask-Migrate's own env.py template
    from the installed package, then upgrades."""
    files = app_files("flask_migrate")
    del files["migrations/env.py"]
    steps = detect({p: t.encode() for p, t in files.items()}).setup_steps()
    assert len(steps) == 1 and "flask_migrate.__file__" in steps[0][0][2]
    assert steps[0][0][-4:] == ("flask", "db", "upgrade", "heads")
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/posts"))["data"] == ["migrated"]
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_console_script_named_init_db_is_an_init_command() -> None:
    """pallets/quart's blog example: ``[tool.poetry.scripts] init_db = "blog:init_db"``."""
    app = "from quart import Quart\napp = Quart(__name__)\ndef init_db():\n    pass\n"
    pyproject = '[tool.poetry.scripts]\ninit_db = "blog:init_db"\nstart = "blog:run"\n'
    files = {"src/blog/__init__.py": app.encode(), "pyproject.toml": pyproject.encode()}
    found = detect(files)
    assert found.setup_steps() == [
        (("{python}", "-c", "from blog import init_db; init_db()"), "src")
    ]
    assert found.data_init == ("the project's init_db script",)


def test_commands_that_need_arguments_or_answers_are_not_run() -> None:
    base = "import click\nfrom flask import Flask\napp = Flask(__name__)\n"
    for decorators in (
        '@click.argument("count")',
        '@click.option("--admin", required=True)',
        '@click.option("--password", prompt=True)',
        "@click.confirmation_option()",
    ):
        source = f'{base}@app.cli.command("seed")\n{decorators}\ndef seed(**kw):\n    pass\n'
        files = {"app.py": source.encode()}
        assert data_steps(files, "app.py", find_app(files)) == [], decorators
    source = (
        f'{base}@app.cli.command("seed")\n@click.option("--n", default=3)\ndef seed(n):\n    pass\n'
    )
    files = {"app.py": source.encode()}
    assert [s.argv[-1] for s in data_steps(files, "app.py", find_app(files))] == ["seed"]


def test_an_init_function_nothing_calls_is_called_and_named_in_the_hint() -> None:
    """It is the set-up step (tests/runtime/test_batch24_fastapi_shapes.py); where none
    ran, the hint names it."""
    files = {
        "main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
        "app/database.py": b"def init_db():\n    Base.metadata.create_all(engine)\n",
    }
    (step,) = data_steps(files, "main.py", find_app(files))
    assert step.argv[-1].endswith("\nfrom app.database import init_db; init_db()")
    assert missing_tables_hint(files, []) == (
        "app.database.init_db() looks like what creates them, but nothing calls it before the "
        'app serves: relaunch with the launch option setup ["{python}", "-c", '
        '"from app.database import init_db; init_db()"]'
    )


def test_a_function_doing_nothing_but_make_the_tables_is_called_whatever_its_name() -> None:
    """sixfwa's fastapi-postgres-docker: services.py defines ``_add_tables()`` (``return
    Base.metadata.create_all(bind=engine)``), for its author's shell; nothing calls it and
    its one route answered 500, relation "contacts" does not exist. Its name is none of the
    init names: what it does makes it one. A function doing more (starting a server, making
    the app) is not called for it, and one taking an argument is not either."""
    tables = (
        b"import database as _database\n\n\ndef _add_tables():\n"
        b"    return _database.Base.metadata.create_all(bind=_database.engine)\n"
    )
    files = {"main.py": b"from fastapi import FastAPI\napp = FastAPI()\n", "services.py": tables}
    (step,) = data_steps(files, "main.py", find_app(files))
    assert step.argv[-1].endswith("\nfrom services import _add_tables; _add_tables()")
    assert step.argv in optional_steps(files, ("uvicorn", "main:app"), (step.argv,))
    for body in (
        b"def serve():\n    Base.metadata.create_all(engine)\n    uvicorn.run(app)\n",
        b"def make(engine):\n    Base.metadata.create_all(engine)\n",
    ):
        assert data_steps({**files, "services.py": body}, "main.py", find_app(files)) == []


async def test_missing_table_messages_of_each_database_are_diagnosed() -> None:
    from preview.runtime.datahealth import MissingTables

    for line, table in (
        ("sqlite3.OperationalError: no such table: todo", "todo"),
        ('psycopg.errors.UndefinedTable: relation "public.items" does not exist', "public.items"),
        ("pymysql.err.ProgrammingError: (1146, \"Table 'app.users' doesn't exist\")", "app.users"),
    ):
        said: list[str] = []

        async def say(level: str, message: str, said: list[str] = said) -> None:
            said.append(message)

        spec = type("Spec", (), {"detection": None, "files": {}})()
        watch = MissingTables(spec, say)
        await watch.answered("GET", "/x", 200)
        await watch.lines(["INFO started", line])
        assert said == []  # no 5xx yet
        await watch.answered("GET", "/x", 500)
        await watch.answered("GET", "/y", 500)
        assert len(said) == 1 and f"its table {table} does not exist" in said[0], said


async def test_an_alembic_history_with_two_heads_is_upgraded_to_both(
    builder_service: Service,
) -> None:
    """Two branches never merged: ``upgrade head`` refuses them, ``upgrade heads`` runs both."""
    files = _files("alembic_two_heads")
    assert alembic_heads(files, "") == ["a1b2c3d4e5f6", "f6e5d4c3b2a1"]
    [(argv, where)] = detect(files).setup_steps()
    assert (argv[:2], argv[-1], where) == (("{python}", "-c"), "alembic.ini", "")
    assert argv[2].startswith("# alembic upgrade heads, else each head alone (longest")
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("alembic_two_heads"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/items"))["data"] == ["from the first head"]
        assert (await _proxied(service, body, "/tags"))["data"] == ["from the second head"]
        assert (await service.stop(body["gid"])).status_code == 200


async def test_alembic_runs_where_its_env_imports_resolve(builder_service: Service) -> None:
    """backend/'s alembic.ini (app/alembic) and app/alembic.ini (alembic): the step runs
    at the top, where env.py's `from app.models import engine` resolves, not in app/,
    where the history's own alembic/__init__.py would shadow Alembic."""
    files = _files("alembic_backend_two_inis")
    assert detect(files).setup_steps() == [
        (("{python}", "-m", "alembic.config", "upgrade", "heads"), "")
    ]
    # Alone, app/alembic.ini is run there with Alembic imported before its directory.
    del files["alembic.ini"]
    [(argv, where)] = detect(files).setup_steps()
    assert (argv[:2], argv[-4:], where) == (
        ("{python}", "-c"),
        ("-c", "alembic.ini", "upgrade", "heads"),
        "app",
    )
    assert argv[2].startswith("import sys; here = sys.path.pop(0); import alembic.config")
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("alembic_backend_two_inis"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/items"))["data"] == ["migrated from the top"]
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_history_begun_twice_is_upgraded_to_one_of_its_heads(
    builder_service: Service,
) -> None:
    """Two "init" revisions creating the same table: ``upgrade heads`` fails; each head
    alone is tried, and the first that upgrades is kept, said in the step's output."""
    assert alembic_heads(_files("alembic_duplicate_heads"), "") == [
        "1b2c3d4e5f6a",
        "9f8e7d6c5b4a",
    ]
    with trio.fail_after(BUILD_WAIT):
        data, events = await _healthy(builder_service, "alembic_duplicate_heads", "/items")
        said = messages(events, "setup")
        assert data == ["first init"], said
        told = [m for m in said if "heads do not upgrade together" in m]
        assert told and told[0].endswith("upgraded to 1b2c3d4e5f6a alone"), said[-5:]


def test_flask_migrate_without_migrations_gets_create_all() -> None:
    """Flask-Migrate declared, no migrations/ committed: the app's own db.create_all();
    not for an app that creates its tables itself (only under __main__: the hint's)."""
    found = detect(_files("flask_migrate_nofolder"))
    [(argv, where)] = found.setup_steps()
    assert (argv[:4], argv[-1], where) == (
        ("env", "FLASK_APP=wsgi:app", "{python}", "-c"),
        CREATE_ALL,
        "",
    )
    assert found.data_init == (
        "Flask-SQLAlchemy's create_all() (Flask-Migrate without migrations/)",
    )
    files = _files("flask_migrate_nofolder")
    files["migrations/alembic.ini"] = b"[alembic]\n"  # migrations it has, unrunnable: not ours
    assert not any(CREATE_ALL in step for step in detect(files).setup)
    # `flask db init` run, `flask db migrate` never (mzb527's FlaskWorkout: no versions/):
    # upgraded, it made nothing and every route answered 500 "no such table".
    initialised = {**_files("flask_migrate_nofolder"), "migrations/alembic.ini": b"[alembic]\n"}
    initialised["migrations/env.py"] = _files("flask_migrate")["migrations/env.py"]
    found = detect(initialised)
    [(argv, _)] = found.setup_steps()
    assert argv[-1] == CREATE_ALL and found.data_init == (
        "Flask-SQLAlchemy's create_all() (Flask-Migrate's migrations/ holds no revision)",
    )
    revised = {**initialised, "migrations/versions/0001_items.py": b"revision = '0001'\n"}
    [(argv, _)] = detect(revised).setup_steps()
    assert argv[-3:] == ("db", "upgrade", "heads"), argv


async def test_flask_migrate_without_migrations_is_created(builder_service: Service) -> None:
    with trio.fail_after(BUILD_WAIT):
        data, events = await _healthy(builder_service, "flask_migrate_nofolder", "/items")
        assert data == []
        assert "created the tables of its models: item" in messages(events, "setup")
        assert any("db.create_all()" in m for m in messages(events, "system"))


async def test_a_table_the_database_refuses_leaves_the_others_created(
    builder_service: Service,
) -> None:
    """One model's table is refused (a CHECK its database cannot read): create_all()
    stops there; each other table is made alone, the refused one named, the app served."""
    files = app_files("flask_migrate_nofolder")
    files["shop/broken.py"] = (
        "from . import db\n\n\nclass Broken(db.Model):\n"
        '    __table_args__ = (db.CheckConstraint("price > > 0"),)\n'
        "    id = db.Column(db.Integer, primary_key=True)\n"
        "    price = db.Column(db.Integer)\n"
    )
    files["shop/__init__.py"] = files["shop/__init__.py"].replace(
        "from .models import Item\n", "from .models import Item\n    from . import broken\n"
    )
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/items"))["data"] == []
        setup = messages(await service.history(body["gid"]), "setup")
        assert "created the tables of its models: item" in setup, setup[-8:]
        assert any(m.startswith("not created: broken (its database refuses") for m in setup)
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_history_with_no_revision_gets_one_made_from_its_models(
    builder_service: Service,
) -> None:
    """FastAPI-boilerplate: ``migrations/versions`` holds only a README (its own README
    says to autogenerate the first revision), so ``upgrade heads`` created nothing and
    every data route answered 500. A first revision is autogenerated, then upgraded."""
    files = _files("alembic_no_revision")
    assert alembic_heads(files, "") == []
    # Then the tables of the models the app imports, where env.py could not make one.
    [(argv, _), (tables, _)] = detect(files).setup_steps()
    assert argv[2].startswith("# no revision yet: a first one autogenerated from the models")
    assert tables[2].startswith("# its models' tables: SQLAlchemy models")
    # No versions/ folder at all (git keeps no empty one): the same.
    bare = {p: d for p, d in files.items() if "/versions/" not in p}
    [(argv, _), _tables] = detect(bare).setup_steps()
    assert argv[2].startswith("# no revision yet: a first one autogenerated from the models")
    # Revisions this reading cannot tell (a tuple assignment): upgraded as they are.
    told = b"revision, down_revision = '0001', None\n"
    [(plain, _)] = detect({**files, "migrations/versions/0001_items.py": told}).setup_steps()
    assert plain[:2] == ("{python}", "-c") and plain[3:] == ("alembic.ini", "--models-of=.:main")
    assert plain[2].startswith("# alembic upgrade heads, else its models' tables")
    with trio.fail_after(BUILD_WAIT):
        data, events = await _healthy(builder_service, "alembic_no_revision", "/items")
        assert data == []  # its table exists, empty
        said = messages(events, "setup")
        assert any("a first one autogenerated from its models" in m for m in said), said[-5:]
        # Without models to compare (target_metadata None), none is made; it still starts.
        env = app_files("alembic_no_revision")["migrations/env.py"]
        bare = {
            **app_files("alembic_no_revision"),
            "migrations/env.py": env.replace("target_metadata=metadata", "target_metadata=None"),
        }
        body = await launched(builder_service, bare)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await builder_service.history(body["gid"]), "setup")
        assert any("no revision in its history, and none could be made" in m for m in said)
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_a_history_without_its_versions_folder_gets_one_made_from_its_models(
    builder_service: Service,
) -> None:
    """git keeps no empty folder: a template whose versions/ is empty arrives without it
    (jugeeem's fastapi-sqlalchemy-alembic-mysql, whose Docker entrypoint makes it), and the
    autogenerated revision had nowhere to go ("No such file or directory"): made first."""
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, app_files("alembic_no_versions_folder"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await _proxied(builder_service, body, "/items")
        assert answer["statusCode"] == 200 and answer["data"] == [], answer
        said = messages(await builder_service.history(body["gid"]), "setup")
        assert any("a first one autogenerated from its models" in m for m in said), said[-5:]
        assert (await builder_service.stop(body["gid"])).status_code == 200


def test_a_flask_script_managers_init_command_is_run_by_its_script() -> None:
    """apryor6's flask_api_example: ``@manager.command def init_db()`` is Flask-Script's,
    run as ``python manage.py init_db``; ``flask init-db`` knows no such command."""
    files = {
        "wsgi.py": b"from app import create_app\napp = create_app()\n",
        "app/__init__.py": b"from flask import Flask\n\n"
        b"def create_app():\n    return Flask(__name__)\n",
        "manage.py": b"from flask_script import Manager\nfrom app import create_app, db\n"
        b"manager = Manager(create_app())\n\n@manager.command\ndef init_db():\n"
        b"    db.create_all()\n\nif __name__ == '__main__':\n    manager.run()\n",
    }
    assert detect(files).setup_steps() == [
        (("env", "FLASK_APP=wsgi:app", "{python}", "manage.py", "init_db"), "")
    ]


async def test_the_main_blocks_servers_are_not_started(tmp_path) -> None:
    """The block's server, called or awaited (``uvicorn.run``, ``await
    uvicorn.Server(config).serve()`` in the ``main()`` that made the tables), returns at
    once: the step ends, its tables made, nothing left listening."""
    (tmp_path / "shop.py").write_text(
        "import asyncio\nimport uvicorn\n\n\nasync def main():\n"
        "    print('tables made')\n"
        "    await uvicorn.Server(uvicorn.Config('shop:app', port=1)).serve()\n\n\n"
        "if __name__ == '__main__':\n    asyncio.run(main())\n    uvicorn.run('shop:app', port=1)\n"
    )
    with trio.fail_after(60):
        done = await trio.run_process(
            [sys.executable, "-c", MAIN_BLOCK, "shop"], cwd=tmp_path, capture_stdout=True
        )
    lines = done.stdout.decode().splitlines()
    assert lines[0] == "tables made" and len(lines) == 3, lines
    assert all("its server is not started" in line for line in lines[1:])


_AT_IMPORT = b"from db import Base, engine\nBase.metadata.create_all(bind=engine)\n"


_AT_STARTUP = b"""
async def init_models():
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
"""


_UNDER_MAIN = b"if __name__ == '__main__':\n    Base.metadata.create_all(engine)\n"


_NOTHING = 'revision = "0001"\ndown_revision = None\n\n\ndef upgrade():\n    """-"""\n    pass\n'


def _bytes(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


def test_an_app_that_makes_its_tables_as_it_runs() -> None:
    assert creates_its_tables({"app/main.py": _AT_IMPORT})
    hook = b"from app.db.session import init_models\n"
    hook += b"app.add_event_handler('startup', init_models)\n"
    assert creates_its_tables({"app/db/session.py": _AT_STARTUP, "app/main.py": hook})
    # Defined, never run as it serves: called by a command of its cli.py alone (BaturinM's
    # fastapi-user-storage), or by nothing.
    command = b"from app.db.session import init_models\n@app.command()\ndef hello():\n"
    command += b"    asyncio.run(init_models())\n"
    assert not creates_its_tables({"app/db/session.py": _AT_STARTUP, "cli.py": command})
    assert not creates_its_tables({"app/db/session.py": _AT_STARTUP})
    # Not where a server never runs it: its __main__ block, tests, migrations, scripts.
    assert not creates_its_tables({"app/main.py": _UNDER_MAIN})
    # Nor for sure under a condition of its configuration (CesarTokai's muebleria-plaza-
    # reforma: its .env's ENVIRONMENT=production skips it): its models' step makes them.
    gated = b"import os\nif os.getenv('ENVIRONMENT') != 'production':\n"
    gated += b"    Base.metadata.create_all(bind=engine)\n"
    assert not creates_its_tables({"app/main.py": gated})
    for path in (
        "tests/conftest.py",
        "test_api.py",
        "alembic/env.py",
        "scripts/setup.py",
        "init_db.py",
        "app/create_db.py",
        "seed.py",
    ):
        assert not creates_its_tables({path: _AT_IMPORT}), path
    assert not creates_its_tables({"app/main.py": b"# create_all is not called here\n"})


def test_a_history_whose_every_upgrade_does_nothing() -> None:
    assert alembic_changes_nothing({"migrations/versions/0001_init.py": _NOTHING.encode()})
    assert not alembic_changes_nothing({})  # no revision: nothing said
    made = _NOTHING.replace("    pass\n", "    op.create_table('t')\n").encode()
    both = {"migrations/versions/0001.py": _NOTHING.encode(), "migrations/versions/0002.py": made}
    assert not alembic_changes_nothing(both)
    assert alembic_changes_nothing({"migrations/versions/0001.py": b"revision = 'x'\n"}) is False


def test_an_apps_migrations_folder_of_its_init_alone_is_made_its_migrations() -> None:
    """gh0sthck's drf-todo: ``users/migrations/__init__.py`` and nothing more (its custom
    user model's app): "Dependency on app with no migrations: users" at ``migrate``."""
    files = _bytes("django_no_migrations")
    files["accounts/migrations/__init__.py"] = b""
    files["accounts/migrations/.gitignore"] = b"*\n!__init__.py\n"  # ahmadalsajid's drf-postgres
    [(make, _), (migrate, _)] = detect(files).setup_steps()
    assert make == ("{python}", "manage.py", "makemigrations", "accounts", "catalog", "--noinput")
    assert migrate[2:4] == ("migrate", "--noinput")
    files["accounts/migrations/0001_initial.py"] = b"from django.db import migrations\n"
    [(make, _), _] = detect(files).setup_steps()
    assert make == ("{python}", "manage.py", "makemigrations", "catalog", "--noinput")


def test_an_installed_app_with_no_apps_py_is_given_its_migrations() -> None:
    """akmalkhaniub's django-payroll-engine installs ``payroll``, which has models, no
    migrations and no apps.py (Django's default AppConfig of the module): no migration
    was made for it, and its routes met "Table 'payroll_db.payroll_worker' doesn't
    exist". It is made its migrations as an app with an apps.py is; not where it is not
    installed."""
    files = _bytes("django_no_migrations")
    del files["catalog/apps.py"]
    [(make, _), _] = detect(files).setup_steps()
    assert make == ("{python}", "manage.py", "makemigrations", "accounts", "catalog", "--noinput")
    settings = files["site_config/settings.py"]
    files["site_config/settings.py"] = settings.replace(b'    "catalog",\n', b"")
    [(make, _), _] = detect(files).setup_steps()
    assert make == ("{python}", "manage.py", "makemigrations", "accounts", "--noinput")


def test_an_app_commented_out_of_installed_apps_is_given_no_migrations() -> None:
    """Strange18's DRF-Basic keeps ``# 'home2'`` in its INSTALLED_APPS: "makemigrations
    home home2" refused the label and made no migration at all (its routes then met "no
    such table: home_category"). A comment after an installed app's entry leaves it."""
    files = _bytes("django_no_migrations")
    settings = files["site_config/settings.py"]
    files["site_config/settings.py"] = settings.replace(
        b'    "catalog",\n', b'    "catalog",  # the shop\'s\n    # "drafts",\n'
    )
    [(make, _), _] = detect(files).setup_steps()
    assert make == ("{python}", "manage.py", "makemigrations", "accounts", "catalog", "--noinput")
    files["site_config/settings.py"] = settings.replace(
        b'    "catalog",\n', b'    "catalog", "drafts",\n'
    )
    [(make, _), _] = detect(files).setup_steps()
    assert make[3:6] == ("accounts", "catalog", "drafts"), make


def test_an_apps_models_package_is_given_its_migrations() -> None:
    """JoaoUF's drf-redis keeps its models in apps/mainApp/models/ (a package, one
    module a model) and no migration: makemigrations was given no label, and every
    route met relation "MAE_ALBUM" does not exist. The package's app is given one."""
    files = _bytes("django_no_migrations")
    files["catalog/models/__init__.py"] = b"from .item import Item\n"
    files["catalog/models/item.py"] = files.pop("catalog/models.py")
    [(make, _), _] = detect(files).setup_steps()
    assert make == ("{python}", "manage.py", "makemigrations", "accounts", "catalog", "--noinput")
    # A folder named models that is no package (no __init__.py): no models module.
    del files["catalog/models/__init__.py"]
    [(make, _), _] = detect(files).setup_steps()
    assert make == ("{python}", "manage.py", "makemigrations", "accounts", "--noinput")


def test_a_release_lines_makemigrations_is_given_the_projects_own_apps() -> None:
    """redifo's recipe-drf-api: its Procfile's ``release: python manage.py makemigrations
    && python manage.py migrate`` made migrations for every installed app, an allauth 0.44
    beside ``DEFAULT_AUTO_FIELD = BigAutoField`` too, written into the built environment
    (read-only: "Read-only file system: …/allauth/account/migrations"). Named, only the
    upload's own apps' are made."""
    detection = detect(_bytes("django_release_makemigrations"))
    assert detection.setup[0] == (
        "sh",
        "-c",
        "python manage.py makemigrations notes && python manage.py migrate",
    )
    # A command that names its apps, or makes none, is the app's own.
    files = _bytes("django_release_makemigrations")
    named = "python manage.py makemigrations notes --noinput && python manage.py migrate"
    assert own_makemigrations(named, files) == named
    assert own_makemigrations("python manage.py migrate", files) == "python manage.py migrate"
    assert (
        own_makemigrations("python manage.py makemigrations --noinput; gunicorn x", files)
        == "python manage.py makemigrations notes --noinput; gunicorn x"
    )


def test_the_projects_own_init_function_that_nothing_calls_makes_its_tables(
    tmp_path: Path,
) -> None:
    """Cohetero's FastAPI-JWT-SQLAlchemy defines ``create_tables()`` (its models'
    ``create_all``) in ``app/v1/scripts/create_tables.py`` and nothing calls it, nor is
    there a migration: every route on its data answered 500 ("relation usuarios does not
    exist"), the service only hinting at the call. It is now a set-up step, and makes
    them; an optional one (Cohetero's own fails on a fresh database: its models are on two
    declarative bases, and it creates one's alone)."""
    files = _bytes("fastapi_init_function")
    (step,) = data_steps(files, "main.py", find_app(files))
    assert step.argv == (
        "{python}",
        "-c",
        f"{OWN_INIT}\ntry:\n    import main\nexcept Exception:\n    pass\n"
        "from app.scripts.create_tables import create_tables; create_tables()",
    )
    # A guess of the service's: the app starts after its failure, as after a seed's.
    assert optional_steps(files, ("uvicorn", "main:app"), (step.argv,)) == (step.argv,)
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    argv = [sys.executable if part == "{python}" else part for part in step.argv]
    subprocess.run(argv, cwd=tmp_path / step.where, check=True, timeout=120)
    with sqlite3.connect(tmp_path / "tasks.db") as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall() == [
            ("tasks",)
        ]
    # One that takes an argument is no init of its own: not called (its models' tables
    # made instead).
    script = "app/scripts/create_tables.py"
    taking = files[script].replace(b"def create_tables()", b"def create_tables(url)")
    (instead,) = data_steps({**files, script: taking}, "main.py", find_app(files))
    assert instead.argv == ("{python}", "-c", MODELS_TABLES, "main")


def test_an_alembic_ini_written_to_be_run_from_its_own_folder_runs_there(tmp_path: Path) -> None:
    """Vasyalisk's fastapi-sqlalchemy-docker-template keeps backend/migrations/alembic.ini
    with ``script_location = .``: its ``python manage.py upgrade`` changes into that folder
    first, its env.py importing the project's modules (``from config import settings``,
    ``from migrations.utils import …``). Run from backend/ it failed ("Can't find Python
    file ./env.py"); now it runs in its folder, the project's on the path."""
    files = _bytes("fastapi_alembic_ini_own_folder")
    (step,) = data_steps(files, "backend/main.py", find_app(files))
    assert step.where == "backend/migrations"
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    database = tmp_path / "notes.db"
    argv = [part.format(python=sys.executable) for part in step.argv]
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite:///{database}"}
    subprocess.run(argv, cwd=tmp_path / step.where, env=env, check=True, timeout=120)
    with sqlite3.connect(database) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "notes" in tables and "alembic_version" in tables


def test_models_whose_tables_nothing_makes_get_them_made() -> None:
    """srickky's fastapi-postgres-crud: SQLAlchemy models, no migrations, no create_all(),
    its tables made by hand on its author's server: the step making them, optional (the
    start goes on after its failure: a guess, as an init function's call)."""
    files = _bytes("fastapi_models_no_tables")
    found = detect(files)
    step = ("{python}", "-c", MODELS_TABLES, "app.main")
    assert found.setup == (step,)
    assert found.data_init == ("its models' tables (app/models.py), which nothing makes",)
    assert optional_steps(files, found.argv, found.setup) == (step,)
    # An app that makes them itself as it runs, or declares no table, gets none.
    itself = {**files, "app/main.py": files["app/main.py"] + _AT_IMPORT}
    assert detect(itself).setup == ()
    del files["app/models.py"]
    assert detect(files).setup == ()


async def test_the_models_tables_are_made_on_its_async_engine(tmp_path) -> None:
    """The program, run as the step runs it: the models the app's modules hold made on the
    engines they hold, an async one too (``create_async_engine``: psycopg's async driver,
    on the tests' PostgreSQL, a table of this test's own name)."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set")
    table = f"orders_{uuid.uuid4().hex[:12]}"
    (tmp_path / "shop.py").write_text(
        "from sqlalchemy import Column, Integer\n"
        "from sqlalchemy.ext.asyncio import create_async_engine\n"
        "from sqlalchemy.orm import DeclarativeBase\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\n"
        f"class Order(Base):\n    __tablename__ = {table!r}\n"
        "    id = Column(Integer, primary_key=True)\n\n\n"
        f"engine = create_async_engine({url!r})\n"
    )
    try:
        with trio.fail_after(60):
            done = await trio.run_process(
                [sys.executable, "-c", MODELS_TABLES, "shop"], cwd=tmp_path, capture_stderr=True
            )
        said = done.stderr.decode()
        assert f"its models' tables made (nothing in the app makes them): {table}" in said
        with trio.fail_after(30):
            made = await trio.to_thread.run_sync(_has_table, url, table)
        assert made
    finally:
        with trio.move_on_after(30) as cleanup:
            cleanup.shield = True
            await trio.to_thread.run_sync(_drop_table, url, table)


async def test_models_with_no_engine_at_import_get_their_tables_on_the_given_database(
    tmp_path: Path,
) -> None:
    """bmlrb2xh's simple-flask-backend-api makes its engine only in ``main.py``'s
    ``__main__`` block, from the ``DB_*`` parts the service gives with ``DATABASE_URL``:
    imported, its modules hold models and no engine. Its tables are made on the
    PostgreSQL ``DATABASE_URL`` names (the tests' own, a table of this test's name)."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set")
    table = f"users_{uuid.uuid4().hex[:12]}"
    (tmp_path / "models.py").write_text(
        "from sqlalchemy import Column, Integer\n"
        "from sqlalchemy.orm import declarative_base\n\n"
        "Base = declarative_base()\n\n\n"
        f"class User(Base):\n    __tablename__ = {table!r}\n"
        "    id = Column(Integer, primary_key=True)\n"
    )
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": url}
    try:
        with trio.fail_after(60):
            done = await trio.run_process(
                [sys.executable, "-c", MODELS_TABLES, "models"],
                cwd=tmp_path,
                env=env,
                capture_stderr=True,
                check=False,
            )
        said = done.stderr.decode()
        assert done.returncode == 0, said
        assert f"its models' tables made (nothing in the app makes them): {table}" in said
        with trio.fail_after(30):
            assert await trio.to_thread.run_sync(_has_table, url, table)
        # With no PostgreSQL given, no engine: the step says so.
        with trio.fail_after(60):
            alone = await trio.run_process(
                [sys.executable, "-c", MODELS_TABLES, "models"],
                cwd=tmp_path,
                env={"PATH": os.environ["PATH"]},
                capture_stderr=True,
                check=False,
            )
        assert alone.returncode != 0 and b"no engine" in alone.stderr
        # An async driver's URL (yeisonipia48's ApiFastApi, given postgresql+asyncpg://):
        # made on an async engine, not a sync one ("greenlet_spawn has not been called").
        await trio.to_thread.run_sync(_drop_table, url, table)
        async_url = "postgresql+psycopg_async://" + url.split("://", 1)[1]
        with trio.fail_after(60):
            done = await trio.run_process(
                [sys.executable, "-c", MODELS_TABLES, "models"],
                cwd=tmp_path,
                env={**env, "DATABASE_URL": async_url},
                capture_stderr=True,
                check=False,
            )
        assert done.returncode == 0, done.stderr.decode()
        with trio.fail_after(30):
            assert await trio.to_thread.run_sync(_has_table, url, table)
    finally:
        with trio.move_on_after(30) as cleanup:
            cleanup.shield = True
            await trio.to_thread.run_sync(_drop_table, url, table)


# This machine's MariaDB (root, no password, its `test` database), as the env tool says.
MYSQL_URL = os.environ.get("PREVIEW_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def _mysql_answers() -> bool:
    engine = sqlalchemy.create_engine(MYSQL_URL, connect_args={"connect_timeout": 5})
    try:
        engine.connect().close()
    except sqlalchemy.exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()
    return True


async def test_the_models_tables_on_mysql_give_a_string_without_length_one(tmp_path) -> None:
    """mruna18's blog-FastAPI declares ``Column(String)`` on its MariaDB, whose VARCHAR
    needs a length ("VARCHAR requires a length on dialect mysql"): none of its tables were
    made, every route of its data answered 500. A length (255) where it gives none; its
    text columns stay text."""
    if not await trio.to_thread.run_sync(_mysql_answers):
        pytest.skip(f"no MariaDB answers at {MYSQL_URL}")
    table = f"blog_{uuid.uuid4().hex[:12]}"
    (tmp_path / "blog.py").write_text(
        "from sqlalchemy import Column, Integer, String, Text, create_engine\n"
        "from sqlalchemy.orm import declarative_base\n\n"
        "Base = declarative_base()\n\n\n"
        f"class Blog(Base):\n    __tablename__ = {table!r}\n"
        "    id = Column(Integer, primary_key=True)\n    name = Column(String)\n"
        "    body = Column(Text)\n\n\n"
        f"engine = create_engine({MYSQL_URL!r})\n"
    )
    try:
        with trio.fail_after(60):
            done = await trio.run_process(
                [sys.executable, "-c", MODELS_TABLES, "blog"], cwd=tmp_path, capture_stderr=True
            )
        said = done.stderr.decode()
        assert f"its models' tables made (nothing in the app makes them): {table}" in said
        with trio.fail_after(30):
            columns = await trio.to_thread.run_sync(_column_types, MYSQL_URL, table)
        assert columns["name"] == "VARCHAR(255)" and columns["body"] == "TEXT"
    finally:
        with trio.move_on_after(30) as cleanup:
            cleanup.shield = True
            await trio.to_thread.run_sync(_drop_mysql_table, MYSQL_URL, table)


async def test_the_models_tables_that_can_be_made_are_where_one_cannot(tmp_path) -> None:
    """mruna18's blog-FastAPI: one model's foreign key names a table no model declares
    (``ForeignKey("user.id")`` beside ``__tablename__ = "users"``), and create_all() made
    none of its tables. Each that can be made is; the one that cannot is said."""
    (tmp_path / "blog.py").write_text(
        "from sqlalchemy import Column, ForeignKey, Integer, create_engine\n"
        "from sqlalchemy.orm import declarative_base\n\n"
        "Base = declarative_base()\n\n\n"
        "class User(Base):\n    __tablename__ = 'users'\n"
        "    id = Column(Integer, primary_key=True)\n\n\n"
        "class Comment(Base):\n    __tablename__ = 'comments'\n"
        "    id = Column(Integer, primary_key=True)\n"
        "    user_id = Column(Integer, ForeignKey('users.id'))\n\n\n"
        "class Post(Base):\n    __tablename__ = 'posts'\n"
        "    id = Column(Integer, primary_key=True)\n"
        "    owner_id = Column(Integer, ForeignKey('user.id'))\n\n\n"
        "engine = create_engine('sqlite:///blog.db')\n"
    )
    with trio.fail_after(60):
        done = await trio.run_process(
            [sys.executable, "-c", MODELS_TABLES, "blog"], cwd=tmp_path, capture_stderr=True
        )
    said = done.stderr.decode()
    assert "its models' tables made one by one but posts" in said
    assert "its models' tables made (nothing in the app makes them): " in said
    with sqlite3.connect(tmp_path / "blog.db") as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        assert sorted(r[0] for r in rows) == ["comments", "users"]


def _column_types(url: str, table: str) -> dict[str, str]:
    engine = sqlalchemy.create_engine(url)
    try:
        columns = sqlalchemy.inspect(engine).get_columns(table)
        return {c["name"]: str(c["type"]).split(" ")[0] for c in columns}
    finally:
        engine.dispose()


def _drop_mysql_table(url: str, table: str) -> None:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(f"DROP TABLE IF EXISTS `{table}`"))
    finally:
        engine.dispose()


def _has_table(url: str, table: str) -> bool:
    engine = sqlalchemy.create_engine(url)
    try:
        return sqlalchemy.inspect(engine).has_table(table)
    finally:
        engine.dispose()


def _drop_table(url: str, table: str) -> None:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP TABLE IF EXISTS "{table}"'))
    finally:
        engine.dispose()


async def test_an_app_whose_models_tables_nothing_makes_serves_them(
    builder_service: Service,
) -> None:
    with trio.fail_after(BUILD_WAIT):
        data, events = await _healthy(builder_service, "fastapi_models_no_tables", "/products")
        assert data == ["made from its models"]
        said = messages(events, "setup")
        made = [m for m in said if "its models' tables made" in m]
        assert made and "products, sales" in made[0], said[-5:]


def test_an_alembic_init_never_used_nor_installed_is_no_step() -> None:
    """MW982's fastapi-order-api: alembic/ as ``alembic init`` made it (no revision,
    target_metadata None), alembic named by none of its dependency files, and no database
    at all: its step failed, "No module named 'alembic'". No Alembic step then; one where
    a dependency file names Alembic (or Flask-Migrate), or where a revision is there."""
    files = {
        "main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
        "alembic.ini": b"[alembic]\nscript_location = alembic\n"
        b"sqlalchemy.url = driver://user:pass@localhost/dbname\n",
        "alembic/env.py": b"from alembic import context\ntarget_metadata = None\n",
        "alembic/script.py.mako": b"",
        "pyproject.toml": b'[project]\nname = "a"\ndependencies = ["fastapi", "mako"]\n',
    }
    assert data_steps(files, "main.py", None) == []
    listed = {**files, "requirements.txt": b"fastapi\nalembic==1.13\n"}
    assert [s.what for s in data_steps(listed, "main.py", None)] == ["Alembic (alembic.ini)"]
    revised = {**files, "alembic/versions/1a_first.py": b'revision = "1a"\n'}
    assert [s.what for s in data_steps(revised, "main.py", None)] == ["Alembic (alembic.ini)"]


def test_an_unused_alembic_ini_beside_flask_migrates_history_leaves_it_to_run() -> None:
    """hasankhaan107's Basic-Flask-CRUD keeps an ``alembic init`` leftover at its root
    (script_location = alembic, no such folder) beside Flask-Migrate's migrations/ with
    its revision: that alembic.ini was taken for the app's and set aside, and with it
    the history; its tables were missing. Flask-Migrate's history runs."""
    app = (
        b"from flask import Flask\nfrom flask_migrate import Migrate\n"
        b"from flask_sqlalchemy import SQLAlchemy\n\napp = Flask(__name__)\n"
        b"db = SQLAlchemy(app)\nmigrate = Migrate(app, db)\n\n\n"
        b"class Project(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
    )
    files = {
        "app.py": app,
        "requirements.txt": b"flask\nflask-sqlalchemy\nflask-migrate\n",
        "alembic.ini": b"[alembic]\nscript_location = alembic\n"
        b"sqlalchemy.url = driver://user:pass@localhost/dbname\n",
        "migrations/alembic.ini": b"[alembic]\n",
        "migrations/env.py": b"from flask import current_app\nfrom alembic import context\n",
        "migrations/versions/60db_.py": b'revision = "60db"\ndown_revision = None\n',
    }
    assert detect(files).data_init == ("Flask-Migrate (migrations/)",)


def test_flask_migrate_under_a_flask_script_manager_of_an_old_flask_runs_by_its_script() -> None:
    """nmsbane's bookmarks-flask-app (Flask 0.10.1, ``from flask.ext.script import
    Manager``, ``manager.add_command('db', MigrateCommand)``): ``python -m flask db
    upgrade`` met "No module named flask.__main__", Flask's command coming with 0.11. Its
    manager runs the upgrade, as its README says; a Flask that may be 2.0 or later, which
    broke Flask-Script, keeps Flask's own command."""
    manage = (
        b"import os\nfrom app import create_app, db\n"
        b"from flask.ext.script import Manager, Shell\n"
        b"from flask.ext.migrate import Migrate, MigrateCommand\n"
        b"app = create_app('default')\nmanager = Manager(app)\nmigrate = Migrate(app, db)\n"
        b"manager.add_command('db', MigrateCommand)\n\n"
        b"if __name__ == '__main__':\n    manager.run()\n"
    )
    files = {
        "manage.py": manage,
        "app/__init__.py": b"from flask import Flask\nfrom flask.ext.sqlalchemy import SQLAlchemy\n"
        b"db = SQLAlchemy()\n\ndef create_app(config):\n    return Flask(__name__)\n",
        "requirements.txt": b"Flask==0.10.1\nFlask-Migrate==1.6.0\nFlask-Script==2.0.5\n",
        "migrations/alembic.ini": b"[alembic]\n",
        "migrations/env.py": b"from flask import current_app\nfrom alembic import context\n",
        "migrations/versions/51c9_.py": b'revision = "51c9"\ndown_revision = None\n',
    }
    found = detect(files)
    assert found.data_init == ("Flask-Migrate (migrations/) by its manager manage.py",)
    assert found.setup_steps()[0] == (("{python}", "manage.py", "db", "upgrade"), "")
    files["requirements.txt"] = b"Flask>=1.1\nFlask-Migrate\nFlask-Script\n"
    assert detect(files).data_init == ("Flask-Migrate (migrations/)",)


async def test_a_blueprints_table_making_command_is_its_data_step(
    builder_service: Service,
) -> None:
    """imanhpr's simple-flask-api makes its tables by ``flask commands createtables`` (a
    blueprint's CLI group, its README's first step): nothing ran it and every table's
    route answered 500. A command of a blueprint runs under the blueprint's group; its
    name read with or without hyphens (``createtables``)."""
    app = b"""from flask import Blueprint, Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
commands_bl = Blueprint("commands", __name__)


class Quote(db.Model):
    id = db.Column(db.Integer, primary_key=True)


@commands_bl.cli.command("createtables")
def create_tables():
    db.create_all()


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///quotes.db"
    db.init_app(app)
    app.register_blueprint(commands_bl)

    @app.get("/quotes")
    def quotes():
        return {"quotes": Quote.query.count()}

    return app
"""
    files = {
        "requirements.txt": b"flask\nflask-sqlalchemy\n",
        "api/__init__.py": b"",
        "api/app.py": app,
    }
    found = detect(files)
    assert found.data_init == ("the project's commands createtables command",), found.data_init
    assert found.setup[0][-3:] == ("flask", "commands", "createtables")
    grouped = {
        **files,
        "api/app.py": app.replace(b"__name__)\n\n\nclass", b"__name__, cli_group=None)\n\n\nclass"),
    }
    assert detect(grouped).setup[0][-2:] == ("flask", "createtables")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, {p: t.decode() for p, t in files.items()})
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await builder_service.app_get(body, "/quotes")).json() == {"quotes": 0}
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_models_imported_only_by_the_main_blocks_routes_get_their_tables(
    builder_service: Service,
) -> None:
    """RamiroPintos' Flask-EventPage imports its routes, and through them its models, only
    under ``if __name__ == "__main__":``: served through the module that runs that block,
    its routes answered, but create_all() had imported no model ("Table 'mydb.event'
    doesn't exist"). The step imports that module too: the tables are made."""
    with trio.fail_after(BUILD_WAIT):
        data, events = await _healthy(builder_service, "flask_main_block_routes", "/notes")
        assert data == []
        assert any("created the tables of its models: note" in m for m in messages(events))


def test_an_alembic_ini_leading_to_no_history_is_no_step() -> None:
    """alsomedroo's FastAPI-marketplace-project commits an empty alembic.ini and no
    migrations: its step failed ("No 'script_location' key found in configuration") and
    nothing made its models' tables. An ini naming no script_location, or a folder of its
    own without env.py, is as none; one whose history is there is Alembic's."""
    files = {
        "app/main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
        "alembic.ini": b"",
        "requirements.txt": b"fastapi\nalembic\nsqlalchemy\n",
    }
    assert data_steps(files, "app/main.py", None) == []
    elsewhere = {**files, "alembic.ini": b"[alembic]\nscript_location = migrations\n"}
    assert data_steps(elsewhere, "app/main.py", None) == []
    there = {
        **elsewhere,
        "migrations/env.py": b"from alembic import context\ntarget_metadata = None\n",
        "migrations/versions/1a_first.py": b'revision = "1a"\ndown_revision = None\n',
    }
    assert [s.what for s in data_steps(there, "app/main.py", None)] == ["Alembic (alembic.ini)"]
    resource = {**files, "alembic.ini": b"[alembic]\nscript_location = myapp:migrations\n"}
    assert [s.what for s in data_steps(resource, "app/main.py", None)] == ["Alembic (alembic.ini)"]


_CORE_TABLES = b"""import databases
import sqlalchemy
from fastapi import FastAPI

database = databases.Database(DATABASE_URL)
metadata = sqlalchemy.MetaData()
books = sqlalchemy.Table(
    "books",
    metadata,
    sqlalchemy.Column("id", sqlalchemy.Integer, primary_key=True),
    sqlalchemy.Column("title", sqlalchemy.String),
)
# engine = sqlalchemy.create_engine(DATABASE_URL); metadata.create_all(engine) left out
app = FastAPI()
"""


async def test_core_tables_queried_through_databases_get_them_made(tmp_path: Path) -> None:
    """riadelimemmedov's FastAPI-BookStore declares ``sqlalchemy.Table("books", metadata,
    …)`` and queries it through the ``databases`` package, its ``create_all`` left in a
    string: "relation books does not exist". Tables of SQLAlchemy's core are models too,
    made on the URL of the ``databases.Database`` its modules hold (no engine of theirs)."""
    source = _CORE_TABLES.replace(b"DATABASE_URL", b"'sqlite:///shop.db'")
    files = {"store/main.py": source, "requirements.txt": b"fastapi\ndatabases\nsqlalchemy\n"}
    found = detect(files)
    assert found.data_init == ("its models' tables (store/main.py), which nothing makes",)
    (tmp_path / "main.py").write_bytes(source)
    (tmp_path / "databases").mkdir()  # the package's Database, as far as the step reads it
    (tmp_path / "databases" / "__init__.py").write_text(
        "class Database:\n    def __init__(self, url):\n        self.url = url\n"
    )
    with trio.fail_after(60):
        done = await trio.run_process(
            [sys.executable, "-c", MODELS_TABLES, "main"], cwd=tmp_path, capture_stderr=True
        )
    assert "its models' tables made (nothing in the app makes them): books" in (
        done.stderr.decode()
    )
    with sqlite3.connect(tmp_path / "shop.db") as db:
        assert ("books",) in db.execute("SELECT name FROM sqlite_master").fetchall()


def test_a_step_making_sqlalchemys_tables_is_optional_judged_by_the_start() -> None:
    """Jxck007's flask-resume-builder: its Procfile's ``release:`` step (``from website
    import create_app, db; … db.create_all()``) died on the package's own import circle,
    and the launch with it, where ``create_app()`` makes the tables at its start. A step
    that makes SQLAlchemy's tables, the app's or the service's guess, is optional: its
    failure said, the app started without it, judged by whether it then serves."""
    release = (
        'release: python -c "from website import create_app, db; app = create_app(); '
        'app.app_context().push(); db.create_all()"\n'
    )
    files = {
        "Procfile": f"web: gunicorn main:app\n{release}".encode(),
        "main.py": b"from website import create_app\napp = create_app()\n",
        "website/__init__.py": (
            b"from flask import Flask\n\n\ndef create_app():\n    return Flask(__name__)\n"
        ),
    }
    found = detect(files)
    plan = found.plans[0]
    assert plan.setup and plan.setup[0] in plan.optional, plan
    assert optional_steps(files, ("gunicorn", "main:app"), (("python", "-c", CREATE_ALL),))
    migrate = ("flask", "db", "upgrade")
    assert optional_steps(files, ("gunicorn", "main:app"), (migrate,)) == ()


# A declarative base in one module, its models in another that only the app imports, and
# an init function making the base's tables (Tshergzeh's ikanos-cms-fastapi's shape).
_BASE_APART = {
    "requirements.txt": b"fastapi\nsqlalchemy\nalembic\n",
    "app/__init__.py": b"",
    "app/db.py": (
        b"from sqlalchemy import create_engine\nfrom sqlalchemy.orm import declarative_base\n"
        b"engine = create_engine('sqlite:///./app.db')\nBase = declarative_base()\n\n\n"
        b"def create_db_and_tables():\n    Base.metadata.create_all(engine)\n"
    ),
    "app/models.py": (
        b"from sqlalchemy import Column, Integer, String\nfrom app.db import Base\n\n\n"
        b"class Task(Base):\n    __tablename__ = 'tasks'\n"
        b"    id = Column(Integer, primary_key=True)\n    title = Column(String)\n"
    ),
    "main.py": (
        b"from fastapi import FastAPI\nimport app.models  # noqa: F401\n"
        b"from app.db import create_db_and_tables  # noqa: F401\n"
        b"app = FastAPI()\n# create_db_and_tables()  (its author's, left out)\n"
    ),
}


def _run_step(tmp_path: Path, files: dict[str, bytes], argv: tuple[str, ...], where: str) -> set:
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    command = [part.format(python=sys.executable) for part in argv]
    env = {"PATH": os.environ["PATH"]}
    subprocess.run(command, cwd=tmp_path / where, env=env, check=True, timeout=120)
    with sqlite3.connect(tmp_path / where / "app.db") as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_an_init_function_makes_the_tables_of_models_the_app_itself_imports(
    tmp_path: Path,
) -> None:
    """ikanos-cms-fastapi's ``create_db_and_tables()`` (commented out in its lifespan) makes
    ``SQLModel.metadata``'s tables; its models are imported by its routers only. Called
    alone it made none ("relation service does not exist"); the app's module is imported
    first, as its server imports it."""
    (step,) = data_steps(_BASE_APART, "main.py", find_app(_BASE_APART))
    assert "import main" in step.argv[2]
    assert _run_step(tmp_path, _BASE_APART, step.argv, step.where) == {"tasks"}


def test_a_first_revision_compares_the_models_its_env_py_does_not_import(
    tmp_path: Path,
) -> None:
    """indiedanish's task-fastapi: an Alembic history with no revision, its env.py
    importing the declarative base alone (``from app.database import Base``); the first
    revision autogenerated from it was empty, and every route on its data answered 500.
    The modules declaring models are imported first."""
    env = (
        b"from alembic import context\nfrom sqlalchemy import engine_from_config, pool\n"
        b"from app.db import Base\ntarget_metadata = Base.metadata\n"
        b"connectable = engine_from_config(context.config.get_section("
        b"context.config.config_ini_section), prefix='sqlalchemy.', poolclass=pool.NullPool)\n"
        b"with connectable.connect() as connection:\n"
        b"    context.configure(connection=connection, target_metadata=target_metadata)\n"
        b"    with context.begin_transaction():\n        context.run_migrations()\n"
    )
    mako = app_files("alembic_no_revision")["migrations/script.py.mako"].encode()
    files = {
        **{p: d for p, d in _BASE_APART.items() if p != "main.py"},
        "main.py": _BASE_APART["main.py"].replace(b"from app.db import create_db_and_tables", b""),
        "alembic.ini": b"[alembic]\nscript_location = migrations\n"
        b"sqlalchemy.url = sqlite:///./app.db\n",
        "migrations/env.py": env,
        "migrations/script.py.mako": mako,
    }
    [(argv, where), _tables] = detect(files).setup_steps()
    assert argv[2].startswith("# no revision yet: a first one autogenerated from the models")
    assert "tasks" in _run_step(tmp_path, files, argv, where or "")


def test_a_history_with_no_revision_whose_env_py_does_not_import_gets_its_models_tables(
    tmp_path: Path,
) -> None:
    """matheushss1's FastAPI-Quick-Starter and cmpdvd's fastapi-tests: an Alembic history
    with no revision, its env.py failing at an import (``from database import Base``),
    and nothing of the app making its tables (a create_all in a script never run): no
    first revision could be made, and every route on its data answered 500. The step's
    failure loses nothing (it had nothing to upgrade); the tables of the models the app
    itself imports are made by the step after it."""
    mako = app_files("alembic_no_revision")["migrations/script.py.mako"].encode()
    files = {
        **_BASE_APART,
        "app/db.py": _BASE_APART["app/db.py"].split(b"\n\n\ndef ")[0] + b"\n",
        "main.py": b"from fastapi import FastAPI\nimport app.models  # noqa: F401\n"
        b"app = FastAPI()\n",
        "alembic.ini": b"[alembic]\nscript_location = migrations\n"
        b"sqlalchemy.url = sqlite:///./app.db\n",
        "migrations/env.py": b"from alembic import context\nfrom database import Base\n"
        b"target_metadata = Base.metadata\n",
        "migrations/script.py.mako": mako,
        # (a script of its own making them, which nothing runs)
        "initialize.py": b"from app.db import Base, engine\nBase.metadata.create_all(engine)\n",
    }
    [(first, where), (tables, there)] = detect(files).setup_steps()
    assert first[2].startswith("# no revision yet: a first one autogenerated from the models")
    assert tables[2].startswith("# its models' tables: SQLAlchemy models")
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    command = [part.format(python=sys.executable) for part in first]
    env = {"PATH": os.environ["PATH"]}
    failed = subprocess.run(
        command, cwd=tmp_path / (where or ""), env=env, capture_output=True, timeout=120
    )
    assert failed.returncode != 0 and b"No module named 'database'" in failed.stderr
    said = "their history has no revision, so upgrading it makes nothing"
    assert migrations_not_needed(first, files) == said
    assert _run_step(tmp_path, files, tables, there or "") == {"tasks"}


def test_the_programs_run_in_an_apps_own_python_are_written_for_its_oldest() -> None:
    """l1onsun's fastapi-testtask runs on Python 3.8: the service's Alembic step (``alembic
    upgrade heads, else its models' tables``) called ``str.removesuffix``, 3.9's, and died
    on AttributeError, its tables never made (500 "relation user does not exist"). Every
    program the service runs in an app's interpreter (the data steps' module constants, its
    sitecustomize) parses as Python 3.7 and calls no string method newer than it."""
    import importlib
    import re as _re
    from pathlib import Path

    newer = _re.compile(r"\.remove(?:suffix|prefix)\(")
    programs: dict[str, str] = {}
    for name in (
        "preview.apps.alembicheads",
        "preview.apps.createall",
        "preview.apps.datainit",
        "preview.apps.served",
        "preview.builds.remedies.mysqldb",
    ):
        for key, value in vars(importlib.import_module(name)).items():
            if isinstance(value, str) and _re.search(r"^\s*(?:import|from)\s+\w", value, _re.M):
                programs[f"{name}.{key}"] = value
    site = Path(importlib.import_module("preview.apps.routes").__file__ or "").parent
    programs["sitecustomize"] = (site / "site" / "sitecustomize.py").read_text()
    checked = 0
    for where, program in programs.items():
        try:
            ast.parse(program)
        except SyntaxError:
            continue  # a template (``{module!r}``), a program once filled in
        ast.parse(program, feature_version=(3, 7))  # raises SyntaxError, naming the line
        assert not newer.search(program), where
        checked += 1
    assert checked >= 10, checked


_DECLARED_GROUP_APP = {
    "requirements.txt": b"flask\nflask-sqlalchemy\n",
    "setup.py": b"from setuptools import setup\n\nsetup(\n    name='myapi',\n"
    b"    entry_points={'flask.commands': ['myapi = myapi.manage:cli']},\n)\n",
    "myapi/__init__.py": b"",
    "myapi/extensions.py": b"from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
    "myapi/models.py": b"""from myapi.extensions import db


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), unique=True)
""",
    "myapi/app.py": b"""from flask import Flask

from myapi.extensions import db
from myapi.models import User


def create_app():
    app = Flask("myapi")
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///myapi.db"
    db.init_app(app)

    @app.get("/users")
    def users():
        return {"users": [u.username for u in User.query.all()]}

    return app
""",
    "myapi/wsgi.py": b"from myapi.app import create_app\n\napp = create_app()\n",
    "myapi/manage.py": b"""import click
from flask.cli import with_appcontext


@click.group()
def cli():
    \"\"\"Main entry point\"\"\"


@cli.command("init")
@with_appcontext
def init():
    from myapi.extensions import db
    from myapi.models import User

    db.session.add(User(username="admin"))
    db.session.commit()
""",
}


async def test_a_declared_flask_command_groups_init_runs_after_the_tables(
    builder_service: Service,
) -> None:
    """cj-lin's coding-exercise-flask (karec's cookiecutter-flask-restful) makes its admin
    user by ``flask myapi init``: ``myapi`` a Click group its setup.py declares a
    ``flask.commands`` entry point, which Flask's CLI finds where ``pip install -e .``
    installed the project. The service ran ``flask init`` ("No such command"), and took
    that command, which only adds a row, for what makes the tables. Now its entry point is
    written beside the project, the command run under its group, after the tables."""
    found = detect(_DECLARED_GROUP_APP)
    assert found.setup[-1][-3:] == ("flask", "myapi", "init"), found.setup
    assert found.data_init[-1] == "the project's myapi init command", found.data_init
    assert len(found.setup) == 2, found.data_init  # its models' tables first
    with trio.fail_after(BUILD_WAIT):
        files = {p: t.decode() for p, t in _DECLARED_GROUP_APP.items()}
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await builder_service.app_get(body, "/users")).json() == {"users": ["admin"]}
        assert (await builder_service.stop(body["gid"])).status_code == 200


_STALE_ENV = {
    "requirements.txt": b"fastapi\nsqlalchemy\nalembic\n",
    "app/__init__.py": b"",
    "app/main.py": b"""\
import os

from fastapi import FastAPI
from sqlalchemy import Column, Integer, create_engine
from sqlalchemy.orm import declarative_base

engine = create_engine(os.environ["DATABASE_URL"])
Base = declarative_base()


class Hotel(Base):
    __tablename__ = "hotels"
    id = Column(Integer, primary_key=True)


app = FastAPI()
""",
    "alembic.ini": b"[alembic]\nscript_location = migrations\n",
    # Rooms has since moved out of app.main: env.py raises before any migration runs.
    "migrations/env.py": b"""\
from alembic import context
from sqlalchemy import create_engine
import os

from app.main import Base, Rooms

target_metadata = Base.metadata
with create_engine(os.environ["DATABASE_URL"]).connect() as connection:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
""",
    "migrations/script.py.mako": b"",
    "migrations/versions/0001_hotels.py": b"""\
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("hotels", sa.Column("id", sa.Integer, primary_key=True))
""",
}


def test_an_env_py_that_does_not_run_gets_its_models_tables_made_instead(
    tmp_path: Path,
) -> None:
    """PySergBom's hotels-FastAPI: its env.py imports ``Rooms`` from a module it has since
    left, so Alembic neither upgrades nor stamps ("cannot import name 'Rooms'"), and its
    routes answered "relation hotels does not exist". Its models' tables are made as an
    app without migrations gets them (the app imported as its server imports it), its
    history left unstamped."""
    (step,) = data_steps(_STALE_ENV, "app/main.py", find_app(_STALE_ENV))
    for path, data in _STALE_ENV.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    database = tmp_path / "hotels.db"
    argv = [part.format(python=sys.executable) for part in step.argv]
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite:///{database}"}
    done = subprocess.run(
        argv, cwd=tmp_path / step.where, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "its env.py does not run (ImportError: cannot import name 'Rooms'" in done.stderr
    with sqlite3.connect(database) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert tables == {"hotels"}
