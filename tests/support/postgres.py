"""Fixtures for a real PostgreSQL: a fresh database per module, and real `kiosk hub run` processes.

The hub's tests and the hub's browser tests import them (tests/hub/conftest.py, tests/e2e/test_browser_hub.py).

Locally without a server these tests skip with the reason; with KIOSK_REQUIRE_POSTGRES=1 (CI) they fail.
KIOSK_TEST_POSTGRES names the maintenance database to connect to (default: the local socket).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.support.ports import free_port
from tests.support.processes import HubProcess
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
