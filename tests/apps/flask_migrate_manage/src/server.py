"""The app that serves: it registers no Flask-Migrate (manage.py's app does)."""

import os

from flask import Flask, jsonify

from models import Post, db

server = Flask(__name__)
server.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///blog.db")
db.init_app(server)


@server.get("/posts")
def posts():
    return jsonify([p.title for p in db.session.scalars(db.select(Post).order_by(Post.id))])
