from pydantic import EmailStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    SECRET_KEY: str
    MAIL_SERVER: str
    MAIL_STARTTLS: bool
    MAIL_FROM: EmailStr

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")


settings = Settings()
