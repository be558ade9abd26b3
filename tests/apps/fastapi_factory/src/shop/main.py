import sys

from fastapi import FastAPI

from .routers import items


def create_app() -> FastAPI:
    app = FastAPI(title="Shop", openapi_url="/api/v1/openapi.json")
    app.include_router(items.router, prefix="/api/v1")

    @app.get("/")
    def root() -> dict[str, str]:
        return {"python": sys.executable}

    return app
