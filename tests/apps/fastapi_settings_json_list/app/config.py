from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    SECRET_KEY: str
    # Required, with no example: the service's host list must reach it as JSON.
    ALLOWED_HOSTS: list[str]
    # Its example says "a,b"; pydantic-settings reads the environment's value as JSON
    # before the validator below, which would have split it, is called.
    BACKEND_CORS_ORIGINS: list[str] = []
    TAGS: list[str] | str = "plain"  # a union with str: read as text where not JSON

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    @field_validator("BACKEND_CORS_ORIGINS", mode="before")
    @classmethod
    def split(cls, value):
        return value.split(",") if isinstance(value, str) else value


settings = Settings()
