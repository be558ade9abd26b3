"""A FastAPI app under src/ with its own requirements.txt there (where its Dockerfile
builds), beside a root requirements.txt of two extras that lists no framework
(KenMwaura1's Fast-Api-example)."""

import six
from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
def ping() -> dict[str, str]:
    return {"ping": "pong", "six": six.__version__}  # listed in src/'s file alone
