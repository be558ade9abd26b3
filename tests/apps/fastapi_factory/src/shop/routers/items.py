from fastapi import APIRouter

router = APIRouter(prefix="/items", tags=["items"])
ITEMS = {1: "apple", 2: "pear"}


@router.get("")
def list_items() -> dict[int, str]:
    return ITEMS


@router.get("/{item_id}")
def get_item(item_id: int) -> dict[str, object]:
    return {"id": item_id, "name": ITEMS.get(item_id)}
