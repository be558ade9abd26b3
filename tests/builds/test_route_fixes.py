"""A running app whose route answers 500 for a cause the remedies know is relaunched with
the fix (``runtime.lifecycle.routefixes``, ``builds.relaunch``): a call an unpinned
dependency's newest major rejects, read from the route's traceback; and where the fix
does not make it run, it goes back to what it ran with."""

from __future__ import annotations

from pathlib import Path

import trio

from preview.builds.remedies import Fix

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages
from .test_remedies import PYTHONS, _env_with, _remedies

YAML_500 = [
    "Traceback (most recent call last):",
    '  File "<env>/site-packages/flask/app.py", line 1511, in wsgi_app',
    "    response = self.full_dispatch_request()",
    '  File "<env>/site-packages/flask_swagger.py", line 40, in _parse_docstring',
    "    swag = yaml.load(yaml_part)",
    "           ^^^^^^^^^^^^^^^^^^^^",
    "TypeError: load() missing 1 required positional argument: 'Loader'",
]


def test_a_call_an_unpinned_dependencys_newest_major_rejects_holds_it_below(
    tmp_path: Path,
) -> None:
    """The call is read from the traceback's line above the TypeError (carets apart), its
    module's distribution from the environment, even when another package makes it."""
    env = _env_with(tmp_path, "PyYAML", "6.0.2", "yaml")
    remedies = _remedies(("flask", "flask-swagger"), env)
    message = "GET /spec answered 500 at the smoke check"
    assert remedies.has_fix(message, YAML_500, {}, PYTHONS)
    assert remedies.fixes == []  # asking changes nothing
    fix = remedies.next_fix(message, YAML_500, {}, PYTHONS)
    assert fix is not None and fix.add == "PyYAML<6", fix
    assert fix.said.startswith("yaml.load() rejects the app's call: relaunching with PyYAML<6")
    # A class's __init__: the class called on the line.
    env = _env_with(tmp_path / "m", "marshmallow", "4.0.1", "marshmallow")
    rejected = [
        '    field = marshmallow.fields.String(missing="anonymous")',
        "TypeError: Field.__init__() got an unexpected keyword argument 'missing'",
    ]
    fix = _remedies(("marshmallow",), env).next_fix("", rejected, {}, PYTHONS)
    assert fix is not None and fix.add == "marshmallow<4", fix


def test_a_rejected_call_of_no_dependency_or_a_pinned_one_has_no_fix(tmp_path: Path) -> None:
    env = _env_with(tmp_path, "PyYAML", "6.0.2", "yaml")
    method = [
        "    rows = self.session.query(Item, 1)",
        "TypeError: query() takes 2 positional arguments but 3 were given",
    ]
    assert not _remedies(("flask",), env).has_fix("", method, {}, PYTHONS)
    own = {"yaml/__init__.py": b""}  # the app's own module of that name
    assert not _remedies(("flask",), env).has_fix("", YAML_500, own, PYTHONS)
    assert not _remedies(("PyYAML==6.0.2",), env).has_fix("", YAML_500, {}, PYTHONS)


# Starlette 1 under a FastAPI app with no dependency file (AristonCatipay's
# fast_api_todo_app): the 0.x signature of TemplateResponse, raised deep in Jinja2.
TEMPLATE_500 = [
    "Traceback (most recent call last):",
    '  File "<environment>/lib/python3.11/site-packages/fastapi/routing.py", line 214, in'
    " run_endpoint_function",
    "    return await run_in_threadpool(dependant.call, **values)",
    '  File "<environment>/lib/python3.11/site-packages/anyio/_backends/_asyncio.py", line'
    " 986, in run",
    "    result = context.run(func, *args)",
    '  File "app.py", line 28, in read',
    '    return templates.TemplateResponse("home.html",',
    "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    '  File "<environment>/lib/python3.11/site-packages/starlette/templating.py", line 148,'
    " in TemplateResponse",
    "    template = self.get_template(name)",
    '  File "<environment>/lib/python3.11/site-packages/jinja2/utils.py", line 515, in __getitem__',
    "    rv = self._mapping[key]",
    "TypeError: unhashable type: 'dict'",
]


