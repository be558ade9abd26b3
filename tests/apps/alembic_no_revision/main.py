"""A FastAPI app on SQLAlchemy models whose Alembic history has no revision yet: its
README says to run ``alembic revision --autogenerate`` first (FastAPI-boilerplate's
``migrations/versions`` holds only a README)."""

import os

from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select

metadata = MetaData()
items = Table("items", metadata, Column("id", Integer, primary_key=True), Column("name", String))
engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///./app.db"))
app = FastAPI()


@app.get("/items")
def list_items() -> list[str]:
    with engine.connect() as connection:
        return [row.name for row in connection.execute(select(items))]
