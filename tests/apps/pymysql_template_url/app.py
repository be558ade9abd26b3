"""Items in MySQL through PyMySQL, at the URL its .env.example gives only as a form to
fill in (hackersandslackers' flask-sqlalchemy-tutorial:
``mysql+pymysql://[USER]:[PASSWORD]@[HOST]:[PORT]/[DATABASE_NAME]``), the table made at
start."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import pymysql

url = urlsplit(os.environ["SQLALCHEMY_DATABASE_URI"])
assert url.scheme == "mysql+pymysql", url.scheme  # its driver, as the template says


def connect():
    return pymysql.connect(
        host=url.hostname,
        port=url.port or 3306,
        user=unquote(url.username),
        password=unquote(url.password or ""),
        database=url.path.lstrip("/"),
        autocommit=True,
    )


with connect() as db, db.cursor() as cursor:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS items (id INT AUTO_INCREMENT PRIMARY KEY, name TEXT)"
    )


class Items(BaseHTTPRequestHandler):
    def do_POST(self):
        name = self.rfile.read(int(self.headers["Content-Length"])).decode()
        with connect() as db, db.cursor() as cursor:
            cursor.execute("INSERT INTO items (name) VALUES (%s)", (name,))
        self.do_GET()

    def do_GET(self):
        with connect() as db, db.cursor() as cursor:
            cursor.execute("SELECT name FROM items ORDER BY id")
            names = [row[0] for row in cursor.fetchall()]
        data = json.dumps({"items": names}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


address = (os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"]))
ThreadingHTTPServer(address, Items).serve_forever()
