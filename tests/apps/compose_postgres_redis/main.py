"""A FastAPI app whose compose file runs PostgreSQL as `db` and Redis as `cache`, and
gives the app their URLs by those names."""

import os

import psycopg
import redis
from fastapi import FastAPI

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres:postgres@db:5432/app")
cache = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://cache:6379/0"))
app = FastAPI()


@app.post("/visits/{name}")
def visit(name: str) -> dict[str, object]:
    with psycopg.connect(DATABASE_URL, autocommit=True) as db:
        db.execute("CREATE TABLE IF NOT EXISTS visits (name text)")
        db.execute("INSERT INTO visits VALUES (%s)", (name,))
        stored = db.execute("SELECT count(*) FROM visits").fetchone()[0]
    return {"stored": stored, "counted": cache.incr("visits")}


@app.get("/hosts")
def hosts() -> dict[str, str]:
    with open("/etc/hosts") as names:
        return {"hosts": names.read()}
