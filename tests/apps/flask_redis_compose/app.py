"""A counter and notes kept in Redis, which docker-compose.yml names as the service
"redis" (REDIS_URL=redis://redis:6379/0 in the app's environment there)."""

import os

import redis
from flask import Flask, jsonify, request

app = Flask(__name__)
store = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://redis:6379/0"))


@app.get("/hits")
def hits():
    return jsonify(hits=store.incr("hits"))


@app.post("/notes/<key>")
def put_note(key):
    store.set(f"note:{key}", request.get_data(as_text=True))
    return jsonify(saved=key)


@app.get("/notes")
def notes():
    keys = sorted(k.decode() for k in store.scan_iter("note:*"))
    return jsonify(keys=keys, via=store.connection_pool.connection_kwargs.get("host"))


@app.get("/ping/<host>")
def ping(host):
    """The same server by another name: localhost, ::1, cache."""
    return jsonify(pong=redis.Redis(host=host, port=6379, socket_timeout=5).ping())
