"""A Flask app (flask-rest-hello's shape) whose dependencies list eralchemy2, a command
that draws its models' diagram and that no module imports: its pygraphviz has no wheel
and cannot be built here."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(answer=42)
