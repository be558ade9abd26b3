from databases import WHERE
from fastapi import APIRouter

router = APIRouter()


@router.get("/todos")
def todos() -> dict[str, str]:
    return {"from": WHERE}
