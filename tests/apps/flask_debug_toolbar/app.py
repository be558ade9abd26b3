"""docker-flask-example's shape: Flask-DebugToolbar on while debugging, beside
Flask-SQLAlchemy, whose panel adds ``/_debug_toolbar/views/sqlalchemy/sql_explain`` and
``sql_select``: the tool's pages, a 500 (KeyError 'query') without its toolbar's query."""

from flask import Flask
from flask_debugtoolbar import DebugToolbarExtension
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config.update(
    SECRET_KEY="not-a-secret",
    DEBUG=True,
    DEBUG_TB_INTERCEPT_REDIRECTS=False,
    SQLALCHEMY_DATABASE_URI="sqlite:///app.db",
)
db = SQLAlchemy(app)
DebugToolbarExtension(app)


@app.get("/")
def home():
    return {"page": "home"}


@app.get("/about")
def about():
    return {"page": "about"}
