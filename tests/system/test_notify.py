"""sd_notify over a real NOTIFY_SOCKET: READY=1 once `/` is served, watchdog pings from the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from kiosk.appliance.systemd import feed_watchdog, notify, watchdog_interval
from tests.support.ports import free_port
from tests.support.processes import KioskProcess


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = tmp_path / 'notify.sock'
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.1)
    monkeypatch.setenv('NOTIFY_SOCKET', str(path))
    yield sock
    sock.close()


def received(sock: socket.socket, seconds: float) -> list[tuple[float, str]]:
    """Every datagram that arrives within `seconds`, with when it came."""
    messages = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            text = sock.recv(4096).decode()
            messages.append((time.monotonic(), text))
    return messages


def test_the_server_says_ready_only_once_it_serves_and_then_feeds_the_watchdog(notify_socket, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(('KIOSK_', 'PYTEST_'))}
    env.update(NOTIFY_SOCKET=os.environ['NOTIFY_SOCKET'], WATCHDOG_USEC='2000000', KIOSK_KIOSK_ID='notify-test')
    kiosk = KioskProcess(tmp_path / 'var', free_port(), env)
    try:
        kiosk.start()  # returns once `/` answers
        messages = received(notify_socket, 4)
        ready = [stamp for stamp, text in messages if text == 'READY=1']
        assert len(ready) == 1
        pings = [stamp for stamp, text in messages if text == 'WATCHDOG=1' and stamp >= ready[0]]
        assert len(pings) >= 3, messages  # every second: half of WatchdogSec=2
        assert httpx.get(kiosk.url + '/').status_code == 200
        kiosk.kill(signal.SIGTERM)
        assert 'STOPPING=1' in [text for _, text in received(notify_socket, 1)]
    finally:
        kiosk.kill()


def test_watchdog_pings_stop_while_the_event_loop_is_blocked(notify_socket):
    arrivals: list[float] = []
    listening = threading.Event()
    listening.set()

    def listen() -> None:  # on its own thread, so arrival times are real while the loop is stuck
        while listening.is_set():
            arrivals.extend(stamp for stamp, text in received(notify_socket, 0.1) if text == 'WATCHDOG=1')

    listener = threading.Thread(target=listen)
    listener.start()

    async def scenario() -> tuple[float, float]:
        pinger = asyncio.create_task(feed_watchdog(0.1))
        await asyncio.sleep(0.5)
        blocked_from = time.monotonic()
        time.sleep(1.5)  # a handler that hangs the loop, as a stuck call would
        blocked_until = time.monotonic()
        await asyncio.sleep(0.5)
        pinger.cancel()
        return blocked_from, blocked_until

    blocked_from, blocked_until = asyncio.run(scenario())
    listening.clear()
    listener.join()
    assert len([stamp for stamp in arrivals if stamp < blocked_from]) >= 3
    assert [stamp for stamp in arrivals if blocked_from + 0.05 < stamp < blocked_until] == []
    assert len([stamp for stamp in arrivals if stamp > blocked_until]) >= 3, 'pings resume with the loop'


def test_watchdog_interval_is_half_of_watchdog_sec_and_only_for_this_process(monkeypatch):
    monkeypatch.setenv('WATCHDOG_USEC', '30000000')
    monkeypatch.delenv('WATCHDOG_PID', raising=False)
    assert watchdog_interval() == 15
    monkeypatch.setenv('WATCHDOG_PID', str(os.getpid()))
    assert watchdog_interval() == 15
    monkeypatch.setenv('WATCHDOG_PID', str(os.getpid() + 1))
    assert watchdog_interval() is None
    monkeypatch.delenv('WATCHDOG_USEC')
    assert watchdog_interval() is None


def test_outside_systemd_notify_does_nothing(monkeypatch, tmp_path):
    monkeypatch.delenv('NOTIFY_SOCKET', raising=False)
    assert notify('READY=1') is False
    monkeypatch.setenv('NOTIFY_SOCKET', str(Path(tmp_path) / 'gone.sock'))
    assert notify('READY=1') is False  # a vanished socket is logged, never fatal
