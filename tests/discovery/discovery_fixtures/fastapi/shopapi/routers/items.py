from fastapi import APIRouter

from shopapi.models import Review

router = APIRouter(prefix="/items")
reviews = APIRouter(prefix="/reviews", tags=["reviews"])


@reviews.get("")
def list_reviews(item_id: int, page: int = 1) -> list[dict]:
    return []


@reviews.post("")
def add_review(item_id: int, review: Review) -> dict:
    return review.model_dump()


@router.get("/{item_id}")
async def read_item(item_id: int, q: str | None = None) -> dict:
    return {"id": item_id}


@router.put("/{item_id}")
async def replace_item(item_id: int, payload: dict) -> dict:
    return payload


@router.api_route("/{item_id}/stock", methods=["PATCH", "DELETE"])
async def stock(item_id: int) -> dict:
    return {"id": item_id}


# Included after its routes exist: FastAPI copies routes at include time.
router.include_router(reviews, prefix="/{item_id}")
