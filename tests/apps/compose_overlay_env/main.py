"""leosussan's fastapi-gino-arq-uvicorn's shape: its settings read DATABASE (the database's
name), which only the local compose overlay gives its app."""

import os

from fastapi import FastAPI

DATABASE = os.environ["DATABASE"]
app = FastAPI()


@app.get("/")
def database() -> dict[str, str]:
    return {"database": DATABASE, "host": os.environ.get("DB_HOST", "")}
