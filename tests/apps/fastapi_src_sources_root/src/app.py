"""brithely's todo-python-litestar-api's shape: run as ``src.app`` from the root, its
imports written from inside src/ (PyCharm's sources root, in its .idea)."""

from fastapi import FastAPI
from todos.routes import router

app = FastAPI()
app.include_router(router)
