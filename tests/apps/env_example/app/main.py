"""A FastAPI app configured only by its .env.example and a settings class that requires
secrets nobody wrote down."""

import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from app.config import settings

API_TOKEN = os.environ["API_TOKEN"]
engine = create_engine(settings.database_url)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


@asynccontextmanager
async def lifespan(app: FastAPI):
    Base.metadata.create_all(engine)
    yield


app = FastAPI(title=settings.project_name, lifespan=lifespan)


@app.get("/items")
def items() -> list[str]:
    with Session(engine) as session:
        return [i.name for i in session.scalars(select(Item))]


@app.get("/about")
def about() -> dict:
    return {
        "project": settings.project_name,
        "debug": settings.debug,
        "database": settings.database_url.split(":", 1)[0],
        "secrets": [len(settings.secret_key), len(settings.jwt_secret), len(API_TOKEN)],
    }