def test_a_type_error_inside_the_package_the_app_called_holds_that_package(
    tmp_path: Path,
) -> None:
    """The package is the one the app's last frame called (Starlette), not the one that
    raised (Jinja2), nor one the app pins; none where no frame is the app's."""
    env = _env_with(tmp_path, "starlette", "1.10.0", "starlette")
    remedies = _remedies(("fastapi", "jinja2", "sqlalchemy"), env)
    fix = remedies.next_fix("GET / answered 500 at the smoke check", TEMPLATE_500, {}, PYTHONS)
    assert fix is not None and fix.add == "starlette<1", fix
    assert fix.said.startswith("starlette rejects the app's call (TypeError: unhashable type")
    pinned = _remedies(("fastapi", "starlette==1.10.0"), env)
    assert not pinned.has_fix("", TEMPLATE_500, {}, PYTHONS)
    own = {"starlette/__init__.py": b""}  # the app's own package of that name
    assert not _remedies(("fastapi",), env).has_fix("", TEMPLATE_500, own, PYTHONS)
    library_only = [line for line in TEMPLATE_500 if "app.py" not in line]
    assert not _remedies(("fastapi",), env).has_fix("", library_only, {}, PYTHONS)
    raised_by_the_app = [*TEMPLATE_500[:8], "TypeError: can only concatenate str"]
    assert not _remedies(("fastapi",), env).has_fix("", raised_by_the_app, {}, PYTHONS)


# sjaks's sepro-restful-flask: Flask-SQLAlchemy 2's ``db.app = app`` then a module-level
# ``db.create_all()``, which Flask-SQLAlchemy 3 refuses outside an app's context.
OUTSIDE_CONTEXT = [
    "Traceback (most recent call last):",
    '  File "app.py", line 19, in <module>',
    "    db.create_all()",
    '  File "<environment>/lib/python3.11/site-packages/flask_sqlalchemy/extension.py", line'
    " 900, in create_all",
    '    self._call_for_binds(bind_key, "create_all")',
    '  File "<environment>/lib/python3.11/site-packages/werkzeug/local.py", line 519, in'
    " _get_current_object",
    "    raise RuntimeError(unbound_message) from None",
    "RuntimeError: Working outside of application context.",
]


def test_an_extension_flask_refuses_outside_an_app_context_is_held_below(
    tmp_path: Path,
) -> None:
    """The extension the app's frame called (Flask-SQLAlchemy) is held below its major;
    not where the app's frame called Flask's or Werkzeug's own (``current_app`` used at
    import: the app's error), nor another RuntimeError."""
    env = _env_with(tmp_path, "Flask-SQLAlchemy", "3.1.1", "flask_sqlalchemy")
    remedies = _remedies(("flask", "flask-sqlalchemy", "psycopg2-binary"), env)
    fix = remedies.next_fix("", OUTSIDE_CONTEXT, {}, PYTHONS)
    assert fix is not None and fix.add == "Flask-SQLAlchemy<3", fix
    own_call = [*OUTSIDE_CONTEXT[:3], *OUTSIDE_CONTEXT[5:]]
    assert not _remedies(("flask", "flask-sqlalchemy"), env).has_fix("", own_call, {}, PYTHONS)
    other = [*OUTSIDE_CONTEXT[:-1], "RuntimeError: event loop is closed"]
    assert not _remedies(("flask", "flask-sqlalchemy"), env).has_fix("", other, {}, PYTHONS)


# Aditya-Bajpai-Consultadd's DRF-Fitness-Mgmt: @permission_classes above @api_view, which
# DRF's decorator refuses by a raise of its own, on purpose.
DECORATOR_ORDER = [
    "Traceback (most recent call last):",
    '  File "manage.py", line 22, in <module>',
    "    main()",
    '  File "<environment>/lib/python3.11/site-packages/django/urls/resolvers.py", line 718,'
    " in urlconf_module",
    "    return import_module(self.urlconf_name)",
    '  File "main/views.py", line 26, in <module>',
    "    @permission_classes([IsAuthenticated])",
    "     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    '  File "<environment>/lib/python3.11/site-packages/rest_framework/decorators.py", line 152,'
    " in decorator",
    "    _check_decorator_order(func, 'permission_classes')",
    '  File "<environment>/lib/python3.11/site-packages/rest_framework/decorators.py", line 99,'
    " in _check_decorator_order",
    "    raise TypeError(",
    "TypeError: @permission_classes must come after (below) the @api_view decorator. The "
    "incorrect usage is to apply @api_view(...) again on top of @permission_classes.",
]


