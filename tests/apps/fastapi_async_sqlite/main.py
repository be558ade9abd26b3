"""A FastAPI app on SQLAlchemy's asyncio extension that lists no async driver: its
database URL read from DATABASE_URL as it is, its tables made at start."""

import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine(os.environ["DATABASE_URL"])
metadata = MetaData()
notes = Table("notes", metadata, Column("id", Integer, primary_key=True), Column("text", String))


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(insert(notes).values(text="kept"))
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/notes")
async def all_notes() -> dict:
    async with engine.connect() as connection:
        rows = await connection.execute(select(notes.c.text))
        texts = [row[0] for row in rows]
    return {"notes": texts, "driver": engine.dialect.driver}
