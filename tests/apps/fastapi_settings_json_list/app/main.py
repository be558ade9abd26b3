from fastapi import FastAPI

from app.config import settings

app = FastAPI()


@app.get("/settings")
def read_settings():
    return {"hosts": settings.ALLOWED_HOSTS, "origins": settings.BACKEND_CORS_ORIGINS}