def test_a_type_error_the_called_function_raises_itself_is_the_calls_not_drift(
    tmp_path: Path,
) -> None:
    """DRF's decorator refuses the app's decorator order by its own ``raise TypeError``:
    no release held below makes that call right (held, DRF 2 then an old Django followed,
    each failing anew). A TypeError raised deeper than the function the app called, or by
    Python itself there, is still read as drift (TEMPLATE_500)."""
    env = _env_with(tmp_path, "djangorestframework", "3.15.2", "rest_framework")
    remedies = _remedies(("django", "djangorestframework"), env)
    assert not remedies.has_fix("", DECORATOR_ORDER, {}, PYTHONS)
    by_python = [
        *DECORATOR_ORDER[:-2],
        "    func.permission_classes = classes",
        DECORATOR_ORDER[-1],
    ]
    fix = _remedies(("django", "djangorestframework"), env).next_fix("", by_python, {}, PYTHONS)
    assert fix is not None and fix.add == "djangorestframework<3", fix


def test_fixes_that_did_not_make_it_run_are_taken_back_and_refused(tmp_path: Path) -> None:
    env = _env_with(tmp_path, "PyYAML", "6.0.2", "yaml")
    remedies = _remedies(("flask",), env)
    assert remedies.back_to_what_ran() is None  # it never ran
    remedies.fixes = [Fix("earlier", add="Flask<3")]
    remedies.ran()
    assert remedies.back_to_what_ran() is None  # nothing since
    fix = remedies.next_fix("", YAML_500, {}, PYTHONS)
    assert fix is not None
    build = Fix("a build failed", build="Cython<3")
    remedies.fixes.append(build)
    assert remedies.back_to_what_ran() == [fix, build]
    assert remedies.fixes == [Fix("earlier", add="Flask<3")]
    assert not remedies.has_fix("", YAML_500, {}, PYTHONS)  # refused from then on


def test_an_old_sdist_cython_3_cannot_build_builds_on_cython_2() -> None:
    lines = [
        "  × Failed to build `pyyaml==5.4.1`",
        "      AttributeError: cython_sources",
        "      AttributeError: 'Distribution' object has no attribute 'cython_sources'",
    ]
    fix = _remedies(("pyyaml<6",)).next_fix("", lines, {}, PYTHONS)
    assert fix is not None and fix.build == "Cython<3", fix


async def _smoke_checks_of_two_runs(service: Service, gid: str) -> tuple[list[str], list[str]]:
    """The smoke checks' lines of the first run and of the relaunched one (and every
    system line), once both are said; the preview never failed meanwhile."""
    checks: list[str] = []
    system: list[str] = []
    while len(checks) < 2:  # the first run's, then the relaunched one's
        body = await service.status(gid)
        assert body["status"] in ("running", "stopping", "starting"), body
        await trio.sleep(0.2)  # (its log, polled: no event says a check was made)
        system = messages(await service.history(gid), "system")
        checks = [line for line in system if line.startswith("smoke check:")]
    return checks, system


async def test_a_route_that_answers_500_for_a_known_cause_is_fixed_by_a_relaunch(
    smoke_builder: Service,
) -> None:
    service = smoke_builder
    with trio.fail_after(BUILD_WAIT * 2):
        gid = await service.upload(app_files("flask_route_rejected_call"))
        response = await service.launch(gid, tier="pro", wait=False)
        assert response.status_code == 200, response.text
        said = await service.first_system_line(gid, "fix 1:")
        assert "marshmallow.fields.String() rejects the app's call" in said, said
        assert "marshmallow<4" in said, said
        checks, system = await _smoke_checks_of_two_runs(service, gid)
        assert checks[0].startswith("smoke check: 1 of 2 GET routes fail: /schema (500)")
        assert checks[1] == "smoke check: 2 GET routes answer", system
        body = await service.status(gid)
        assert body["status"] == "running" and body["health"]["ok"], body
        answer = (await service.app_get({"gid": gid, **body}, "/schema")).json()
        assert answer["default"] == "anonymous" and answer["marshmallow"].startswith("3.")
        assert (await service.stop(gid)).status_code == 200


async def test_a_route_given_no_answer_for_a_known_cause_is_fixed_by_a_relaunch(
    smoke_builder: Service,
) -> None:
    """YingLuoNou's django-leave-backend: every route's view module imports pytz, which
    its requirements do not list; Django's error page took longer than the smoke check
    waits, so the routes gave no answer, not a 500, and no fix was looked for. The
    traceback the app printed is read as a 500's is: relaunched with pytz."""
    service = smoke_builder
    with trio.fail_after(BUILD_WAIT * 2):
        gid = await service.upload(app_files("flask_route_slow_missing_module"))
        response = await service.launch(gid, tier="pro", wait=False)
        assert response.status_code == 200, response.text
        said = await service.first_system_line(gid, "fix 1:")
        assert "pytz" in said, said
        checks, system = await _smoke_checks_of_two_runs(service, gid)
        assert checks[0].startswith("smoke check: 1 of 2 GET routes fail: /zones (no answer)")
        assert checks[1] == "smoke check: 2 GET routes answer", system
        body = await service.status(gid)
        answer = (await service.app_get({"gid": gid, **body}, "/zones")).json()
        assert answer == {"zones": True}
        assert (await service.stop(gid)).status_code == 200


