"""A FastAPI app needing a package only a git repository has."""

import gitonly  # noqa: F401
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def index() -> dict[str, bool]:
    return {"ok": True}
