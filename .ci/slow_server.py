#!/usr/bin/env python3
"""A slow HTTP server for the window's crash test: serves /N/name as N bytes of a fixed
pattern at about RATE bytes a second, with ETag and `Range: bytes=A-` support (206), and logs
each request's Range header to stderr. Usage: slow_server.py PORT_FILE [RATE]"""
import http.server
import socketserver
import sys
import time


def body(n):
    pattern = bytes(range(251))
    return (pattern * (n // 251 + 1))[:n]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        try:
            n = int(parts[0])
        except ValueError:
            self.send_error(404)
            return
        data = body(n)
        start = 0
        rng = self.headers.get("Range")
        sys.stderr.write(f"GET {self.path} range={rng}\n")
        sys.stderr.flush()
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
        if start >= n and rng:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{n}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(206 if start else 200)
        self.send_header("ETag", '"fixed"')
        self.send_header("Accept-Ranges", "bytes")
        if start:
            self.send_header("Content-Range", f"bytes {start}-{n - 1}/{n}")
        self.send_header("Content-Length", str(n - start))
        self.end_headers()
        chunk = 16384
        try:
            for i in range(start, n, chunk):
                self.wfile.write(data[i:i + chunk])
                time.sleep(chunk / RATE)
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


RATE = float(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
server = Server(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
