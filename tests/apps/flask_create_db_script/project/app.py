"""A Flask app started by its Procfile whose tables come from a script at the project's
root that runs at the top level, in the app's context: python create_db.py."""

import os

from flask import Flask, jsonify
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.getenv("DATABASE_URL", "sqlite:///posts.db")
db = SQLAlchemy(app)


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)


@app.get("/")
def index():
    return jsonify([p.title for p in db.session.scalars(db.select(Post).order_by(Post.id))])
