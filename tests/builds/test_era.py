"""An app whose unpinned dependencies' newest releases broke it is relaunched with them
resolved as of its own pins' era (``preview.builds.remedies.era``): the era read from a
package index's PEP 700 upload times (a local one served over HTTP here), the failures
that call for it, the install it makes; and a real launch, whose packaging is resolved
from PyPI as of its Starlette pin."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import trio

from preview.apps.depspec import PythonDeps
from preview.builds.remedies import Remedies
from preview.builds.remedies.era import (
    Era,
    dated,
    migrations_era,
    read_era,
    third_party_failure,
)
from preview.builds.remedies.fixes import Tried
from preview.builds.wheelindex import wheel_gaps

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, messages
from ..thread_http import serving_on_a_thread

PYTHONS = ["3.11.7", "3.10.13", "3.9.18"]
# What the local index lists: project -> (file name, its upload time).
INDEX = {
    "fastapi": [
        ("fastapi-0.95.1-py3-none-any.whl", "2023-04-12T10:00:00.000000Z"),
        ("fastapi-0.95.1.tar.gz", "2023-04-12T10:00:01.000000Z"),
        ("fastapi-0.110.0-py3-none-any.whl", "2024-02-24T09:00:00.000000Z"),
    ],
    "cryptography": [("cryptography-3.3.2.tar.gz", "2021-02-07T14:00:00.000000Z")],
    "sqlalchemy": [("SQLAlchemy-1.4.0.tar.gz", "2021-03-15T21:00:00.000000Z")],
    "passlib": [("passlib-1.7.4-py2.py3-none-any.whl", "2020-10-08T19:00:00.000000Z")],
    "greenlet": [
        ("greenlet-1.1.0.tar.gz", "2021-05-06T10:00:00.000000Z"),
        ("greenlet-1.1.0-cp39-cp39-manylinux2014_x86_64.whl", "2021-05-06T10:01:00.000000Z"),
        ("greenlet-3.0.0-cp311-cp311-manylinux2014_x86_64.whl", "2023-10-02T10:00:00.000000Z"),
    ],
}


class _Index(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        name = self.path.strip("/").split("/")[-1]
        if name not in INDEX:
            self.send_response(404)
            self.end_headers()
            return
        files = [{"filename": f, "upload-time": t, "hashes": {}} for f, t in INDEX[name]]
        body = json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files})
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def index() -> Iterator[str]:
    with serving_on_a_thread(_Index) as port:
        yield f"http://127.0.0.1:{port}/simple/"


def _deps(*lines: str) -> PythonDeps:
    return PythonDeps(lines, "requirements.txt", None, None)


async def test_the_era_is_the_newest_release_among_the_apps_own_pins(index: str) -> None:
    era = await read_era(_deps("fastapi==0.95.1", "cryptography==3.3.2", "passlib"), index, "")
    assert era is not None and era == Era("2023-04-12", "fastapi==0.95.1")
    assert era.until == "2023-07-11T00:00:00Z"  # 90 days after it
    # A range's floor counts too: no version older than the app allows.
    floored = await read_era(_deps("cryptography==3.3.2", "sqlalchemy>=1.4.0"), index, "")
    assert floored == Era("2021-03-15", "sqlalchemy>=1.4.0")
    # No exact pin, no index, or an index that does not say: no era.
    assert await read_era(_deps("fastapi>=0.95.1", "passlib"), index, "") is None
    # Every line pinned: what they depend on is open all the same (edesz's
    # fastapi-async-db-auth: pandas==1.2.4 under NumPy 2, uvicorn==0.14.0 the newest uvloop).
    every = await read_era(_deps("fastapi==0.95.1", "passlib==1.7.4"), index, "")
    assert every == Era("2023-04-12", "fastapi==0.95.1")
    assert await read_era(_deps("fastapi==0.95.1"), "none", "") is None
    assert await read_era(_deps("unknown==1.0"), index, "") is None
    # A lock's pins (poetry.lock's, as constraints) date it: what the lock does not hold
    # comes at its newest (MalikDeveloper2077's fastapi-music-library: the newest uvicorn
    # beside its typing-extensions 3.10); a constraint of another kind (pydantic<2, read
    # from the code) leaves the era.
    pinned = PythonDeps(("fastapi==0.95.1", "passlib"), "pyproject.toml", None, None)
    locked = replace(pinned, constraints=("passlib==1.7.4", "greenlet==1.1.0"))
    assert await read_era(locked, index, "") == Era("2021-05-06", "greenlet==1.1.0")
    assert await read_era(replace(pinned, constraints=("pydantic<2",)), index, "") == era


async def test_an_app_that_pins_nothing_is_dated_by_its_newest_migration(index: str) -> None:
    """Nothing pinned (or no requirements at all): the day its migrations' tool wrote in the
    newest one's header, Django's or Alembic's, is the day the app ran with what was
    released then; pins, where there are any, date it as before."""
    upload = {
        "shop/migrations/0001_initial.py": b"# Generated by Django 3.1.2 on 2020-10-26 14:33\n",
        "shop/migrations/0002_price.py": b"# Generated by Django 3.2.4 on 2021-06-15 09:01\n",
        "migrations/versions/ab12_add_users.py": (
            b'"""add users\n\nRevision ID: ab12\nRevises:\n'
            b'Create Date: 2021-03-04 10:11:12.5\n"""\n'
        ),
        "notes/versions/readme.py": b"Create Date: 2030-01-01 00:00:00\n",  # not yet come
        "main.py": b"# Generated by Django 9.9 on 2024-01-01 00:00\n",  # not a migration's
    }
    era = Era("2021-06-15", "shop/migrations/0002_price.py", "its newest migration")
    assert migrations_era(upload) == era
    assert await read_era(_deps("django", "djangorestframework"), index, "", upload) == era
    inferred = replace(_deps("django"), inferred="what the app imports")
    assert await read_era(inferred, index, "", upload) == era
    assert await read_era(_deps("django"), index, "", {"main.py": b""}) is None
    assert await read_era(_deps("fastapi==0.95.1", "passlib"), index, "", upload) == Era(
        "2023-04-12", "fastapi==0.95.1"
    )
    assert await read_era(_deps("django"), "none", "", upload) is None  # no upload times


