"""Accounts city IT will accept, at the domain's level on a real PostgreSQL: TOTP codes (from pyotp, as a phone
makes them) good once, recovery codes good once, wrong codes throttled apart from passwords, an admin's reset,
set-password links (one use, 24 hours), and changes that lower a user's access ending their sessions."""

from __future__ import annotations

import time
import uuid

import psycopg
import pyotp

from kiosk.hub import db
from kiosk.hub.auth import (
    CODE_LIMIT,
    PASSWORD_LINK_HOURS,
    hash_password,
    must_enrol,
    new_recovery_codes,
    recovery_digest,
    token_digest,
    totp_step,
)
from tests.support.accounts import PASSWORD, add_user, enrol, next_code
from tests.support.processes import hub_command


def account(database: str, role: str = 'coordinator', *programs: str) -> str:
    """A user with PASSWORD, straight into the database (tests/support/accounts.py)."""
    return add_user(database, f'user-{uuid.uuid4().hex[:8]}@slmpd.org', role, *programs)


def test_a_code_is_right_for_its_step_and_either_side_and_only_after_the_last_used():
    secret = pyotp.random_base32()
    totp, now = pyotp.TOTP(secret), time.time()
    step = totp.timecode(now)
    assert totp_step(secret, totp.at(now), None, now) == step
    assert totp_step(secret, f' {totp.at(now)[:3]} {totp.at(now)[3:]} ', None, now) == step, 'spaces are forgiven'
    assert totp_step(secret, totp.at(now - 30), None, now) == step - 1, 'a phone a little slow'
    assert totp_step(secret, totp.at(now + 30), None, now) == step + 1, 'a phone a little fast'
    assert totp_step(secret, totp.at(now - 90), None, now) is None, 'too old'
    assert totp_step(secret, totp.at(now), step, now) is None, 'used already'
    assert totp_step(secret, '000000' if totp.at(now) != '000000' else '111111', None, now) is None
    assert totp_step(secret, 'abcdef', None, now) is None


def test_who_must_enrol_under_each_setting():
    admin, coordinator = db.Viewer('a@x', 'admin'), db.Viewer('c@x', 'coordinator', ('pal',))
    assert [must_enrol(admin, r) for r in ('admin', 'all', 'none')] == [True, True, False]
    assert [must_enrol(coordinator, r) for r in ('admin', 'all', 'none')] == [False, True, False]
    enrolled = db.Viewer('a@x', 'admin', second_factor=True)
    assert not any(must_enrol(enrolled, r) for r in ('admin', 'all', 'none'))


async def test_a_right_code_signs_in_once_and_the_same_code_again_is_refused(sign_ins, database):
    email = account(database)
    secret = enrol(database, email)
    code = next_code(database, email, secret)
    assert (await sign_ins.check_code(email, code, '192.0.2.1')).ok
    assert not (await sign_ins.check_code(email, code, '192.0.2.1')).ok, 'replayed within its window'


async def test_a_recovery_code_works_once(sign_ins, database):
    email = account(database)
    enrol(database, email)
    codes = new_recovery_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    with psycopg.connect(database) as conn:
        conn.execute('INSERT INTO recovery_codes (email, code_sha256) SELECT %s, unnest(%s::bytea[])',
                     (email, [recovery_digest(code) for code in codes]))
        stored = str(conn.execute('SELECT * FROM recovery_codes').fetchall())
    assert not any(code in stored for code in codes), 'only hashes are stored'
    assert (await sign_ins.check_code(email, codes[3].upper().replace('-', ' '), '192.0.2.2')).ok, 'as typed'
    assert not (await sign_ins.check_code(email, codes[3], '192.0.2.2')).ok, 'spent'
    async with sign_ins.pool.connection() as conn:
        assert await db.recovery_codes_left(conn, email) == 9


async def test_wrong_codes_lock_the_second_step_and_a_right_password_does_not_forgive_them(sign_ins, database):
    email = account(database)
    secret = enrol(database, email)
    for number in range(CODE_LIMIT[0]):
        assert not (await sign_ins.check_code(email, '123456' if number % 2 else 'not-a-code', f'192.0.2.{number}'))\
            .ok
    assert (await sign_ins.check(email, PASSWORD, '192.0.2.99')).ok, 'the password is right'
    refused = await sign_ins.check_code(email, next_code(database, email, secret), '192.0.2.99')
    assert not refused.ok and not refused.checked, 'locked: the right code is not even checked'
    with psycopg.connect(database) as conn:
        conn.execute("UPDATE login_failures SET at = at - interval '16 minutes' WHERE scope = 'code' AND key = %s",
                     (email,))
    assert (await sign_ins.check_code(email, next_code(database, email, secret), '192.0.2.99')).ok, 'decayed'


async def test_an_account_without_a_second_factor_accepts_no_code(sign_ins, database):
    email = account(database)
    assert not (await sign_ins.check_code(email, '123456', '192.0.2.3')).ok


async def test_an_admins_reset_takes_the_factor_away_ends_sessions_and_is_audited(conn):
    await db.add_user(conn, 'lost.phone@slmpd.org', 'coordinator', ['pal'], hash_password(PASSWORD))
    assert await db.turn_on_second_factor(conn, 'lost.phone@slmpd.org', pyotp.random_base32(), 1,
                                          [recovery_digest(c) for c in new_recovery_codes()])
    assert not await db.turn_on_second_factor(conn, 'lost.phone@slmpd.org', pyotp.random_base32(), 1, []), \
        'a second enrolment does not replace the first'
    await db.open_session(conn, token_digest('phone-tab'), 'lost.phone@slmpd.org')
    assert (await db.viewer(conn, 'lost.phone@slmpd.org')).second_factor
    assert await db.reset_second_factor(conn, 'lost.phone@slmpd.org', 'chief@slmpd.org')
    assert not (await db.viewer(conn, 'lost.phone@slmpd.org')).second_factor
    assert await db.recovery_codes_left(conn, 'lost.phone@slmpd.org') == 0
    assert await db.session_viewer(conn, token_digest('phone-tab'), 30, 12, renew=False) is None
    audit = await (await conn.execute("SELECT actor, action, detail FROM audit_log WHERE action LIKE 'two_factor%' "
                                      "ORDER BY seq")).fetchall()
    assert [(row['actor'], row['action']) for row in audit] == [('lost.phone@slmpd.org', 'two_factor_on'),
                                                                ('chief@slmpd.org', 'two_factor_reset')]
    assert audit[1]['detail'] == {'user': 'lost.phone@slmpd.org'}


