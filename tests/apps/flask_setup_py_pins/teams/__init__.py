"""A setuptools project's app: its dependencies only in setup.py's install_requires."""

from importlib.metadata import version

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def versions() -> dict[str, str]:
        return {"flask": version("flask")}

    return app
