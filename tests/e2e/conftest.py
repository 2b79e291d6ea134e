"""Real `kiosk run` processes and Debian's headless Chromium, driven by Playwright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path('/usr/bin/chromium')
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@dataclass
class KioskProcess:
    """A real kiosk server on loopback; restartable on the same port and data directory."""

    data_dir: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def start(self) -> KioskProcess:
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'kiosk', 'run', '--port', str(self.port), '--data-dir', str(self.data_dir)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f'kiosk exited: {self.process.stderr.read().decode()}')
            try:
                if httpx.get(self.url + '/', timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError('kiosk did not start within 30 s')

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=15)


@pytest.fixture(scope='session')
def kiosk_factory(tmp_path_factory) -> Iterator[Callable[..., KioskProcess]]:
    started: list[KioskProcess] = []

    def make(**settings: str) -> KioskProcess:
        env = {key: value for key, value in os.environ.items() if not key.startswith(('KIOSK_', 'PYTEST_'))}
        env.update({'KIOSK_KIOSK_ID': 'e2e-kiosk', **{f'KIOSK_{k.upper()}': v for k, v in settings.items()}})
        kiosk = KioskProcess(tmp_path_factory.mktemp('kiosk-data') / 'var', free_port(), env)
        started.append(kiosk)
        return kiosk.start()

    yield make
    for kiosk in started:
        kiosk.kill(signal.SIGTERM)


@pytest.fixture(scope='session')
def kiosk_server(kiosk_factory) -> KioskProcess:
    return kiosk_factory()


@pytest.fixture(scope='module')
def browser():
    """Per module: sync Playwright keeps an event loop running while it is open, which async tests cannot share."""
    if not CHROMIUM.exists():
        if os.environ.get('KIOSK_REQUIRE_BROWSER'):
            pytest.fail(f'{CHROMIUM} is missing and KIOSK_REQUIRE_BROWSER is set (CI must run browser tests)')
        pytest.skip(f'{CHROMIUM} is not installed (apt-get install chromium chromium-driver)')
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A kiosk-sized page in a fresh context (no cookies, storage or history from other tests)."""
    context = browser.new_context(viewport={'width': 1280, 'height': 800})
    page = context.new_page()
    yield page
    context.close()
