"""Configurations by name, as Flask's tutorials write them: the production one reads its
domain from the environment when the module is imported, whichever is used."""

import os


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or "hard to guess string"


class DevelopmentConfig(Config):
    DEBUG = True


class ProductionConfig(Config):
    SERVER_NAME = os.environ["SERVER_NAME"]  # the domain name in use
    FRONTEND_URL = os.environ["FRONTEND_URL"]


config = {"development": DevelopmentConfig, "production": ProductionConfig}
