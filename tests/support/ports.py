"""Free loopback ports, so that every server a test starts has its own.

Each pytest-xdist worker takes its ports from a block of its own, below the kernel's ephemeral range: a port
probed free is then never handed to another worker's server, nor taken meanwhile as the local end of an outgoing
connection (a browser's, a sync's), which a port the kernel picks with bind(0) can be.
"""

import itertools
import os
import socket

FIRST_PORT, BLOCK = 20_000, 2_000  # blocks up to worker 5 stay below 32768, where Linux's ephemeral range starts
_offsets = itertools.count()


def free_port() -> int:
    worker = os.environ.get('PYTEST_XDIST_WORKER', '')  # 'gw0', 'gw1', ...; none without xdist
    start = FIRST_PORT + BLOCK * (int(worker[2:]) + 1 if worker.startswith('gw') else 0)
    for _ in range(BLOCK):
        port = start + next(_offsets) % BLOCK
        with socket.socket() as sock:
            try:
                sock.bind(('127.0.0.1', port))
            except OSError:  # still held, or lingering after a killed server: the next one
                continue
            return port
    raise OSError(f'no free port in {start}-{start + BLOCK - 1}')


def hold(port: int) -> socket.socket:
    """Binds a stopped server's port without listening, so that no other server is given it while a browser
    still finds it refused, as with nothing there. Close it before the server starts again."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the killed server's connections linger
    holder.bind(('127.0.0.1', port))
    return holder