async def test_lowering_access_ends_the_users_sessions_and_raising_it_does_not(conn):
    await db.add_user(conn, 'moving@slmpd.org', 'admin', [], hash_password(PASSWORD))

    async def session_lives() -> bool:
        return await db.session_viewer(conn, token_digest('moving-tab'), 30, 12, renew=False) is not None

    await db.open_session(conn, token_digest('moving-tab'), 'moving@slmpd.org')
    await db.set_role(conn, 'moving@slmpd.org', 'coordinator', 'chief@slmpd.org')
    assert not await session_lives(), 'admin to coordinator'
    await db.open_session(conn, token_digest('moving-tab'), 'moving@slmpd.org')
    await db.set_programs(conn, 'moving@slmpd.org', ['pal', 'hmca'], 'chief@slmpd.org')
    assert await session_lives(), 'programs added'
    await db.set_role(conn, 'moving@slmpd.org', 'admin', 'chief@slmpd.org')
    assert await session_lives(), 'made an admin'
    await db.set_programs(conn, 'moving@slmpd.org', ['pal'], 'chief@slmpd.org')
    assert not await session_lives(), 'a program taken away'
    await db.open_session(conn, token_digest('moving-tab'), 'moving@slmpd.org')
    assert await db.set_disabled(conn, 'moving@slmpd.org', True, 'chief@slmpd.org')
    assert not await session_lives(), 'disabled'
    audit = await (await conn.execute("SELECT actor, action, detail FROM audit_log "
                                      "WHERE detail->>'user' = 'moving@slmpd.org' ORDER BY seq")).fetchall()
    assert [(row['action'], row['detail'].get('sessions_ended')) for row in audit] == [
        ('role_changed', True), ('programs_changed', False), ('role_changed', False), ('programs_changed', True)]
    assert audit[3]['detail']['removed'] == ['hmca'] and {row['actor'] for row in audit} == {'chief@slmpd.org'}


async def test_a_set_password_link_works_once_and_for_24_hours(conn):
    await db.add_user(conn, 'linked@slmpd.org', 'coordinator', ['pal'], None)
    await db.open_session(conn, token_digest('old-tab'), 'linked@slmpd.org')
    assert await db.create_password_link(conn, 'linked@slmpd.org', token_digest('first'), 'chief@slmpd.org', None)
    assert await db.create_password_link(conn, 'linked@slmpd.org', token_digest('second'), 'chief@slmpd.org', None)
    assert await db.password_link_email(conn, token_digest('first'), PASSWORD_LINK_HOURS) is None, 'replaced'
    assert await db.password_link_email(conn, token_digest('second'), PASSWORD_LINK_HOURS) == 'linked@slmpd.org'
    assert await db.use_password_link(conn, token_digest('second'), PASSWORD_LINK_HOURS, hash_password(PASSWORD)) \
        == 'linked@slmpd.org'
    assert await db.use_password_link(conn, token_digest('second'), PASSWORD_LINK_HOURS,
                                      hash_password('another password here')) is None, 'used once already'
    row = await (await conn.execute("SELECT password_hash, must_change_password FROM users "
                                    "WHERE email = 'linked@slmpd.org'")).fetchone()
    assert row['password_hash'].startswith('scrypt$') and not row['must_change_password']
    assert await db.session_viewer(conn, token_digest('old-tab'), 30, 12, renew=False) is None

    assert await db.create_password_link(conn, 'linked@slmpd.org', token_digest('late'), 'chief@slmpd.org', None)
    await conn.execute("UPDATE password_links SET created_at = now() - interval '24 hours 1 minute' "
                       "WHERE used_at IS NULL")
    assert await db.use_password_link(conn, token_digest('late'), PASSWORD_LINK_HOURS, hash_password(PASSWORD)) \
        is None, 'expired'
    assert not await db.create_password_link(conn, 'nobody@slmpd.org', token_digest('x'), 'chief@slmpd.org', None)
    actions = [row['action'] for row in await (await conn.execute(
        "SELECT action FROM audit_log WHERE detail->>'user' = 'linked@slmpd.org' OR actor = 'linked@slmpd.org' "
        'ORDER BY seq')).fetchall()]
    assert actions == ['password_link_made', 'password_link_made', 'password_set_by_link', 'password_link_made']


def test_reset_two_factor_from_the_command_line(database):
    email = account(database, 'admin')
    enrol(database, email)
    result = hub_command(database, 'reset-two-factor', email)
    assert result.returncode == 0 and 'reset' in result.stdout
    with psycopg.connect(database) as conn:
        assert conn.execute('SELECT totp_secret FROM users WHERE email = %s', (email,)).fetchone() == (None,)
        assert conn.execute("SELECT actor FROM audit_log WHERE action = 'two_factor_reset' AND detail->>'user' = %s",
                            (email,)).fetchone() == ('cli',)
    assert hub_command(database, 'reset-two-factor', 'nobody@slmpd.org').returncode == 2
