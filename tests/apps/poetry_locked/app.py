"""A Poetry project: its pyproject.toml asks for any Flask 3 (and so any Werkzeug 3),
its poetry.lock holds Flask 3.0.0 and Werkzeug 3.0.1."""

from importlib.metadata import version

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(flask=version("flask"), werkzeug=version("werkzeug"))
