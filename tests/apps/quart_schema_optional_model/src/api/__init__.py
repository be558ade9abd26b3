"""Quart's own API example's shape: quart-schema unbounded, written when it brought
pydantic; its releases since leave the model libraries to the app ("try installing
msgspec or pydantic"), so its OpenAPI route answers 500 until one is there."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec

from quart_schema import QuartSchema, validate_request

from quart import Quart

app = Quart(__name__)
QuartSchema(app)


@dataclass
class TodoIn:
    task: str


@app.get("/")
async def index():
    return {"models": [m for m in ("msgspec", "pydantic") if find_spec(m)]}


@app.post("/todos/")
@validate_request(TodoIn)
async def create_todo(data: TodoIn):
    return {"task": data.task}
