"""Started by its Procfile through ``$VIRTUAL_ENV`` (the variable activating a built
environment sets), as Wagtail's bakerydemo's uWSGI settings find theirs
(``virtualenv=$(VIRTUAL_ENV)``); answers with where its Python runs from."""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import six  # its requirements': the built environment's


class Where(BaseHTTPRequestHandler):
    def do_GET(self):
        data = json.dumps({"venv": os.environ["VIRTUAL_ENV"] == sys.prefix, "six": six.__version__})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Where).serve_forever()
