"""A Flask app whose tables come from its own CLI command (flask init-db)."""

import os

import click
from flask import Flask, jsonify
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///notes.db")
db = SQLAlchemy(app)


class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.String(200), nullable=False)


@app.cli.command("init-db")
def init_db_command():
    """Create the tables and a first note."""
    db.create_all()
    db.session.add(Note(text="first"))
    db.session.commit()
    click.echo("Initialized the database.")


@app.get("/notes")
def notes():
    return jsonify([n.text for n in db.session.scalars(db.select(Note).order_by(Note.id))])
