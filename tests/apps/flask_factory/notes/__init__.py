import os

from flask import Flask, jsonify


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index():
        return jsonify(app="notes", database=os.environ.get("DATABASE_URL"))

    @app.get("/notes/<int:note_id>")
    def note(note_id: int):
        return jsonify(id=note_id)

    return app
