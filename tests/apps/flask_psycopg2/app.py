"""A Flask app on PostgreSQL through psycopg2, which has no wheels: built from source it
needs pg_config, libpq's headers and a compiler."""

import os

import psycopg2
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    connection = psycopg2.connect(os.environ["DATABASE_URL"])
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT 40 + 2")
        return jsonify(answer=cursor.fetchone()[0])
    finally:
        connection.close()
