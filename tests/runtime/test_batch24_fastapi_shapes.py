"""Shapes of the twenty-fourth batch of real FastAPI apps (issue 66's training side: the
first held-out set's, once its round ended): each rule reads what the app itself
declares, tested on a fixture app of its shape."""

from __future__ import annotations

from preview.backing import wanted_servers
from preview.backing.wants import postgres_wants


def _utf16(text: str) -> bytes:
    """``text`` as PowerShell's ``pip freeze > requirements.txt`` writes it: UTF-16 with
    its byte-order mark, CRLF line ends."""
    return text.replace("\n", "\r\n").encode("utf-16")


def test_a_utf16_requirements_file_says_its_database_and_redis_clients() -> None:
    """Arif-M-Patel's ToDO-fastapi-alembic-postgresql (and ILugaro's
    fastapi-postgresql-alembic-docker): a Windows ``pip freeze`` wrote requirements.txt in
    UTF-16, which uv reads by its byte-order mark, but the service's readers took as UTF-8
    (a NUL between letters): psycopg2-binary was not seen, no PostgreSQL was given, and
    its hard-coded ``postgresql://postgres:Arif@localhost/todo_db`` was refused."""
    files = {
        "requirements.txt": _utf16("fastapi==0.109.2\npsycopg2-binary==2.9.9\nredis==5.0.1\n"),
        "database.py": b'URL = "postgresql://postgres:Arif@localhost/todo_db"\n',
        "main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
    }
    assert (postgres_wants(files, {}).driver or "").startswith("psycopg2-binary")
    assert wanted_servers(files, "main.py", {}).redis is not None
