"""As miguelgrinberg/microblog writes it: the domain read from the environment, None when
unset (Flask's own default: every host is served)."""

import os


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or "hard to guess string"
    SERVER_NAME = os.environ.get("SERVER_NAME")
