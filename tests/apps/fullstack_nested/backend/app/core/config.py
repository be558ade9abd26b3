import os


class Settings:
    API_V1_STR = "/api/v1"
    PROJECT_NAME = os.environ.get("PROJECT_NAME", "app")
    GREETING = os.environ.get("APP_GREETING", "")
    DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///./app.db")


settings = Settings()
