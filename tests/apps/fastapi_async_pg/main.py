"""A FastAPI app on SQLAlchemy's asyncio extension, its database URL read from
DATABASE_URL as it is (no driver swapped in), its schema made by an async Alembic env."""

import os

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

engine = create_async_engine(os.environ["DATABASE_URL"])
Session = async_sessionmaker(engine, expire_on_commit=False)
app = FastAPI()


@app.get("/items")
async def items() -> dict:
    async with Session() as session:
        rows = await session.execute(text("SELECT name FROM items ORDER BY id"))
        names = [row[0] for row in rows]
    return {"items": names, "driver": engine.dialect.driver}
