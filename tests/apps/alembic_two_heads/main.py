"""A FastAPI app whose Alembic history has two heads, never merged: two branches made
apart, one creating ``items``, the other ``tags`` (``alembic upgrade head`` refuses it)."""

import os

from fastapi import FastAPI
from sqlalchemy import create_engine, text

engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///./app.db"))
app = FastAPI()


@app.get("/items")
def items() -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT name FROM items"))]


@app.get("/tags")
def tags() -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT label FROM tags"))]
