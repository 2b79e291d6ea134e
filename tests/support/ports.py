"""Free loopback ports, so that every server a test starts has its own."""

import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def hold(port: int) -> socket.socket:
    """Binds a stopped server's port without listening, so that no other server is given it while a browser
    still finds it refused, as with nothing there. Close it before the server starts again."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the killed server's connections linger
    holder.bind(('127.0.0.1', port))
    return holder