def test_a_fix_dated_by_a_migration_says_so(tmp_path: Path) -> None:
    env = _env(tmp_path, "passlib", "1.7.4", "passlib")
    tried = Tried(deps=_deps("passlib[bcrypt]"), env_path=env)
    tried.era = Era("2021-06-15", "shop/migrations/0002_price.py", "its newest migration")
    fix = dated(BCRYPT, tried, {})[0]
    assert fix.before == "2021-09-13T00:00:00Z"
    assert fix.said.startswith(
        "dependencies resolved as of 2021-09-13, 90 days after its newest migration"
        " (shop/migrations/0002_price.py, 2021-06-15)"
    )


async def test_the_interpreter_is_chosen_for_the_wheels_of_the_era(index: str) -> None:
    """Resolved as of 2021, greenlet is 1.1.0, whose wheels stop at 3.9: the Python
    that has them is the one the dated install takes first."""
    pythons = ["3.11.7", "3.9.18"]
    now = await wheel_gaps(["greenlet"], pythons, index, "")
    assert now is not None and now["3.11.7"].cost == (0, 0) and now["3.9.18"].cost == (0, 1)
    then = await wheel_gaps(["greenlet"], pythons, index, "", before="2021-08-01T00:00:00Z")
    assert then is not None and then["3.11.7"].unbuilt == ("greenlet==1.1.0",)
    assert then["3.9.18"].cost == (0, 0)


