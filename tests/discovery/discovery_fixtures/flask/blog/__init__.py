"""Application factory: blueprints registered with and without a prefix override."""

from flask import Flask

from blog.auth import bp as auth_bp

from .api import api


def create_app() -> Flask:
    app = Flask(__name__)
    app.register_blueprint(api)
    app.register_blueprint(auth_bp, url_prefix="/account")

    @app.route("/")
    def index() -> str:
        """Home page."""
        return "hello"

    @app.route("/ping", methods=["GET", "HEAD"])
    def ping() -> str:
        return "pong"

    return app
