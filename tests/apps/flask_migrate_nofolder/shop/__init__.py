"""A Flask factory on Flask-Migrate whose authors never committed a migrations/ folder
(flask db init / migrate were run on their machines only): nothing in the upload creates
its tables."""

import os

from flask import Flask, jsonify
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
migrate = Migrate()


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///shop.db")
    db.init_app(app)
    migrate.init_app(app, db)

    from .models import Item

    @app.get("/items")
    def items():
        return jsonify([i.name for i in db.session.scalars(db.select(Item).order_by(Item.id))])

    return app
