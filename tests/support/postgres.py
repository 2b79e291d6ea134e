"""Fixtures for a real PostgreSQL: a fresh database per module (a copy of one migrated once a run), and real
`kiosk hub run` processes.

The hub's tests and the hub's browser tests import them (tests/hub/conftest.py, tests/e2e/test_browser_hub.py).

Locally without a server these tests skip with the reason; with KIOSK_REQUIRE_POSTGRES=1 (CI) they fail.
KIOSK_TEST_POSTGRES names the maintenance database to connect to (default: the local socket).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.support.ports import free_port
from tests.support.processes import HubProcess, clean_environment
from tests.support.tools import unavailable


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


def url_of(postgres: str, name: str) -> str:
    """The URL of database `name` on the server of `postgres`."""
    return postgres.rsplit('/', 1)[0] + '/' + name


@pytest.fixture(scope='session')
def migrated_template(postgres) -> Iterator[str]:
    """A database with the hub's schema, migrated once a run by `kiosk hub migrate` (a process of its own, so
    that no connection is left open on it): each module's database is a copy, made in a fraction of the time."""
    name = f'kiosk_template_{uuid.uuid4().hex[:12]}'
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE {name}')
    try:
        migrated = subprocess.run([sys.executable, '-m', 'kiosk', 'hub', 'migrate'], capture_output=True, text=True,
                                  env={**clean_environment(), 'KIOSK_HUB_DATABASE_URL': url_of(postgres, name)},
                                  timeout=120)
        assert migrated.returncode == 0, migrated.stderr
        yield name
    finally:
        with psycopg.connect(postgres, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE {name} WITH (FORCE)')


@pytest.fixture(scope='module')
def database(postgres, migrated_template) -> Iterator[str]:
    """An empty database with the hub's schema, dropped afterwards."""
    name = f'kiosk_test_{uuid.uuid4().hex[:12]}'
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE {name} TEMPLATE {migrated_template}')
    yield url_of(postgres, name)
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE {name} WITH (FORCE)')


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
