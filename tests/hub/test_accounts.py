"""Kiosk credentials and user accounts from the command line, the sign-in throttle and sessions, on real PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import time
import timeit
import uuid
from collections.abc import Callable
from datetime import timedelta

import psycopg
import pytest

from kiosk.hub import db
from kiosk.hub.auth import (
    ACCOUNT_LIMIT,
    CLIENT_LIMIT,
    SignIn,
    SignIns,
    client_address,
    hash_password,
    password_matches,
    token_digest,
)
from kiosk.hub.config import load_hub_settings
from tests.support.accounts import PASSWORD, add_user
from tests.support.processes import add_kiosk, hub_command


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
def account(database) -> Callable[[], str]:
    """Makes a coordinator whose password is PASSWORD, straight into the database (tests/support/accounts.py)."""
    return lambda: add_user(database, f'user-{uuid.uuid4().hex[:8]}@slmpd.org', 'coordinator')


def age_failures(database: str, scope: str, key: str, by: timedelta) -> None:
    with psycopg.connect(database) as conn:
        conn.execute('UPDATE login_failures SET at = at - %s WHERE scope = %s AND key = %s', (by, scope, key))


async def test_wrong_passwords_lock_the_account_even_against_the_right_one_until_they_decay(sign_ins, database,
                                                                                            account):
    email, limit = account(), ACCOUNT_LIMIT[0]
    for number in range(limit):
        assert not (await sign_ins.check(email, 'wrong password!', f'192.0.2.{number}')).ok
    assert not (await sign_ins.check(email, PASSWORD, '192.0.2.200')).ok, 'locked, whoever asks'
    age_failures(database, 'account', email, ACCOUNT_LIMIT[1])
    assert (await sign_ins.check(email, PASSWORD, '192.0.2.200')).ok, 'the failures decayed'


async def test_one_address_is_stopped_and_so_cannot_keep_an_account_locked(sign_ins, database, account):
    target, attacker = account(), '198.51.100.7'
    refused = 0
    for _ in range(CLIENT_LIMIT[0] + 1):  # an attacker who knows the email keeps guessing
        attempt = await sign_ins.check(target, 'guess guess guess', attacker)
        refused += not attempt.checked
    assert refused == 1, 'past its limit, the address is refused without a check'
    age_failures(database, 'account', target, ACCOUNT_LIMIT[1])  # a quarter of an hour later
    assert not (await sign_ins.check(target, 'guess guess guess', attacker)).checked, 'the attacker is still stopped'
    assert (await sign_ins.check(target, PASSWORD, '203.0.113.9')).ok, 'the owner, from their desk, gets in'


async def test_locked_unknown_and_wrong_get_the_same_answer_in_the_same_time(sign_ins, database, account):
    locked, known = account(), account()
    for number in range(ACCOUNT_LIMIT[0]):
        await sign_ins.check(locked, 'wrong password!', f'192.0.2.{number + 10}')

    async def timed(email: str, password: str, client: str) -> tuple[SignIn, float]:
        """The answer, and the fastest of three tries (the machine is shared: a try can only stall, never speed up)."""
        seconds = []
        for _ in range(3):
            started = time.perf_counter()
            attempt = await sign_ins.check(email, password, client)
            seconds.append(time.perf_counter() - started)
        return attempt, min(seconds)

    answers = [await timed(locked, PASSWORD, '203.0.113.1'), await timed('nobody@slmpd.org', PASSWORD, '203.0.113.2'),
               await timed(known, 'wrong password!', '203.0.113.3')]
    assert {attempt for attempt, _ in answers} == {SignIn(ok=False)}
    # The machine is shared and its load swings from second to second, so the check is only that none
    # answers early: without a hash an answer takes a few milliseconds, a twentieth of one scrypt hash.
    stored = hash_password('another password')
    one_hash = min(timeit.repeat(lambda: password_matches(PASSWORD, stored), number=1, repeat=3))
    assert min(seconds for _, seconds in answers) > one_hash * 0.3, [round(seconds, 3) for _, seconds in answers]


async def test_concurrent_tries_cannot_slip_past_the_account_limit(sign_ins, database, account):
    email = account()
    attempts = await asyncio.gather(*(sign_ins.check(email, f'guess number {n}', f'192.0.2.{100 + n}')
                                      for n in range(20)))
    with psycopg.connect(database) as conn:
        (counted,) = conn.execute("SELECT count(*) FROM login_failures WHERE scope = 'account' AND key = %s",
                                  (email,)).fetchone()
    assert 0 < counted <= ACCOUNT_LIMIT[0], 'some were busy (not counted), none past the limit'
    assert not any(attempt.ok for attempt in attempts)


async def test_a_full_set_of_hashing_slots_gets_a_calm_busy_answer_and_counts_nothing(sign_ins, database):
    sign_ins = SignIns(sign_ins.pool, hashes_at_once=1)
    hashed = hash_password(PASSWORD)
    emails = [f'busy-{n}@slmpd.org' for n in range(12)]
    with psycopg.connect(database) as conn, conn.cursor() as cursor:
        cursor.executemany("INSERT INTO users (email, role, password_hash) VALUES (%s, 'admin', %s)",
                         [(email, hashed) for email in emails])
    attempts = await asyncio.gather(*(sign_ins.check(email, PASSWORD, f'100.64.0.{n}')
                                      for n, email in enumerate(emails)))
    assert any(attempt.busy for attempt in attempts) and any(attempt.ok for attempt in attempts)
    assert all(attempt.ok or attempt.busy for attempt in attempts), 'busy is not a failure'
    with psycopg.connect(database) as conn:
        assert conn.execute('SELECT count(*) FROM login_failures WHERE key LIKE %s', ('100.64.0.%',)).fetchone() \
            == (0,)


@pytest.mark.parametrize(('peer', 'forwarded', 'trusted', 'expected'), [
    ('203.0.113.5', None, '', '203.0.113.5'),
    ('203.0.113.5', '1.2.3.4', '', '203.0.113.5'),  # nobody trusted: a client cannot name itself
    ('127.0.0.1', '1.2.3.4, 203.0.113.5', '127.0.0.1/32', '203.0.113.5'),  # the hop the proxy saw
    ('127.0.0.1', '203.0.113.5, 10.0.0.8', '127.0.0.1/32, 10.0.0.0/8', '203.0.113.5'),  # two proxies
    ('127.0.0.1', None, '127.0.0.1/32', '127.0.0.1'),
    ('::ffff:10.0.0.1', '2001:db8:0:0::1', '::ffff:10.0.0.0/104', '2001:db8::1'),
])
def test_the_client_is_the_first_untrusted_hop(peer, forwarded, trusted, expected, monkeypatch):
    monkeypatch.setenv('KIOSK_HUB_TRUSTED_PROXIES', trusted)
    assert client_address(peer, forwarded, load_hub_settings().trusted_proxies) == expected


def test_set_password_and_disable_user_end_that_users_sessions(database, account):
    email = account()

    def live_sessions() -> int:
        with psycopg.connect(database) as conn:
            conn.execute("INSERT INTO sessions (id_sha256, email) VALUES (%s, %s)", (uuid.uuid4().bytes, email))
            conn.commit()
            return conn.execute('SELECT count(*) FROM sessions WHERE email = %s', (email,)).fetchone()[0]

    assert live_sessions() == 1
    assert hub_command(database, 'set-password', email, stdin=PASSWORD + '\n').returncode == 0
    with psycopg.connect(database) as conn:
        assert conn.execute('SELECT count(*) FROM sessions WHERE email = %s', (email,)).fetchone() == (0,)
    assert live_sessions() == 1
    assert hub_command(database, 'disable-user', email).returncode == 0
    with psycopg.connect(database) as conn:
        assert conn.execute('SELECT count(*) FROM sessions WHERE email = %s', (email,)).fetchone() == (0,)


async def test_a_disabled_user_cannot_sign_in_until_enabled(sign_ins, database, account):
    email = account()
    assert hub_command(database, 'disable-user', email).returncode == 0
    assert not (await sign_ins.check(email, PASSWORD, '192.0.2.77')).ok
    assert hub_command(database, 'enable-user', email).returncode == 0
    assert (await sign_ins.check(email, PASSWORD, '192.0.2.77')).ok


async def test_a_session_ends_after_the_idle_minutes_or_the_maximum_hours(conn):
    await db.add_user(conn, 'idle@slmpd.org', 'coordinator', ['pal'], hash_password('the right password'))
    await db.open_session(conn, token_digest('cookie'), 'idle@slmpd.org')
    viewer = await db.session_viewer(conn, token_digest('cookie'), 30, 12, renew=True)
    assert viewer == db.Viewer('idle@slmpd.org', 'coordinator', ('pal',), must_change_password=True)  # add-user's
    await conn.execute("UPDATE sessions SET last_seen = now() - interval '31 minutes'")
    assert await db.session_viewer(conn, token_digest('cookie'), 30, 12, renew=True) is None
    assert await db.session_viewer(conn, token_digest('forged'), 30, 12, renew=True) is None
    await conn.execute("UPDATE sessions SET last_seen = now(), created_at = now() - interval '12 hours 1 minute'")
    assert await db.session_viewer(conn, token_digest('cookie'), 30, 12, renew=True) is None


async def test_only_a_renewing_look_keeps_a_session_alive(conn):
    await db.add_user(conn, 'timer@slmpd.org', 'admin', [], hash_password('the right password'))
    await db.open_session(conn, token_digest('tab'), 'timer@slmpd.org')
    await conn.execute("UPDATE sessions SET last_seen = now() - interval '10 minutes'")
    assert await db.session_viewer(conn, token_digest('tab'), 30, 12, renew=False) is not None
    (seen,) = await (await conn.execute("SELECT now() - last_seen > interval '9 minutes' AS old FROM sessions "
                                        "WHERE email = 'timer@slmpd.org'")).fetchall()
    assert seen['old'], 'a timer that looks does not renew'
    await db.session_viewer(conn, token_digest('tab'), 30, 12, renew=True)
    (seen,) = await (await conn.execute("SELECT now() - last_seen < interval '1 minute' AS fresh FROM sessions "
                                        "WHERE email = 'timer@slmpd.org'")).fetchall()
    assert seen['fresh']


def stored_hash(database: str, email: str) -> str:
    with psycopg.connect(database) as conn:
        return conn.execute('SELECT password_hash FROM users WHERE email = %s', (email,)).fetchone()[0]


def test_new_passwords_get_owasps_scrypt_parameters(database, account):
    email = account()
    assert hub_command(database, 'set-password', email, stdin='a new password of mine\n').returncode == 0
    scheme, n, r, p, _salt, _hash = stored_hash(database, email).split('$')
    assert (scheme, int(n), int(r), int(p)) == ('scrypt', 2 ** 17, 8, 1)


async def test_an_old_hash_still_verifies_and_is_rehashed_at_the_next_sign_in(sign_ins, database, account):
    email = account()
    salt = bytes(range(16))
    old = '$'.join(['scrypt', str(2 ** 14), '8', '1', salt.hex(),
                    hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2 ** 14, r=8, p=1, dklen=32).hex()])
    with psycopg.connect(database) as conn:
        conn.execute('UPDATE users SET password_hash = %s WHERE email = %s', (old, email))
    assert (await sign_ins.check(email, PASSWORD, '203.0.113.77')).ok, 'the old hash verifies'
    assert stored_hash(database, email).startswith(f'scrypt${2 ** 17}$8$1$'), 'and was replaced'
    assert (await sign_ins.check(email, PASSWORD, '203.0.113.77')).ok, 'the new hash verifies'
