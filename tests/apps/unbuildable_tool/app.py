"""A Flask app (flask-rest-hello's shape) whose Pipfile lists eralchemy2, a command that
draws its models' diagram and that no module imports; its Pipfile.lock pins eralchemy2's
pygraphviz at 1.14, which has no wheel and cannot be built here."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(answer=42)