def test_a_package_saying_what_to_install_gets_it_added(tmp_path: Path) -> None:
    """A package's own exception naming what the app needs (an optional dependency it
    stopped bringing) adds it, the alternative the app imports first, never what is
    installed already; a module's name is read as its distribution."""
    lines = [
        '  File "<env>/site-packages/quart_schema/conversion.py", line 213, in model_schema',
        "    raise TypeError(",
        "TypeError: Cannot create schema for <class 'api.TodoIn'> - try installing msgspec"
        " or pydantic",
    ]
    remedies = _remedies(("quart", "quart-schema"))
    fix = remedies.next_fix("GET /openapi.json answered 500", lines, {}, PYTHONS)
    assert fix is not None and fix.add == "msgspec", fix
    assert fix.said.startswith("the app needs msgspec, which its dependencies do not install")
    uses = {"api/models.py": b"from pydantic import BaseModel\n"}
    fix = _remedies(("quart-schema",)).next_fix("", lines, uses, PYTHONS)
    assert fix is not None and fix.add == "pydantic", fix
    env = _env_with(tmp_path, "msgspec", "0.19.0", "msgspec")
    assert not _remedies(("quart-schema",), env).has_fix("", lines, {}, PYTHONS)
    siblings = {
        (
            "ImportError: email-validator is not installed, run `pip install pydantic[email]`"
        ): "pydantic[email]",
        'RuntimeError: Form data requires "python-multipart" to be installed. ': "python-multipart",
        "AssertionError: jinja2 must be installed to use Jinja2Templates": "Jinja2",
        # somarjez's Flask-Ecommerce: WTForms' Email() in a form, email_validator unlisted
        "Exception: Install 'email_validator' for email validation support.": "email_validator",
    }
    for line, wanted in siblings.items():
        fix = _remedies(("fastapi",)).next_fix("", [line], {}, PYTHONS)
        assert fix is not None and fix.add == wanted, (line, fix)
    # Not an exception's line (a log's advice), nor the app's own module.
    advice = ["WARNING: to use it, pip install msgspec"]
    assert not _remedies(("quart-schema",)).has_fix("", advice, {}, PYTHONS)
    assert not _remedies(("x",)).has_fix(
        "", lines, {"msgspec.py": b"", "pydantic/a.py": b""}, PYTHONS
    )


def test_a_name_a_package_requires_and_offers_as_an_extra_is_added(tmp_path: Path) -> None:
    """KiranPrasath-26's flask-kanban: Flask-Security-Too 5 (unpinned) raises "nh3 is
    required for USERNAME_ENABLE" at start, nh3 being one of its extras' requirements: it
    is added. A name no installed package offers so (a form's field) is not."""
    env = _env_with(tmp_path, "Flask-Security-Too", "5.4.0", "flask_security")
    metadata = next(tmp_path.rglob("METADATA"))
    metadata.write_text(metadata.read_text() + 'Requires-Dist: nh3>=0.2.13; extra == "common"\n')
    line = "ValueError: nh3 is required for USERNAME_ENABLE"
    fix = _remedies(("Flask-Security-Too",), env).next_fix("", [line], {}, PYTHONS)
    assert fix is not None and fix.add == "nh3", fix
    field = "ValueError: username is required for login"
    assert not _remedies(("Flask-Security-Too",), env).has_fix("", [field], {}, PYTHONS)


async def test_a_route_failing_for_a_model_library_its_package_names_runs_with_it(
    smoke_builder: Service,
) -> None:
    """Quart's API example (quart-schema unbounded, no model library listed): its OpenAPI
    route answers 500, the relaunch adds what quart-schema says to install, and then all
    its GET routes answer."""
    service = smoke_builder
    with trio.fail_after(BUILD_WAIT * 2):
        gid = await service.upload(app_files("quart_schema_optional_model"))
        response = await service.launch(gid, tier="pro", wait=False)
        assert response.status_code == 200, response.text
        # (quart-schema 0.25 imports typing_extensions, which it does not list either: a
        # fix of the launch before, where its newest still does)
        said = await service.first_system_line(gid, "the app needs msgspec, which its")
        assert said.startswith("fix ") and "relaunching with it added" in said, said
        checks, system = await _smoke_checks_of_two_runs(service, gid)
        assert "/openapi.json (500)" in checks[0], system
        assert checks[1].endswith("GET routes answer"), system
        body = await service.status(gid)
        assert body["status"] == "running" and body["health"]["ok"], body
        assert (await service.app_get({"gid": gid, **body}, "/")).json() == {"models": ["msgspec"]}
        schema = await service.app_get({"gid": gid, **body}, "/openapi.json")
        assert schema.status_code == 200 and "TodoIn" in schema.text, schema.text
        assert (await service.stop(gid)).status_code == 200


