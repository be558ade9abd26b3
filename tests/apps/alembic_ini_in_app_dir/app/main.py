"""An app/alembic.ini naming app/migrations, written to be run from the project's root
(``alembic -c app/alembic.ini``, as its Makefile does): run in app/, Alembic looked for
app/app/migrations."""

from fastapi import FastAPI
from sqlalchemy import text

from app.models import engine

app = FastAPI()


@app.get("/items")
def items() -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT name FROM items"))]
