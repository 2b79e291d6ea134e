"""Real `kiosk run` and `kiosk hub run` processes on loopback ports, and the `kiosk hub` command as IT runs it.

Both servers share one base: start and wait until the server answers, stop, and a log file beside them (a
pipe nobody reads would fill up and freeze the server).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import httpx

from tests.support.ports import free_port
from tests.support.tools import faked_clock

START_SECONDS = 30


def clean_environment() -> dict[str, str]:
    """This process's environment without the test run's KIOSK_* and PYTEST_* settings."""
    return {key: value for key, value in os.environ.items() if not key.startswith(('KIOSK_', 'PYTEST_'))}


class ServerProcess:
    """A real server on loopback, restartable on the same port; a subclass says how it is run and when it answers."""

    name: str
    port: int
    log_path: Path
    process: subprocess.Popen | None

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        raise NotImplementedError

    def answers(self) -> bool:
        """Whether the server is up; a TransportError means not yet."""
        raise NotImplementedError

    def start(self) -> Self:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open('ab') as log:
            self.process = subprocess.Popen(self.command(), env=self.environment(), stdout=log, stderr=log)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f'{self.name} exited: {self.log_path.read_text()[-2000:]}')
            try:
                if self.answers():
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f'{self.name} did not start within {START_SECONDS} s')

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=15)


@dataclass
class KioskProcess(ServerProcess):
    """A real kiosk server; restartable on the same port and data directory."""

    data_dir: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen | None = None
    ready_path: str = '/'
    """What answers 200 once it is up: the attract screen, or /healthz where a page fetched by the check (and
    never connected, so NiceGUI keeps it for 60 s) would be in the way."""
    name = 'kiosk'

    @property
    def log_path(self) -> Path:
        return self.data_dir.with_name('kiosk.log')

    def command(self) -> list[str]:
        return [sys.executable, '-m', 'kiosk', 'run', '--port', str(self.port), '--data-dir', str(self.data_dir)]

    def environment(self) -> dict[str, str]:
        return self.env

    def answers(self) -> bool:
        return httpx.get(self.url + self.ready_path, timeout=1).status_code == 200


@dataclass
class HubProcess(ServerProcess):
    """A real `kiosk hub run`; restartable on the same port and database."""

    database: str
    port: int
    log_path: Path
    settings: dict[str, str]
    process: subprocess.Popen | None = None
    name = 'hub'

    @property
    def signups_url(self) -> str:
        return self.url + '/api/v1/signups'

    def command(self) -> list[str]:
        return [sys.executable, '-m', 'kiosk', 'hub', 'run', '--port', str(self.port)]

    def environment(self) -> dict[str, str]:
        return {**clean_environment(), 'KIOSK_HUB_DATABASE_URL': self.database,
                **{f'KIOSK_HUB_{key.upper()}': value for key, value in self.settings.items()}}

    def answers(self) -> bool:
        httpx.head(self.signups_url, timeout=1)
        return True


@contextmanager
def kiosk_processes(tmp_path_factory) -> Iterator[Callable[..., KioskProcess]]:
    """Starts real `kiosk run` processes on free ports; every one is stopped when the block ends."""
    started: list[KioskProcess] = []

    def make(data_dir: Path | None = None, start: bool = True, clock: str | None = None, ready_path: str = '/',
             **settings: str) -> KioskProcess:
        env = clean_environment()
        env.update({'KIOSK_KIOSK_ID': 'e2e-kiosk', **{f'KIOSK_{k.upper()}': v for k, v in settings.items()}})
        if clock:
            env.update(faked_clock(clock))
        kiosk = KioskProcess(data_dir or tmp_path_factory.mktemp('kiosk-data') / 'var', free_port(), env,
                             ready_path=ready_path)
        started.append(kiosk)
        return kiosk.start() if start else kiosk

    try:
        yield make
    finally:
        for kiosk in started:
            kiosk.kill(signal.SIGTERM)


def healthz(kiosk: KioskProcess) -> dict:
    return httpx.get(kiosk.url + '/healthz', timeout=5).json()


def hub_command(database: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, 'KIOSK_HUB_DATABASE_URL': database}
    return subprocess.run([sys.executable, '-m', 'kiosk', 'hub', *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=60)


def add_kiosk(database: str, name: str) -> str:
    """A kiosk's credential, as IT makes one; returns the token printed once."""
    result = hub_command(database, 'add-kiosk', name)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]
