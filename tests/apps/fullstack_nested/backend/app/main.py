from fastapi import FastAPI
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.core.config import settings
from app.models import Item

app = FastAPI(title=settings.PROJECT_NAME, openapi_url=f"{settings.API_V1_STR}/openapi.json")
engine = create_engine(settings.DATABASE_URL)


@app.get(f"{settings.API_V1_STR}/items/")
def read_items() -> dict:
    with Session(engine) as session:
        names = session.scalars(select(Item.name).order_by(Item.id)).all()
    return {"project": settings.PROJECT_NAME, "greeting": settings.GREETING, "items": names}
