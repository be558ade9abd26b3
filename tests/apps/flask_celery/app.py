"""Enqueue, then poll: the routes queue Celery tasks (.delay) on the app's Redis, and only
a worker beside the web process completes them. Nothing declares that worker (no
Procfile, no compose file): jobs/celery.py creating the Celery app is the sign."""

import os
import socket

from flask import Flask, jsonify

from jobs.celery import app as celery_app
from jobs.tasks import add, where

app = Flask(__name__)
# In the sandbox's private /tmp: a worker in the same sandbox reads it.
with open("/tmp/web-was-here", "w") as marker:
    marker.write(str(os.getpid()))


@app.post("/add/<int:x>/<int:y>")
def enqueue(x, y):
    return jsonify(id=add.delay(x, y).id)


@app.post("/where")
def enqueue_where():
    return jsonify(id=where.delay().id)


@app.get("/result/<task_id>")
def result(task_id):
    found = celery_app.AsyncResult(task_id)
    return jsonify(state=found.state, value=found.result if found.successful() else None)


@app.get("/here")
def here():
    return jsonify(uid=os.getuid(), host=socket.gethostname(), cwd=os.getcwd(), seccomp=seccomp())


def seccomp():
    with open("/proc/self/status") as status:
        return next(line.split()[1] for line in status if line.startswith("Seccomp:"))


@app.get("/health")
def health():
    """As generated apps do (celery_ping): a 500 while no worker answers."""
    replies = celery_app.control.ping(timeout=1.0)
    return jsonify(workers=len(replies)), 200 if replies else 500
