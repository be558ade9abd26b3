"""A FastAPI app whose Alembic history was begun twice: two "init" revisions, each
creating ``items`` (a generator's second attempt left beside the first), one of them
followed by a revision adding a column. Neither ``upgrade head`` nor ``upgrade heads``
can apply it; one branch alone can."""

import os

from fastapi import FastAPI
from sqlalchemy import create_engine, text

engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///./app.db"))
app = FastAPI()


@app.get("/items")
def items() -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT name FROM items"))]
