from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from ..models import UserCreate

router = APIRouter(prefix="/users", tags=["users"])


def current_user() -> str:
    return "alice"


@router.get("/")
def list_users(
    limit: int = 10,
    q: str | None = None,
    sort: Annotated[str, Query(alias="order")] = "name",
    x_token: Annotated[str | None, Header()] = None,
    me: str = Depends(current_user),
) -> list[dict]:
    """List users, newest first."""
    return []


@router.post("/", status_code=201, summary="Create a user")
def create_user(user: UserCreate) -> dict:
    return user.model_dump()


@router.get("/{user_id}")
def get_user(user_id: int, verbose: bool = False) -> dict:
    return {"id": user_id, "verbose": verbose}


@router.delete(path="/{user_id}")
def delete_user(user_id: int) -> None:
    return None
