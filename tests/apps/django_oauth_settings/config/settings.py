import os

SECRET_KEY = os.getenv("DJANGO_SECRET_KEY", "")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "true"

from .google_oauth2 import *  # noqa: E402, F403
