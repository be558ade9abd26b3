"""A Pipenv project: its Pipfile asks for any Flask, its Pipfile.lock pins 3.0.0."""

from importlib.metadata import version

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(flask=version("flask"), werkzeug=version("werkzeug"))
