"""Hub users for tests where someone signs in: stored as `add-user` and then `set-password` leave them (both commands
are tested in tests/hub/test_accounts.py), with one real hash of PASSWORD made once a run: each command is a process
of its own with a hash that takes a second or more."""

from __future__ import annotations

from functools import cache

import psycopg

from kiosk.hub.auth import hash_password

PASSWORD = 'a long enough password'


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def add_user(database: str, email: str, role: str, *programs: str) -> str:
    """A user whose password is PASSWORD, chosen by them (not one-time)."""
    with psycopg.connect(database) as conn:
        conn.execute('INSERT INTO users (email, role, password_hash) VALUES (%s, %s, %s)',
                     (email, role, password_hash()))
        for program in programs:
            conn.execute('INSERT INTO user_programs (email, program) VALUES (%s, %s)', (email, program))
    return email
