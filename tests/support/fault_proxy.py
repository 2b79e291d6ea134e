"""A loopback HTTP proxy that loses replies on purpose: the request reaches the server and is answered
(so a hub has committed it), and the client's connection is then closed without a word, as when Wi-Fi
drops or a timeout fires just before the answer arrives."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable

HEADER_END = b'\r\n\r\n'


def _read_request(conn: socket.socket) -> bytes | None:
    """One whole HTTP/1.1 request (headers and a Content-Length body), or None when the client hung up."""
    data = b''
    while HEADER_END not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(HEADER_END)
    length = next((int(line.split(b':', 1)[1]) for line in head.split(b'\r\n')[1:]
                   if line.lower().startswith(b'content-length:')), 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + HEADER_END + body


def _close_after(request: bytes) -> bytes:
    """The same request with `Connection: close`, so the server's whole answer is what it sends before EOF."""
    head, _, body = request.partition(HEADER_END)
    lines = [line for line in head.split(b'\r\n') if not line.lower().startswith(b'connection:')]
    return b'\r\n'.join([*lines, b'Connection: close']) + HEADER_END + body


class FaultProxy:
    """Forwards every request to `upstream_port`; `drop(request_line)` decides which replies are lost.

    One request per client connection (the proxy answers with `Connection: close`). `dropped` counts
    the replies thrown away, `forwarded` every request that reached the server. `cut(request_line, reply)`
    sends only the first half of a reply instead, then closes.
    """

    def __init__(self, upstream_port: int, drop: Callable[[bytes], bool],
                 cut: Callable[[bytes, bytes], bool] = lambda _request_line, _reply: False) -> None:
        self.upstream_port = upstream_port
        self.drop = drop
        self.cut = cut  # these replies stop half-way through, as a download does when the link drops
        self.forwarded = 0
        self.dropped = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._relay(self.request)

        self.server = socketserver.ThreadingTCPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f'http://127.0.0.1:{self.port}'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _relay(self, client: socket.socket) -> None:
        request = _read_request(client)
        if request is None:
            return
        try:
            with socket.create_connection(('127.0.0.1', self.upstream_port), timeout=60) as upstream:
                upstream.sendall(_close_after(request))
                reply = b''
                while chunk := upstream.recv(65536):
                    reply += chunk
        except OSError:
            return  # the server is down: the client sees its connection closed, as it would
        request_line = request.split(b'\r\n', 1)[0]
        with self._lock:
            self.forwarded += 1
            lose = self.drop(request_line)
            self.dropped += lose
        if lose:
            client.shutdown(socket.SHUT_RDWR)
            return
        if self.cut(request_line, reply):
            client.sendall(reply[:len(reply) // 2])
            client.shutdown(socket.SHUT_RDWR)
            return
        client.sendall(reply)


def first_sign_up_replies(count: int) -> Callable[[bytes], bool]:
    """Lose the answers to the first `count` sign-up batches (heartbeats and other requests pass)."""
    left = [count]

    def drop(request_line: bytes) -> bool:
        if not request_line.startswith(b'POST ') or b'/signups' not in request_line or left[0] <= 0:
            return False
        left[0] -= 1
        return True
    return drop


def every_nth_sign_up_reply(n: int) -> Callable[[bytes], bool]:
    """Lose the answer to every `n`th sign-up batch, all through a run."""
    seen = [0]

    def drop(request_line: bytes) -> bool:
        if not request_line.startswith(b'POST ') or b'/signups' not in request_line:
            return False
        seen[0] += 1
        return seen[0] % n == 0
    return drop
