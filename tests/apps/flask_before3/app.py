"""A Flask 2 app: flask.escape left Flask in 3.0 (markupsafe.escape since), and its
requirements do not pin Flask."""

from flask import Flask, escape, jsonify

app = Flask(__name__)


@app.get("/hello/<name>")
def hello(name):
    return jsonify(greeting=str(escape(f"hello <{name}>")))
