"""A second app for the command line, the one Flask-Migrate is registered on (as a
Flask-Script manage.py does: `python src/manage.py db upgrade`)."""

import os

from flask import Flask
from flask_migrate import Migrate

from models import db

server = Flask(__name__)
server.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///blog.db")
db.init_app(server)
migrate = Migrate(server, db)
