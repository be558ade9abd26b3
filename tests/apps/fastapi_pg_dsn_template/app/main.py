"""A FastAPI app whose engine is made at import from a URL its .env gives as a form to
fill in (``host:port``): SQLAlchemy cannot parse it ("invalid literal for int()")."""

from fastapi import FastAPI
from sqlalchemy import create_engine, text

from .config import config

engine = create_engine(config.database.dsn)
app = FastAPI()


@app.get("/")
def index() -> dict[str, object]:
    with engine.connect() as connection:
        one = connection.execute(text("SELECT 1")).scalar()
    return {"one": one, "scheme": config.database.dsn.split("://", 1)[0]}
