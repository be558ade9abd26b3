"""A Flask app that creates its tables only when run as a script (python app.py)."""

import os

from flask import Flask, jsonify
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///todo.db")
db = SQLAlchemy(app)


class Todo(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.String(200), nullable=False)


@app.get("/todos")
def todos():
    return jsonify([t.text for t in db.session.scalars(db.select(Todo))])


if __name__ == "__main__":
    with app.app_context():
        db.create_all()
    app.run(debug=True)
