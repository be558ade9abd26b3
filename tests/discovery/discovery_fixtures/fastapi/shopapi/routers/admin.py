from fastapi import APIRouter, Body

from shopapi.models import AdminUser

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/users")
def create_admin(user: AdminUser, note: str = Body(default="")) -> dict:
    return user.model_dump()


@router.get("/stats")
def stats(days: int = 7) -> dict:
    return {"days": days}
