from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env")

    project_name: str
    admin_email: str
    smtp_host: str
    storage_bucket: str
    secret_key: str
    jwt_secret: str = Field(...)
    debug: bool
    database_url: str
    page_size: int = 20


settings = Settings()
