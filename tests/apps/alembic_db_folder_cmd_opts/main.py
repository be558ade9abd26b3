"""docker-flask-example's shape on FastAPI: a factory and no module-level app; its
Alembic history in ``db/`` (no revision yet: ``versions/.keep``), whose env.py makes the
app at import (``app = create_app()``, to read its settings) and reads
``config.cmd_opts.autogenerate`` as its command line sets it."""

import os

from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select

metadata = MetaData()
items = Table("items", metadata, Column("id", Integer, primary_key=True), Column("name", String))
engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///./app.db"))


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/items")
    def list_items() -> list[str]:
        with engine.connect() as connection:
            return [row.name for row in connection.execute(select(items))]

    return app
