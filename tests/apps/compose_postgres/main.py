"""A FastAPI app whose compose file runs PostgreSQL as the service `db`."""

import os
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI

DATABASE_URL = os.environ["DATABASE_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    with psycopg.connect(DATABASE_URL, autocommit=True) as db:
        db.execute("CREATE TABLE IF NOT EXISTS items (name text)")
        db.execute("INSERT INTO items VALUES ('first')")
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/items")
def items() -> list[str]:
    with psycopg.connect(DATABASE_URL) as db:
        return [row[0] for row in db.execute("SELECT name FROM items")]


@app.get("/whoami")
def whoami() -> dict[str, str]:
    with psycopg.connect(DATABASE_URL) as db:
        user, database = db.execute("SELECT current_user, current_database()").fetchone()
    return {"user": user, "database": database, "url": DATABASE_URL.split("@")[1]}


@app.get("/uuid")
def new_uuid() -> dict[str, int]:
    """uuid-ossp's function, its extension never created by the app (a README step)."""
    with psycopg.connect(DATABASE_URL) as db:
        made = db.execute("SELECT uuid_generate_v4()::text, gen_random_bytes(4)").fetchone()
    return {"uuid": len(made[0]), "bytes": len(made[1])}
