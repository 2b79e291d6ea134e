"""A real PostgreSQL for the hub's tests: a fresh database per module, and real `kiosk hub run` processes.

Locally without a server these tests skip with the reason; with KIOSK_REQUIRE_POSTGRES=1 (CI) they fail.
KIOSK_TEST_POSTGRES names the maintenance database to connect to (default: the local socket).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from ..conftest import free_port, unavailable


@pytest.fixture(scope='session')
def postgres() -> str:
    url = os.environ.get('KIOSK_TEST_POSTGRES', 'postgresql:///postgres')
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        first_line = str(error).strip().splitlines()[0]
        reason = f'no PostgreSQL server at {url} ({first_line}); see docs/hub.md, "Tests against PostgreSQL"'
        unavailable(reason, 'KIOSK_REQUIRE_POSTGRES')
    return url


@pytest.fixture
async def conn(database):
    """A connection to the module's database; each test's rows are rolled back, so the database stays clean."""
    from kiosk.hub import db

    connection = await db.connect(database)
    yield connection
    await connection.rollback()
    await connection.close()


@pytest.fixture(scope='module')
def database(postgres) -> Iterator[str]:
    """An empty database with the hub's schema, dropped afterwards."""
    name = f'kiosk_test_{uuid.uuid4().hex[:12]}'
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE {name}')
    url = postgres.rsplit('/', 1)[0] + '/' + name
    from kiosk.hub.db import migrate

    migrate(url)
    yield url
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE {name} WITH (FORCE)')


def hub_command(database: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, 'KIOSK_HUB_DATABASE_URL': database}
    return subprocess.run([sys.executable, '-m', 'kiosk', 'hub', *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=60)


def add_kiosk(database: str, name: str) -> str:
    """A kiosk's credential, as IT makes one; returns the token printed once."""
    result = hub_command(database, 'add-kiosk', name)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@dataclass
class HubProcess:
    """A real `kiosk hub run` on loopback; restartable on the same port and database."""

    database: str
    port: int
    log_path: Path
    settings: dict[str, str]
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    @property
    def signups_url(self) -> str:
        return self.url + '/api/v1/signups'

    def start(self) -> HubProcess:
        env = {key: value for key, value in os.environ.items() if not key.startswith(('KIOSK_', 'PYTEST_'))}
        env.update({'KIOSK_HUB_DATABASE_URL': self.database,
                    **{f'KIOSK_HUB_{key.upper()}': value for key, value in self.settings.items()}})
        with self.log_path.open('ab') as log:
            self.process = subprocess.Popen([sys.executable, '-m', 'kiosk', 'hub', 'run', '--port', str(self.port)],
                                            env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f'hub exited: {self.log_path.read_text()[-2000:]}')
            try:
                httpx.head(self.signups_url, timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError('hub did not start within 30 s')

    def kill(self, sig: int = 9) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=15)


@pytest.fixture(scope='module')
def hub_factory(database, tmp_path_factory):
    started: list[HubProcess] = []

    def make(**settings: str) -> HubProcess:
        hub = HubProcess(database, free_port(), tmp_path_factory.mktemp('hub') / 'hub.log', settings)
        started.append(hub.start())
        return hub

    yield make
    for hub in started:
        hub.kill(15)
