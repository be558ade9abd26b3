"""An app whose .env.example gives Redis no password (REDIS_PASSWORD=''), which it
passes on as it is (fastapi-practices' template: a throwaway one was refused, AUTH
called without any password configured)."""

import os

import redis
from flask import Flask, jsonify

app = Flask(__name__)
client = redis.Redis(
    host=os.environ["REDIS_HOST"],
    port=int(os.environ["REDIS_PORT"]),
    password=os.environ["REDIS_PASSWORD"],
    socket_timeout=5,
)


@app.get("/ping")
def ping():
    return jsonify({"pong": client.ping(), "password": os.environ["REDIS_PASSWORD"]})
