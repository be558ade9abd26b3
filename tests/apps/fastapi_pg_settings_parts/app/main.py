"""A FastAPI app connecting to PostgreSQL by the parts its settings require."""

import psycopg
from fastapi import FastAPI

from .config import settings

app = FastAPI()


def _connect() -> psycopg.Connection:
    return psycopg.connect(
        host=settings.database_hostname,
        port=settings.database_port,
        user=settings.database_username,
        password=settings.database_password,
        dbname=settings.database_name,
    )


@app.get("/whoami")
def whoami() -> dict[str, str]:
    with _connect() as db:
        user, database = db.execute("SELECT current_user, current_database()").fetchone()
    return {"user": user, "database": database}
