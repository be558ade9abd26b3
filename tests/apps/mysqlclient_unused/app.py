"""A Flask app on SQLite whose requirements list mysqlclient, which it never imports:
mysqlclient has no Linux wheel, and built from source it needs MySQL's client library
and headers."""

import sqlite3

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    with sqlite3.connect(":memory:") as db:
        return jsonify(answer=db.execute("SELECT 40 + 2").fetchone()[0])
