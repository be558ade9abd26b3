"""A FastAPI app that never creates its table: its compose file's PostgreSQL image runs
db/init/*.sql on its new cluster (DarkbordermanTemplate's fastapi-redis-sqlalchemy)."""

import os
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres:password@postgres/database")


@asynccontextmanager
async def lifespan(app: FastAPI):
    with psycopg.connect(DATABASE_URL, autocommit=True) as db:  # fails without the table
        db.execute("UPDATE fruit SET count = count + 1 WHERE name = 'apple'")
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/fruit")
def fruit() -> dict[str, int]:
    with psycopg.connect(DATABASE_URL) as db:
        return dict(db.execute("SELECT name, count FROM fruit ORDER BY name").fetchall())
