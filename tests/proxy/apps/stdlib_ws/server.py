"""A WebSocket echo written on the standard library alone, as a held-out app was: its
handshake answered by http.server (HTTP/1.0 by default), its frames read by hand."""

import base64
import hashlib
import os
import struct
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_exact(stream, size):
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_frame(stream):
    first, second = read_exact(stream, 2)
    opcode, length = first & 0x0F, second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", read_exact(stream, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", read_exact(stream, 8))
    mask = read_exact(stream, 4) if second & 0x80 else b"\0\0\0\0"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(read_exact(stream, length)))
    return opcode, payload


def frame(opcode, payload):
    head = bytes([0x80 | opcode])
    if len(payload) < 126:
        head += bytes([len(payload)])
    else:
        head += bytes([126]) + struct.pack("!H", len(payload))
    return head + payload


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/ws" or self.headers.get("Upgrade", "").lower() != "websocket":
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        key = self.headers["Sec-WebSocket-Key"].encode()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        while True:
            try:
                opcode, payload = read_frame(self.rfile)
            except EOFError:
                return
            if opcode == 0x8:
                self.wfile.write(frame(0x8, payload[:2]))
                return
            self.wfile.write(frame(0x1, b"echo " + payload))
            self.wfile.flush()


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
