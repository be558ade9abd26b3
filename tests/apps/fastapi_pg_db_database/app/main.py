"""PostgreSQL's parts read with no default, the database's name as ``DB_DATABASE``, and
each handed to configparser as brithely's todo-python-litestar-api's Alembic env.py does
(``config.set_section_option(section, "DB_DATABASE", os.environ.get("DB_DATABASE"))``),
which refuses a None: "option values must be strings"."""

import configparser
import os

import psycopg
from fastapi import FastAPI

_PARTS = ("DB_USER", "DB_PASSWORD", "DB_HOST", "DB_PORT", "DB_DATABASE")
config = configparser.ConfigParser()
config.add_section("alembic")
for name in _PARTS:
    config.set("alembic", name, os.environ.get(name))

app = FastAPI()


@app.get("/whoami")
def whoami() -> dict[str, str]:
    part = dict(config["alembic"])
    with psycopg.connect(
        host=part["db_host"],
        port=part["db_port"],
        user=part["db_user"],
        password=part["db_password"],
        dbname=part["db_database"],
    ) as db:
        user, database = db.execute("SELECT current_user, current_database()").fetchone()
    return {"user": user, "database": database}
