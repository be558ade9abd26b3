"""Settings with no URL to read: the server's parts, each required, under the names the
FastAPI course (Sanjeev-Thiyagarajan/fastapi-course) gives them."""

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    database_hostname: str
    database_port: str
    database_password: str
    database_name: str
    database_username: str


settings = Settings()
