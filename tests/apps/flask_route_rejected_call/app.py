"""Starts and answers, but one route calls marshmallow as its 3.x releases took it: the
`missing=` argument left its fields in 4.0, and the app does not bound marshmallow."""

from importlib.metadata import version

import marshmallow
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(ok=True)


@app.get("/schema")
def schema():
    field = marshmallow.fields.String(missing="anonymous")
    return jsonify(default=field.load_default, marshmallow=version("marshmallow"))
