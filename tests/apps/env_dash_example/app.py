"""Six settings it cannot start without, each in its .env-example (so spelt)."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SETTINGS = {name: os.environ[name] for name in (
    "API_TITLE", "UPLOAD_DIR", "LOG_LEVEL", "CURRENCY", "REGION", "FEATURE_SET",
)}  # fmt: skip


class Answer(BaseHTTPRequestHandler):
    def do_GET(self):
        data = json.dumps(SETTINGS).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Answer).serve_forever()
