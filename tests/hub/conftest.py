"""The hub's tests run against a real PostgreSQL (fixtures in tests/support/postgres.py) and a real SMTP server."""

from collections.abc import Iterator

import pytest

from tests.support.postgres import conn, database, hub_factory, migrated_template, postgres  # noqa: F401 (fixtures)
from tests.support.smtp import MailCatcher


@pytest.fixture
def smtp() -> Iterator[MailCatcher]:
    """A real SMTP server on a loopback port, for the hub's mail."""
    catcher = MailCatcher().start()
    yield catcher
    catcher.stop()
