"""Nested settings read by prefix and delimiter: ``MYAPP_DATABASE__DSN``."""

from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseConfig(BaseModel):
    dsn: str = "postgresql://user:password@host:port/dbname"


class Config(BaseSettings):
    database: DatabaseConfig = DatabaseConfig()
    token_key: str = ""
    model_config = SettingsConfigDict(
        env_file=".env", env_prefix="MYAPP_", env_nested_delimiter="__"
    )


config = Config()
