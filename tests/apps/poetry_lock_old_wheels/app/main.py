import sys

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def version() -> dict:
    return {"python": ".".join(map(str, sys.version_info[:3]))}
