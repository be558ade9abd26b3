"""Its dependencies are a requirements/ folder (no requirements.txt): local.txt (six,
for the local settings) and production.txt both include base.txt, whose index option
names PyPI by its old name."""

from importlib.metadata import version

from flask import Flask

app = Flask(__name__)


@app.get("/")
def versions():
    return {"flask": version("flask"), "six": version("six")}
