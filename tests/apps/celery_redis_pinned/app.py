"""Celery 5.3.6 and redis-py 5.0.1 pinned, kombu not: kombu 5.7's Redis transport
refuses redis-py below 6.1 when it first connects (a task's .delay() answers 500)."""

from importlib.metadata import version

from flask import Flask, jsonify
from kombu.transport.redis import Transport

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(kombu=version("kombu"), redis=version("redis"), driver=Transport.driver_name)
