from fastapi import FastAPI

from blog import router as blog_router
from core.config import settings

app = FastAPI(title=settings["title"])
app.include_router(blog_router)
