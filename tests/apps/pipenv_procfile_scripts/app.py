"""A Heroku-era Pipenv project: its Procfile runs everything through `pipenv run`."""

from pathlib import Path

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(data=Path("data.txt").read_text().strip())
