"""Kiosk credentials and user accounts from the command line, sign-in lockout and idle sessions, on real PostgreSQL."""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from kiosk.hub import db
from kiosk.hub.auth import FREE_TRIES, hash_password, sign_in, token_digest

from .conftest import add_kiosk, hub_command


def test_add_kiosk_prints_the_token_once_and_stores_only_its_hash(database):
    token = add_kiosk(database, 'hash-check')
    with psycopg.connect(database) as conn:
        stored = [bytes(row[0]) for row in conn.execute("SELECT token_sha256 FROM kiosk_tokens WHERE kiosk = "
                                                        "'hash-check'")]
        dump = str(conn.execute('SELECT * FROM kiosk_tokens').fetchall())
    assert stored == [hashlib.sha256(token.encode()).digest()] and token not in dump
    again = hub_command(database, 'add-kiosk', 'hash-check')
    assert again.returncode == 2 and 'exists already' in again.stderr


def test_users_get_a_one_time_password_and_can_set_their_own_from_stdin(database):
    created = hub_command(database, 'add-user', 'Coord@SLMPD.org', '--role', 'coordinator', '--program', 'pal',
                          '--program', 'hmca')
    assert created.returncode == 0 and 'coord@slmpd.org added (coordinator)' in created.stdout
    assert hub_command(database, 'set-password', 'coord@slmpd.org', stdin='short\n').returncode == 2
    assert hub_command(database, 'set-password', 'coord@slmpd.org', stdin='twelve chars ok\n').returncode == 0
    with psycopg.connect(database) as conn:
        (stored,) = conn.execute("SELECT password_hash FROM users WHERE email = 'coord@slmpd.org'").fetchone()
        programs = sorted(row[0] for row in conn.execute("SELECT program FROM user_programs "
                                                         "WHERE email = 'coord@slmpd.org'"))
    assert stored.startswith('scrypt$') and 'twelve' not in stored and programs == ['hmca', 'pal']


def test_a_bad_hub_setting_gets_one_line_naming_its_key(database, monkeypatch):
    monkeypatch.setenv('KIOSK_HUB_RATE_PER_MINUTE', 'lots')
    result = hub_command(database, 'migrate')
    assert result.returncode == 2
    assert result.stderr.startswith('kiosk: rate_per_minute (KIOSK_HUB_RATE_PER_MINUTE): ')
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture
async def conn(database):
    connection = await db.connect(database)
    yield connection
    await connection.rollback()
    await connection.close()


async def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(conn):
    await db.add_user(conn, 'locked@slmpd.org', 'admin', [], hash_password('the right password'))
    for _ in range(FREE_TRIES - 1):
        assert not (await sign_in(conn, 'locked@slmpd.org', 'wrong password!')).ok
    last = await sign_in(conn, 'locked@slmpd.org', 'wrong password!')
    assert not last.ok and 299 <= last.locked_for <= 300
    locked = await sign_in(conn, 'locked@slmpd.org', 'the right password')
    assert not locked.ok and locked.locked_for > 0
    await conn.execute("UPDATE users SET locked_until = now() - interval '1 second' WHERE email = 'locked@slmpd.org'")
    assert (await sign_in(conn, 'locked@slmpd.org', 'the right password')).ok
    assert not (await sign_in(conn, 'nobody@slmpd.org', 'the right password')).ok


async def test_a_session_ends_after_the_idle_minutes(conn):
    await db.add_user(conn, 'idle@slmpd.org', 'coordinator', ['pal'], hash_password('the right password'))
    await db.open_session(conn, token_digest('cookie'), 'idle@slmpd.org')
    viewer = await db.session_viewer(conn, token_digest('cookie'), idle_minutes=30)
    assert viewer == db.Viewer('idle@slmpd.org', 'coordinator', ('pal',))
    await conn.execute("UPDATE sessions SET last_seen = now() - interval '31 minutes'")
    assert await db.session_viewer(conn, token_digest('cookie'), idle_minutes=30) is None
    assert await db.session_viewer(conn, token_digest('forged'), idle_minutes=30) is None