def test_a_django_check_naming_what_to_install_gets_it_added() -> None:
    """Django's system check stops manage.py before any traceback, saying what a field
    needs: "(fields.E210) Cannot use ImageField because Pillow is not installed" (suwasghale's
    drf-api lists no Pillow; its makemigrations failed the launch). A check's other errors
    name nothing to install."""
    line = (
        "products.Category.image: (fields.E210) Cannot use ImageField because Pillow is not "
        "installed."
    )
    fix = _remedies(("django",)).next_fix("setup step failed", ["ERRORS:", line], {}, PYTHONS)
    assert fix is not None and fix.add == "Pillow", fix
    other = (
        "shop.Item.owner: (fields.E300) Field defines a relation with model 'User', which is"
        " either not installed, or is abstract."
    )
    assert not _remedies(("django",)).has_fix("", [other], {}, PYTHONS)


async def test_a_django_model_with_an_image_field_runs_with_pillow_added(
    smoke_builder: Service,
) -> None:
    service = smoke_builder
    with trio.fail_after(BUILD_WAIT * 2):
        body = await launched(service, app_files("django_imagefield_no_pillow"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await service.history(body["gid"]), "system")
        assert any("the app needs Pillow" in line for line in said), said
        assert (await service.app_get(body, "/photos/")).json() == {"photos": ["first"]}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_an_earlier_attempts_traceback_is_no_cause_of_a_later_ones_500s(
    smoke_builder: Service,
) -> None:
    service = smoke_builder
    with trio.fail_after(BUILD_WAIT * 2):
        gid = await service.upload(app_files("flask_markup_then_500"))
        response = await service.launch(gid, tier="pro", wait=False)
        assert response.status_code == 200, response.text
        checked = await service.first_system_line(gid, "smoke check:")
        assert checked.startswith("smoke check: 1 of 2 GET routes fail: /broken (500)"), checked
        body = await service.status(gid)
        while body["health"] is None and body["status"] in ("starting", "running"):
            await trio.sleep(0.1)  # (its result stands once no fix is taken for it)
            body = await service.status(gid)
        system = messages(await service.history(gid), "system")
        fixes = [line for line in system if line.startswith("fix ")]
        # Its ImportError's fixes alone (2.3 dropped the name too), none for the 500
        assert fixes and all("htmlsafe_dumps is gone" in f for f in fixes), system
        assert body["status"] == "running", (body, system)
        assert (await service.app_get({"gid": gid, **body}, "/items")).status_code == 200
        assert (await service.stop(gid)).status_code == 200


async def test_an_optional_step_failing_for_a_package_it_lacks_is_relaunched_with_it(
    builder_service: Service,
) -> None:
    """vivek-github-s's Task-Manager-FastAPI: its alembic upgrade (optional: its models'
    tables are made where its history does not upgrade) failed on "No module named
    'psycopg'", was dropped, and every table's route answered 500. A known fix comes
    first: the launch fails on the step and is relaunched with the package; the step then
    runs (here, a seed importing tabulate, which requirements.txt leaves out)."""
    files = {
        "requirements.txt": "fastapi\nuvicorn\n",
        "Procfile": "release: python seed.py\nweb: uvicorn main:app --port $PORT\n",
        "seed.py": """import sqlite3

from tabulate import tabulate

db = sqlite3.connect("shop.db")
db.execute("CREATE TABLE IF NOT EXISTS product (name TEXT)")
db.execute("INSERT INTO product VALUES ('ski')")
db.commit()
print(tabulate([["ski"]], headers=["name"]))
""",
        "main.py": """import sqlite3

from fastapi import FastAPI

app = FastAPI()


@app.get("/products")
def products():
    with sqlite3.connect("shop.db") as db:
        return [name for (name,) in db.execute("SELECT name FROM product")]
""",
    }
    with trio.fail_after(BUILD_WAIT * 2):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await builder_service.app_get(body, "/products")
        said = messages(await builder_service.history(body["gid"]), "system")
        assert answer.status_code == 200 and answer.json() == ["ski"], answer.text
        assert any("adding tabulate" in m for m in said), said
        assert (await builder_service.stop(body["gid"])).status_code == 200
