"""Settings as the old full-stack FastAPI template gives them: the app's own address
typed AnyHttpUrl and required, and a value only its example file has."""

from pydantic import AnyHttpUrl
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    SERVER_HOST: AnyHttpUrl
    GREETING: str


settings = Settings()
