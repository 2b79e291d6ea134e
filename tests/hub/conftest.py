"""The hub's tests run against a real PostgreSQL: the fixtures live in tests/support/postgres.py."""

from tests.support.postgres import conn, database, hub_factory, postgres  # noqa: F401 (fixtures)
