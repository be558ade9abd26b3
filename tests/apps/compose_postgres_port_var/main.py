"""A FastAPI app beside a compose file that runs only its PostgreSQL, published on the
port its .env names (``"${DATABASE__PORT}:5432"``, 5455), which the app reaches on
localhost with pydantic-settings' nested names (rafsaf's minimal-fastapi-postgres-template)."""

import os
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI


def connect() -> psycopg.Connection:
    return psycopg.connect(
        host=os.environ["DATABASE__HOSTNAME"],
        port=int(os.environ["DATABASE__PORT"]),
        user=os.environ["DATABASE__USERNAME"],
        password=os.environ["DATABASE__PASSWORD"],
        dbname=os.environ["DATABASE__DB"],
        autocommit=True,
    )


@asynccontextmanager
async def lifespan(app: FastAPI):
    with connect() as db:
        db.execute("CREATE TABLE IF NOT EXISTS items (name text)")
        db.execute("INSERT INTO items VALUES ('first')")
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/items")
def items() -> list[str]:
    with connect() as db:
        return [row[0] for row in db.execute("SELECT name FROM items")]
