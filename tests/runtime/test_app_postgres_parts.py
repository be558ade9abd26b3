"""An app whose settings name PostgreSQL's parts rather than a URL
(``DATABASE_HOSTNAME``, ``DATABASE_USERNAME`` …) gets each of them for its preview's own
server. Real builds, real servers, real sandboxes."""

from __future__ import annotations

import pytest
import trio

from preview.backing.pgprivate import server_binaries
from preview.backing.postgres import postgres_variables

from ..conftest import Service
from .test_app_postgres import _proxied, _sandboxed, _settled
from .test_build import BUILD_WAIT

needs_server = pytest.mark.skipif(
    server_binaries() is None, reason="PostgreSQL's server binaries are not installed"
)


def test_each_prefix_gives_host_and_user_under_both_spellings() -> None:
    variables = postgres_variables({"DATABASE_USERNAME": "course"}, "127.0.0.1", 5432)
    for prefix in ("POSTGRES", "DB", "DATABASE"):
        assert variables[f"{prefix}_HOSTNAME"] == variables[f"{prefix}_HOST"] == "127.0.0.1"
        assert variables[f"{prefix}_USERNAME"] == variables[f"{prefix}_USER"] == "course"
    assert variables["DATABASE_NAME"] == variables["DB_NAME"] == "app"
    assert variables["DATABASE_URL"] == "postgresql://course:postgres@127.0.0.1:5432/app"


@needs_server
async def test_settings_requiring_the_database_parts_connect(builder_service: Service) -> None:
    # The FastAPI course's Settings: its launch failed, "these 4 variables are needed:
    # DATABASE_HOSTNAME, DATABASE_PORT, DATABASE_NAME, DATABASE_USERNAME", and its
    # DATABASE_PASSWORD was a throwaway secret, not the server's.
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await _settled(service, "fastapi_pg_settings_parts")
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        who = (await _proxied(service, body, "/whoami"))["data"]
        assert who == {"user": "postgres", "database": "app"}
        assert (await service.stop(body["gid"])).status_code == 200
