"""Items in MySQL through PyMySQL, at the URL its .env names
(mysql://app:secret@mysql:3306/app), the table made at start."""

import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit
import json

import pymysql

url = urlsplit(os.environ["DATABASE_URL"])


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
    def _answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/socket":  # where libmysqlclient looks for "localhost"
            login = dict(user=unquote(url.username), password=unquote(url.password or ""))
            db = pymysql.connect(unix_socket="/run/mysqld/mysqld.sock", **login)
            with db, db.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM app.items")
                return self._answer({"items": cursor.fetchone()[0]})
        with connect() as db, db.cursor() as cursor:
            cursor.execute("SELECT name FROM items ORDER BY id")
            names = [row[0] for row in cursor.fetchall()]
            cursor.execute("SELECT CURRENT_USER(), DATABASE(), VERSION()")
            user, database, version = cursor.fetchone()
        self._answer({"items": names, "user": user, "database": database, "version": version})

    def do_POST(self):
        name = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with connect() as db, db.cursor() as cursor:
            cursor.execute("INSERT INTO items (name) VALUES (%s)", (name,))
        self._answer({"added": name})


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Items).serve_forever()
