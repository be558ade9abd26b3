"""Shop API: routers live in their own modules, with prefixes at both levels."""

from fastapi import FastAPI

from shopapi.routers import users
from shopapi.routers.items import router as items_router

from .routers import admin

API_PREFIX = "/api"

app = FastAPI(title="Shop")

app.include_router(users.router, prefix=f"{API_PREFIX}/v1")
app.include_router(items_router, prefix=API_PREFIX, tags=["catalogue"])
app.include_router(admin.router)


@app.get("/health", summary="Liveness probe", tags=["ops"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.api_route("/echo", methods=["GET", "POST"])
async def echo(text: str = "") -> dict[str, str]:
    """Echo the text back.

    Handy to check that the service answers at all.
    """
    return {"text": text}
