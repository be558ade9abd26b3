"""A FastAPI app that creates its tables only when run as a script (python main.py)."""

import os

from fastapi import FastAPI
from sqlalchemy import Column, Integer, String, create_engine, select
from sqlalchemy.orm import Session, declarative_base

engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///todo.db"))
Base = declarative_base()
app = FastAPI()


class Todo(Base):
    __tablename__ = "todo"
    id = Column(Integer, primary_key=True)
    text = Column(String(200), nullable=False)


@app.get("/todos")
def todos() -> list[str]:
    with Session(engine) as session:
        return [t.text for t in session.scalars(select(Todo))]


if __name__ == "__main__":
    import uvicorn

    Base.metadata.create_all(engine)
    uvicorn.run(app)
