from fastapi import FastAPI

from .config import settings

app = FastAPI()


@app.get("/")
def root() -> dict[str, str]:
    return {"server_host": str(settings.SERVER_HOST), "greeting": settings.GREETING}
