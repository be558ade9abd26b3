"""The SQLite URL an app listing a libSQL client is given (``builds.appenv``): libSQL's
client takes ``file:`` URLs only (tcchawla's hono-openapi: drizzle-kit migrate and its
client both refused "sqlite:", URL_SCHEME_NOT_SUPPORTED)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from preview.apps.detect import detect
from preview.apps.spec import LaunchSpec

from ..launching import launch_environment


def _database_url(dependencies: dict[str, str]) -> str:
    package = {"scripts": {"start": "node index.js"}, "dependencies": dependencies}
    files = {"package.json": json.dumps(package).encode(), "index.js": b""}
    now = datetime.now(UTC)
    spec = LaunchSpec(
        "p1", "g1", None, "alice", files, [], 3001, None, now, now, detection=detect(files)
    )
    return launch_environment(spec)["DATABASE_URL"]


def test_an_app_listing_a_libsql_client_is_given_a_file_url() -> None:
    assert _database_url({"@libsql/client": "^0.14.0"}).startswith("file:/")
    assert _database_url({"libsql": "^0.4.0"}).startswith("file:/")
    assert _database_url({"better-sqlite3": "^11"}).startswith("sqlite:///")


def test_a_drizzle_app_on_better_sqlite3_is_given_its_files_path() -> None:
    """destocot's drizzle-express-rest-api: ``new Database(DATABASE_URL)`` for drizzle's
    better-sqlite3 driver, its drizzle.config's url the same: a URL's ``sqlite:`` read as
    a folder ("Cannot open database because the directory does not exist")."""
    url = _database_url({"drizzle-orm": "^0.30", "better-sqlite3": "^9.5.0"})
    assert url.startswith("/") and url.endswith((".db", ".sqlite", ".sqlite3")), url
