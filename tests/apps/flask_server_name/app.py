import os

from flask import Flask, jsonify

from config import config

app = Flask(__name__)
app.config.from_object(config[os.environ.get("FLASK_CONFIG", "development")])


@app.get("/")
def index():
    return jsonify(debug=app.config["DEBUG"])
