"""Host lists read with a default that a cast makes a list of."""

import environ
from decouple import Csv, config

env = environ.Env()

SECRET_KEY = config("SECRET_KEY", default="fixture-only")
DEBUG = config("DEBUG", default=False, cast=bool)
ALLOWED_HOSTS = config("ALLOWED_HOSTS", default="localhost,127.0.0.1", cast=Csv())
CSRF_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost"])
