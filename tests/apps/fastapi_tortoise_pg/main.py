"""A Tortoise ORM app on the PostgreSQL its DATABASE_URL names, its tables made by Aerich's
migrations (testdriven's fastapi-tdd-docker): Tortoise 0.20 knows postgres://, not
postgresql://, and generates no schema itself here."""

import os

from fastapi import FastAPI
from tortoise import fields, models
from tortoise.contrib.fastapi import register_tortoise

TORTOISE_ORM = {
    "connections": {"default": os.environ.get("DATABASE_URL")},
    "apps": {"models": {"models": ["main", "aerich.models"], "default_connection": "default"}},
}


class Note(models.Model):
    body = fields.TextField()


app = FastAPI()


@app.get("/notes")
async def notes():
    await Note.create(body="kept")
    return {"scheme": os.environ["DATABASE_URL"].split("://")[0], "count": await Note.all().count()}


register_tortoise(
    app, db_url=os.environ["DATABASE_URL"], modules={"models": ["main"]}, generate_schemas=False
)
