"""A real HTTP server on loopback that answers /healthz with whatever a test puts in `health`: for the screen's
launcher and the doctor, which read the server's warnings (screen_hidden, screen_missing) and visit_active."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.ports import free_port


class FakeHealth:
    def __init__(self) -> None:
        self.health: dict = {'status': 'ok', 'warnings': [], 'visit_active': False}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server calls
                body = json.dumps(owner.health).encode()
                self.send_response(200 if self.path == '/healthz' else 404)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(('127.0.0.1', self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
