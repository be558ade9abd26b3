"""A Flask factory whose schema is Flask-Migrate's migrations/ (flask db upgrade)."""

import os

from flask import Flask, jsonify
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
migrate = Migrate()


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///blog.db")
    db.init_app(app)
    migrate.init_app(app, db)

    from .models import Post

    @app.get("/posts")
    def posts():
        return jsonify([p.title for p in db.session.scalars(db.select(Post).order_by(Post.id))])

    return app
