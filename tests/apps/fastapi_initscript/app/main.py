"""A FastAPI app whose tables come from its script: python -m scripts.init_db."""

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Item, engine

app = FastAPI()


@app.get("/items")
def items() -> list[str]:
    with Session(engine) as session:
        return [i.name for i in session.scalars(select(Item).order_by(Item.id))]
