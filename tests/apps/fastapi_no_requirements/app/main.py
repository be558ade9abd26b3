# No requirements.txt, no pyproject.toml: fastapi and yaml (PyYAML) are what it imports;
# app.settings is its own module, json the standard library's.
import json

from fastapi import FastAPI

from app.settings import DEFAULTS

app = FastAPI()


@app.get("/")
def index() -> dict:
    return json.loads(json.dumps(DEFAULTS))