def _env(tmp_path: Path, name: str, version: str, top: str, source: str = "") -> Path:
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "top_level.txt").write_text(top + "\n")
    (site / top).mkdir(exist_ok=True)
    (site / top / "__init__.py").write_text(source)
    return tmp_path


BCRYPT = [
    "Traceback (most recent call last):",
    '  File "/app/alembic/versions/0001_users.py", line 30, in upgrade',
    "    password=get_password_hash('admin'),",
    '  File "<environment>/lib/python3.11/site-packages/passlib/handlers/bcrypt.py", '
    "line 655, in _calc",
    "    hash = _bcrypt.hashpw(secret, config)",
    "ValueError: password cannot be longer than 72 bytes, truncate manually if necessary",
]


def test_a_failure_raised_in_a_dependency_calls_for_the_apps_era(tmp_path: Path) -> None:
    env = _env(tmp_path, "passlib", "1.7.4", "passlib")
    tried = Tried(deps=_deps("cryptography==3.3.2", "passlib[bcrypt]"), env_path=env)
    assert third_party_failure(BCRYPT, tried, {})
    assert dated(BCRYPT, tried, {}) == []  # no era read: nothing to resolve as of
    tried.era = Era("2021-02-07", "cryptography==3.3.2")
    fix = dated(BCRYPT, tried, {})[0]
    assert fix.before == "2021-05-08T00:00:00Z"
    assert "resolved as of 2021-05-08" in fix.said
    assert "(cryptography==3.3.2, 2021-02-07)" in fix.said
    # About a module a package installs (logtail's), and a rejected positional call.
    about = ["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>']
    gone = [*about, "AttributeError: module 'passlib' has no attribute 'LogtailHandler'"]
    assert third_party_failure(gone, tried, {})
    # A module of the package its code uses unimported (jdht1992's fastapi-shipment:
    # ``rich.panel`` after ``import rich``): no release of it, nor of any, mends that.
    (env / "lib" / "python3.11" / "site-packages" / "passlib" / "hosts.py").write_text("")
    unimported = [*about, "AttributeError: module 'passlib' has no attribute 'hosts'"]
    assert not third_party_failure(unimported, tried, {})
    call = [*about, "TypeError: paginate() takes 1 positional argument but 3 were given"]
    assert third_party_failure(call, tried, {})
    # Not a package's API: the app's own error, a database absent, an install's failure.
    own = [*about, "RuntimeError: set DATABASE_URL"]
    assert not third_party_failure(own, tried, {})
    database = [*BCRYPT[:5], "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) x"]
    assert not third_party_failure(database, tried, {})
    install = ["  × Failed to build `psycopg2==2.7.3`", *BCRYPT]
    assert not third_party_failure(install, tried, {})
    # A server's own exception after its worker's refused login (keerthana1247's
    # learning-path-dashboard under gunicorn): the login's, not a package's API.
    refused = [
        *about,
        "mysql.connector.errors.ProgrammingError: 1045 (28000): Access denied for user",
        "Traceback (most recent call last):",
        '  File "<environment>/lib/python3.11/site-packages/gunicorn/arbiter.py", line 9',
        "gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>",
    ]
    assert not third_party_failure(refused, tried, {})
    assert third_party_failure(refused[2:], tried, {})  # (that server's alone: its own)
    # Its own module of the name: the app's; a distribution a fix guessed: the guess's.
    assert not third_party_failure(gone, tried, {"passlib/__init__.py": b""})
    guessed = Tried(deps=_deps("cryptography==3.3.2", "passlib"), env_path=env)
    guessed.listed = _deps("cryptography==3.3.2")
    assert not third_party_failure(gone, guessed, {})


def test_the_dated_install_comes_last_once_and_is_withdrawn_when_it_fails(
    tmp_path: Path,
) -> None:
    remedies = Remedies()
    listed = _deps("cryptography==3.3.2", "passlib[bcrypt]")
    remedies.tried = Tried(deps=listed, listed=listed, python_version="3.11.7")
    remedies.tried.env_path = _env(tmp_path, "passlib", "1.7.4", "passlib")
    remedies.tried.era = Era("2021-02-07", "cryptography==3.3.2")
    fix = remedies.next_fix(BCRYPT[-1], BCRYPT, {}, PYTHONS)
    assert fix is not None and fix.before and fix.change == "resolved as of 2021-05-08"
    deps = remedies.apply(listed)
    assert deps.exclude_newer == "2021-05-08T00:00:00Z"
    assert deps.key("3.11", (), "") != listed.key("3.11", (), "")  # an environment apart
    assert remedies.next_fix(BCRYPT[-1], BCRYPT, {}, PYTHONS) is None  # once
    # Its install failed for a cause no fix knows: taken back, never tried again.
    assert remedies.withdraw_dated() == fix
    assert remedies.apply(listed).exclude_newer is None
    assert remedies.next_fix(BCRYPT[-1], BCRYPT, {}, PYTHONS) is None


def test_a_hold_after_which_the_failure_came_back_gives_way_to_the_apps_era(
    tmp_path: Path,
) -> None:
    """cabudies' library-management-fastapi lists floors only (``fastapi>=0.104.0``,
    ``fastapi-versioning>=0.10.0``), its Alembic history dated 2024-12-07; FastAPI 0.165's
    routes hold an ``_IncludedRouter``, whose ``endpoint`` fastapi-versioning reads. Held
    a minor lower each time (``fastapi<0.165``, ``<0.164`` …), the same failure came back
    four times and it never ran: after the first hold that changed nothing, the app's
    era comes before a further step down."""
    source = "class _IncludedRouter:\n    pass\n"
    env = _env(tmp_path / "newest", "fastapi", "0.165.0", "fastapi", source)
    held = _env(tmp_path / "held", "fastapi", "0.164.0", "fastapi", source)  # its next install
    listed = _deps("fastapi>=0.104.0", "fastapi-versioning>=0.10.0")
    remedies = Remedies()
    remedies.tried = Tried(deps=listed, listed=listed, python_version="3.11.7", env_path=env)
    remedies.tried.era = Era("2024-12-07", "alembic/versions/1e62_init.py", "its newest migration")
    lines = [
        "Traceback (most recent call last):",
        '  File "/app/app/main.py", line 40, in <module>',
        "    app = VersionedFastAPI(",
        '  File "<environment>/lib/python3.11/site-packages/fastapi_versioning/versioning.py", '
        "line 24, in version_to_route",
        '    version = getattr(api_route.endpoint, "_api_version", default_version)',
        "AttributeError: '_IncludedRouter' object has no attribute 'endpoint'",
    ]
    files = {"app/main.py": b""}
    first = remedies.next_fix(lines[-1], lines, files, PYTHONS)
    assert first is not None and first.add == "fastapi<0.165", first  # the narrowest first
    remedies.failure_before = (lines[-1], lines, None)
    remedies.tried.env_path = held
    second = remedies.next_fix(lines[-1], lines, files, PYTHONS)
    assert second is not None and second.change == "resolved as of 2025-03-07", second
    assert "its newest migration" in second.said
    # Another failure after a hold (it made progress): the narrower fixes still come first.
    remedies = Remedies()
    remedies.tried = Tried(deps=listed, listed=listed, python_version="3.11.7", env_path=env)
    remedies.tried.era = Era("2024-12-07", "alembic/versions/1e62_init.py", "its newest migration")
    assert remedies.next_fix(lines[-1], lines, files, PYTHONS) == first
    remedies.failure_before = ("ImportError: x", ["ImportError: x"], None)
    remedies.tried.env_path = held
    following = remedies.next_fix(lines[-1], lines, files, PYTHONS)
    assert following is not None and following.add == "fastapi<0.164", following


def test_a_method_an_unpinned_dependency_made_keyword_only_holds_it(tmp_path: Path) -> None:
    """Sylvance's flask-restful-recipes-api calls ``query.paginate(page, limit)``, which
    Flask-SQLAlchemy 3 takes by keyword only: the one unpinned package defining
    ``paginate`` is held below its major."""
    query = "class Query:\n    def paginate(self, *, page=None, per_page=None):\n        pass\n"
    env = _env(tmp_path, "Flask-SQLAlchemy", "3.1.1", "flask_sqlalchemy", query)
    _env(tmp_path, "Flask", "3.0.0", "flask", "def url_for(endpoint):\n    pass\n")
    # Its RECORD names its script as "../../../bin/flask" (no top_level.txt): no package.
    flask = env / "lib" / "python3.11" / "site-packages" / "Flask-3.0.0.dist-info"
    (flask / "top_level.txt").unlink()
    (flask / "RECORD").write_text("../../../bin/flask,,\nflask/__init__.py,,\n")
    remedies = Remedies()
    listed = _deps("Flask", "Flask-SQLAlchemy")
    remedies.tried = Tried(deps=listed, listed=listed, python_version="3.11.7", env_path=env)
    lines = [
        "Traceback (most recent call last):",
        '  File "/app/code/helpers.py", line 31, in wrapped',
        "    p = query.paginate(page, limit)",
        "TypeError: paginate() takes 1 positional argument but 3 were given",
    ]
    fix = remedies.next_fix(lines[-1], lines, {"code/helpers.py": b""}, PYTHONS)
    assert fix is not None and fix.add == "Flask-SQLAlchemy<3", fix
    assert "flask_sqlalchemy's paginate() rejects the app's call" in fix.said
    # Defined by two packages: whose it is is not known.
    _env(tmp_path, "Flask", "3.0.0", "flask", "def paginate(items):\n    pass\n")
    remedies = Remedies()
    remedies.tried = Tried(deps=listed, listed=listed, python_version="3.11.7", env_path=env)
    assert remedies.next_fix(lines[-1], lines, {}, PYTHONS) is None


async def test_an_app_its_unpinned_dependencys_newest_release_broke_runs_as_of_its_era(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT * 2):
        gid = await service.upload(app_files("starlette_era"))
        response = await service.launch(gid, tier="pro", wait=False)
        assert response.status_code == 200, response.text
        body = {"gid": gid, **response.json()}
        while body["status"] in ("starting", "stopping"):
            await trio.sleep(0.2)
            body = {"gid": gid, **await service.status(gid)}
        said = messages(await service.history(gid), "system")
        assert body["status"] == "running", (body["errorMessage"], said)
        fixes = [line for line in said if line.startswith("fix ")]
        assert len(fixes) == 1, fixes
        assert "resolved as of 2022-09-26" in fixes[0] and "starlette==0.20.4" in fixes[0]
        answer = (await service.app_get(body, "/")).json()
        assert answer == {"release": "2.x-legacy", "kind": "LegacyVersion"}
        await service.stop(gid)


def test_an_eras_resolution_takes_todays_build_tools() -> None:
    """flasksqlalchemy-etrunon's era (2016-07-21) held setuptools to 24.2.0, and building
    SQLAlchemy 1.0.14 from its sdist asked for setuptools>=40.8.0: "only setuptools<=24.2.0
    is available". The era bounds what the app installs, not the tools that build it."""
    deps = replace(_deps("sqlalchemy==1.0.14"), exclude_newer="2016-07-21T00:00:00Z")
    dated = deps.dated()
    assert dated[:2] == ("--exclude-newer", "2016-07-21T00:00:00Z")
    exempt = dict(v.split("=", 1) for f, v in zip(dated[2::2], dated[3::2], strict=True))
    assert {"setuptools", "wheel"} <= exempt.keys(), dated
    # psycopg2-binary, the service's own in psycopg2's place, was first released in 2018.
    assert "psycopg2-binary" in exempt, dated
    assert all(when > "2100" for when in exempt.values()), dated
    assert _deps("x").dated() == ()
