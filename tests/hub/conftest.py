"""The hub's tests run against a real PostgreSQL (fixtures in tests/support/postgres.py) and a real SMTP server."""

from collections.abc import Iterator

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from kiosk.hub.auth import SignIns
from tests.support.postgres import conn, database, hub_factory, postgres  # noqa: F401 (fixtures)
from tests.support.smtp import MailCatcher


@pytest.fixture
def smtp() -> Iterator[MailCatcher]:
    """A real SMTP server on a loopback port, for the hub's mail."""
    catcher = MailCatcher().start()
    yield catcher
    catcher.stop()


@pytest.fixture
async def pool(database):  # noqa: F811 (the fixture imported above)
    """A connection pool on the module's database; each test starts from no users, no sign-ups and an empty outbox."""
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute('TRUNCATE signups, mail_outbox, status_changes, users CASCADE')
    async with AsyncConnectionPool(database, min_size=1, max_size=4, open=False,
                                   kwargs={'row_factory': dict_row}) as opened:
        yield opened


@pytest.fixture
async def sign_ins(database):  # noqa: F811 (the fixture imported above)
    """The hub's sign-in checks on a pool of their own (unlike `pool`, it truncates nothing)."""
    async with AsyncConnectionPool(database, min_size=1, max_size=10, kwargs={'row_factory': dict_row},
                                   open=False) as opened:
        yield SignIns(opened)
