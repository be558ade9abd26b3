"""A backend/ whose alembic.ini names app/alembic, beside an app/alembic.ini naming
alembic: its env.py imports `app.models`, which resolves only from the top."""

from fastapi import FastAPI
from sqlalchemy import text

from app.models import engine

app = FastAPI()


@app.get("/items")
def items() -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT name FROM items"))]
