import six
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def index() -> dict[str, str]:
    return {"six": six.__version__}  # pinned by pyproject.toml alone
