from fastapi import FastAPI

from app.config import settings

app = FastAPI()


@app.get("/mail")
def mail():
    return {"server": settings.MAIL_SERVER}
