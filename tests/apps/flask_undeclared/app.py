"""A Flask app importing a module (yaml, of PyYAML) that its requirements do not list."""

import yaml
from flask import Flask, jsonify

app = Flask(__name__)
MENU = yaml.safe_load("items: [apple, pear]")


@app.get("/")
def index():
    return jsonify(MENU)
