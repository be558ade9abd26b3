from pydantic import BaseModel, Field


class UserCreate(BaseModel):
    name: str
    age: int | None = None
    email: str = Field(...)
    tags: list[str] = []


class AdminUser(UserCreate):
    is_root: bool = False
    permissions: dict[str, bool] = {}


class Review(BaseModel):
    stars: float
    text: str
