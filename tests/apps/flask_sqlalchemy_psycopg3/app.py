"""A Flask-SQLAlchemy app on psycopg 3 only (no psycopg2), reading its URL from
DATABASE_URL as docker-flask-example's settings do: a plain ``postgresql://`` is
psycopg2's to SQLAlchemy ("No module named 'psycopg2'")."""

import os

from flask import Flask, jsonify
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
db = SQLAlchemy(app)


@app.get("/")
def index():
    answer = db.session.execute(text("SELECT 40 + 2")).scalar()
    return jsonify(answer=answer, driver=db.engine.url.drivername)
