"""brocoders' NestJS boilerplate's shape: one API on PostgreSQL (docker-compose.yml) or on
MongoDB (docker-compose.document.yml, a variant run instead of it), both clients listed;
it runs on PostgreSQL unless told DATABASE_TYPE=document."""

import os

import psycopg
from fastapi import FastAPI

app = FastAPI()

if os.environ.get("DATABASE_TYPE", "relational") == "document":
    import pymongo

    documents = pymongo.MongoClient(os.environ["DATABASE_URL"]).get_default_database()


@app.get("/items")
def items() -> dict[str, str]:
    with psycopg.connect(os.environ["DATABASE_URL"]) as db:
        (answer,) = db.execute("SELECT 'from postgres'").fetchone()
    return {"answer": answer, "type": os.environ.get("DATABASE_TYPE", "")}
