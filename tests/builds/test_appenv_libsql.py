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
