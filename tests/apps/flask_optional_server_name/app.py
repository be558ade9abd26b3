from flask import Flask, jsonify

from config import Config

app = Flask(__name__)
app.config.from_object(Config)


@app.get("/")
def index():
    return jsonify(server_name=app.config["SERVER_NAME"])
