"""A real HTTP receiver on 127.0.0.1 for sync tests, with a scripted fault plan (no mocks of httpx)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Stores sign-ups de-duplicated by id, as the contract asks of the department's endpoint.

    `plan` holds one action per request, used in order; when it runs out, requests succeed:
      'ok', '500', '503', '408', '401', '429:<seconds>' and '503:<seconds>' (with Retry-After),
      'old-hub-key-422' and 'key-422' (a hub refusing the Idempotency-Key: an older hub's words, this hub's
      `code`; without the header the request succeeds),
      'hang:<seconds>' (answer only after that long), 'store-and-drop' (keep the batch, close the
      connection before answering).
    `max_batch` answers 413 to bigger batches; a record whose name contains 'POISON' gets 422.
    """

    def __init__(self, token: str = 'test-token', port: int = 0, delay: float = 0.0) -> None:
        self.token = token
        self.delay = delay
        self.plan: list[str] = []
        self.max_batch: int | None = None
        self.received: dict[str, dict[str, Any]] = {}
        self.heartbeats: list[dict[str, Any]] = []
        self.heartbeat_status = 200
        self.requests: list[dict[str, Any]] = []
        self.overlaps: list[str] = []  # ids that were in two requests at the same moment
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(('127.0.0.1', port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f'http://127.0.0.1:{self.port}/signups'
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:  # `kiosk doctor` asks this way: reachable, and is the token good?
                authorized = self.headers.get('Authorization') == f'Bearer {receiver.token}'
                self.send_response(204 if authorized else 401)
                self.end_headers()

            def do_POST(self) -> None:  # the name http.server calls
                if self.path.endswith('/heartbeat'):
                    return self._heartbeat()
                body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
                ids = [record['id'] for record in body['signups']]
                with receiver._lock:
                    action = receiver.plan.pop(0) if receiver.plan else 'ok'
                    receiver.requests.append({'headers': dict(self.headers), 'body': body, 'action': action})
                    for record_id in ids:
                        if receiver._in_flight.get(record_id):
                            receiver.overlaps.append(record_id)
                        receiver._in_flight[record_id] = receiver._in_flight.get(record_id, 0) + 1
                try:
                    time.sleep(receiver.delay)
                    self._answer(action, body)
                finally:
                    with receiver._lock:
                        for record_id in ids:
                            receiver._in_flight[record_id] -= 1

            def _heartbeat(self) -> None:
                if receiver.heartbeat_status == 404:  # an endpoint from before heartbeats
                    return self._reply(404, {'error': 'not found'})
                with receiver._lock:
                    receiver.heartbeats.append(json.loads(self.rfile.read(int(self.headers['Content-Length']))))
                return self._reply(200, {})

            def _answer(self, action: str, body: dict[str, Any]) -> None:
                if self.headers.get('Authorization') != f'Bearer {receiver.token}' or action == '401':
                    return self._reply(401, {'error': 'unauthorized'})
                if action.startswith('hang:'):
                    time.sleep(float(action.split(':')[1]))
                if action in ('500', '503', '408'):
                    names = [record.get('name') for record in body['signups']]
                    return self._reply(int(action), {'error': f'try later: {names}'})
                if action.startswith(('429:', '503:')):
                    status, seconds = action.split(':')
                    return self._reply(int(status), {'error': 'slow down'}, {'Retry-After': seconds})
                if action == 'old-hub-key-422' and self.headers.get('Idempotency-Key'):
                    old_words = 'this Idempotency-Key was used for another body in the last 24 h'
                    return self._reply(422, {'error': old_words})
                if action == 'key-422' and self.headers.get('Idempotency-Key'):
                    reused = 'this Idempotency-Key was used for other records in the last 24 h'
                    return self._reply(422, {'code': 'idempotency_key_reused', 'error': reused})
                if receiver.max_batch and len(body['signups']) > receiver.max_batch:
                    return self._reply(413, {'error': 'too big'})
                poison = [record['name'] for record in body['signups'] if 'POISON' in (record.get('name') or '')]
                if poison:
                    return self._reply(422, {'error': poison[0]})  # like a receiver that quotes the bad value
                with receiver._lock:
                    for record in body['signups']:
                        receiver.received.setdefault(record['id'], record)
                if action == 'store-and-drop':
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return None
                return self._reply(200, {'accepted': len(body['signups'])})

            def _reply(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in {'Content-Type': 'application/json', **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
