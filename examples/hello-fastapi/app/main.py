"""A small generated-style FastAPI app: logs at start-up and on each request."""

import logging

from fastapi import FastAPI, HTTPException, Request

logging.basicConfig(level=logging.INFO, format="%(levelname)s:%(name)s:%(message)s")
log = logging.getLogger("hello")

app = FastAPI(title="Hello preview")
items: dict[int, dict] = {1: {"id": 1, "name": "first item"}}
log.info("hello app loaded with %d item(s)", len(items))


@app.middleware("http")
async def log_requests(request: Request, call_next):
    response = await call_next(request)
    log.info("handled %s %s -> %d", request.method, request.url.path, response.status_code)
    return response


@app.get("/")
def index() -> dict:
    """What `launch` prints a curl line for: the app's root answers."""
    return {"message": "Hello from your preview", "items": "/api/items", "docs": "/docs"}


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/api/items")
def list_items() -> list[dict]:
    return list(items.values())


@app.get("/api/items/{item_id}")
def get_item(item_id: int) -> dict:
    if item_id not in items:
        log.warning("item %d not found", item_id)
        raise HTTPException(status_code=404, detail="item not found")
    return items[item_id]


@app.post("/api/items")
def create_item(item: dict) -> dict:
    new_id = max(items) + 1
    items[new_id] = {"id": new_id, **item}
    log.info("created item %d", new_id)
    return items[new_id]
