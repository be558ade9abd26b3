from pydantic import BaseModel


class PostUpdate(BaseModel):
    title: str | None = None
    body: str | None = None
