"""Two-factor sign-in and the Users screen in NiceGUI's user simulation of the real hub app, on a real PostgreSQL
and a real SMTP server: enrolment with codes from pyotp, the sign-in's second step (right, wrong, recovery code,
replay), REQUIRE_2FA forcing enrolment, a one-time password before it, and an admin's changes to other users."""

from __future__ import annotations

import asyncio
import copy
import re
import tomllib
from pathlib import Path

import httpx
import psycopg
import pyotp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nicegui.testing.user_simulation import user_simulation

from kiosk.hub import db
from kiosk.hub.auth import hash_password, new_token, token_digest
from kiosk.hub.content import programs_toml, publish
from kiosk.paths import ASSETS_DIR
from tests.support.accounts import CHALLENGE_COOKIE, CSRF_COOKIE, PASSWORD, SESSION_COOKIE, cookie

HUB_MAIN = Path(__file__).with_name('hub_main.py')


@pytest.fixture
async def users(database, conn, monkeypatch):
    """A fresh set of users with their passwords; the simulated hub reads its env (default require_2fa: admin)."""
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute('TRUNCATE users, mail_outbox, login_failures CASCADE')
        (since,) = admin.execute('SELECT coalesce(max(seq), 0) FROM audit_log').fetchone()
    for email, role, programs in (('chief@slmpd.org', 'admin', []), ('pal@slmpd.org', 'coordinator', ['pal'])):
        await db.add_user(conn, email, role, programs, hash_password(PASSWORD))
        await conn.execute('UPDATE users SET must_change_password = false WHERE email = %s', (email,))
    await conn.commit()
    monkeypatch.setenv('KIOSK_HUB_DATABASE_URL', database)
    return since  # the audit log only grows: each test reads what came after


def session_of(database: str, email: str) -> str:
    """A session opened as a finished sign-in opens one."""
    token = new_token()
    with psycopg.connect(database) as conn:
        conn.execute('INSERT INTO sessions (id_sha256, email) VALUES (%s, %s)', (token_digest(token), email))
    return token


def enrolled(database: str, email: str) -> str:
    secret = pyotp.random_base32()
    with psycopg.connect(database) as conn:
        conn.execute('UPDATE users SET totp_secret = %s WHERE email = %s', (secret, email))
    return secret


async def post_form(client: httpx.AsyncClient, path: str, form: dict[str, str], cookies: dict[str, str]
                    ) -> httpx.Response:
    """A browser's form post; the cookies by hand, since they are Secure and the simulation speaks http."""
    csrf = cookie(await client.get('/login'), CSRF_COOKIE)
    header = '; '.join(f'{name}={value}' for name, value in {CSRF_COOKIE: csrf, **cookies}.items())
    return await client.post(path, data={**form, 'csrf': csrf}, headers={'Cookie': header})


async def soon(check, what: str, seconds: float = 30) -> None:
    """Wait for `check()` without blocking the event loop, which the simulated hub's jobs and handlers run on."""
    for _ in range(int(seconds / 0.2)):
        if check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f'timed out waiting for {what}')


async def lands_on(client: httpx.AsyncClient, path: str) -> str:
    """Where a browser ends up: redirects followed with the session cookie (httpx drops a Cookie header it did
    not set when it follows them)."""
    for _ in range(5):
        answer = await client.get(path)
        if answer.status_code != 303:
            return path
        path = answer.headers['location']
    raise AssertionError(f'a redirect loop through {path}')


def audited(database: str, since: int, action: str) -> list[tuple[str, dict]]:
    with psycopg.connect(database) as conn:
        return conn.execute('SELECT actor, detail FROM audit_log WHERE action = %s AND seq > %s ORDER BY seq',
                            (action, since)).fetchall()


async def turn_on_second_factor(user) -> None:
    """On a screen that shows the key to type in: a code from it (pyotp, as a phone makes it), then the codes."""
    await user.should_see(marker='totp-secret')
    secret = user.find(marker='totp-secret').elements.pop().text.replace(' ', '')
    user.find(marker='enrol-code').type(pyotp.TOTP(secret).now())
    user.find(marker='enrol-turn-on').click()
    await user.should_see(marker='recovery-codes')


async def test_enrolment_on_my_account_asks_for_a_code_then_shows_ten_recovery_codes(users, database):
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={session_of(database, "pal@slmpd.org")}'
        await user.open('/account')
        await user.should_see(marker='two-factor-off')
        user.find(marker='enrol-start').click()
        await user.should_see(marker='totp-qr')
        assert '<svg' in user.find(marker='totp-qr').elements.pop().content, 'a QR code made on the hub'
        secret = user.find(marker='totp-secret').elements.pop().text.replace(' ', '')
        user.find(marker='enrol-code').type('000000' if pyotp.TOTP(secret).now() != '000000' else '111111')
        user.find(marker='enrol-turn-on').click()
        await user.should_see('That code is not right')
        with psycopg.connect(database) as conn:
            assert conn.execute("SELECT totp_secret FROM users WHERE email = 'pal@slmpd.org'").fetchone() == (None,)
        user.find(marker='enrol-code').elements.pop().value = pyotp.TOTP(secret).now()
        user.find(marker='enrol-turn-on').click()
        await user.should_see(marker='enrol-done')
        codes = [label.text for label in user.find(marker='recovery-codes').elements.pop().descendants()
                 if hasattr(label, 'text') and re.fullmatch(r'[a-z2-7]{4}(-[a-z2-7]{4}){3}', label.text or '')]
        assert len(codes) == 10
        await user.open('/account')
        await user.should_see('10 unused recovery codes left')
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT totp_secret FROM users WHERE email = 'pal@slmpd.org'").fetchone() == (secret,)
        assert conn.execute("SELECT count(*) FROM recovery_codes WHERE email = 'pal@slmpd.org'").fetchone() == (10,)
    assert audited(database, users, 'two_factor_on') == [('pal@slmpd.org', {})]


async def test_sign_in_asks_for_the_code_after_the_password_and_opens_the_session_only_then(users, database):
    secret = enrolled(database, 'pal@slmpd.org')
    async with user_simulation(main_file=HUB_MAIN) as user:
        client = user.http_client
        password = await post_form(client, '/login', {'email': 'pal@slmpd.org', 'password': PASSWORD}, {})
        assert password.headers['location'] == '/login/code' and cookie(password, SESSION_COOKIE) is None
        challenge = {CHALLENGE_COOKIE: cookie(password, CHALLENGE_COOKIE)}
        page = await client.get('/login/code', headers={'Cookie': f'{CHALLENGE_COOKIE}={challenge[CHALLENGE_COOKIE]}'})
        assert 'Your sign-in code' in page.text

        wrong = await post_form(client, '/login/code', {'code': '12345x'}, challenge)
        assert wrong.headers['location'] == '/login/code?failed=1' and cookie(wrong, SESSION_COOKIE) is None
        code = pyotp.TOTP(secret).now()
        right = await post_form(client, '/login/code', {'code': code}, challenge)
        assert right.headers['location'] == '/signups'
        client.headers['Cookie'] = f'{SESSION_COOKIE}={cookie(right, SESSION_COOKIE)}'
        await user.open('/signups')
        await user.should_see('pal@slmpd.org (coordinator: pal)')
        client.headers.pop('Cookie')

        again = await post_form(client, '/login', {'email': 'pal@slmpd.org', 'password': PASSWORD}, {})
        replay = await post_form(client, '/login/code', {'code': code},
                                 {CHALLENGE_COOKIE: cookie(again, CHALLENGE_COOKIE)})
        assert replay.headers['location'] == '/login/code?failed=1', 'a code is good once'
        forged = await post_form(client, '/login/code', {'code': pyotp.TOTP(secret).now()},
                                 {CHALLENGE_COOKIE: 'made-up'})
        assert forged.headers['location'] == '/login?expired=1', 'no right password, no second step'
    assert [actor for actor, _ in audited(database, users, 'login_code_failed')] == ['pal@slmpd.org'] * 2
    assert audited(database, users, 'login') == [('pal@slmpd.org', {'second_factor': True})]
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT last_sign_in_at IS NOT NULL FROM users WHERE email = 'pal@slmpd.org'")\
            .fetchone() == (True,)


async def test_a_recovery_code_signs_in_once_and_new_codes_replace_the_old(users, database):
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={session_of(database, "pal@slmpd.org")}'
        await user.open('/account')
        await user.should_see(marker='enrol-start')
        user.find(marker='enrol-start').click()
        await turn_on_second_factor(user)
        codes = [label.text for label in user.find(marker='recovery-codes').elements.pop().descendants()
                 if '-' in (getattr(label, 'text', '') or '')]
        code = codes[0]
        client = user.http_client
        client.headers.pop('Cookie')
        for expected in ('/signups', '/login/code?failed=1'):
            password = await post_form(client, '/login', {'email': 'pal@slmpd.org', 'password': PASSWORD}, {})
            answer = await post_form(client, '/login/code', {'code': code},
                                     {CHALLENGE_COOKIE: cookie(password, CHALLENGE_COOKIE)})
            assert answer.headers['location'] == expected
        client.headers['Cookie'] = f'{SESSION_COOKIE}={session_of(database, "pal@slmpd.org")}'
        await user.open('/account')
        await user.should_see('9 unused recovery codes left')
        user.find(marker='replace-codes').click()
        await user.should_see('New recovery codes made; the old ones no longer work.')
        fresh = [label.text for label in user.find(marker='recovery-codes').elements.pop().descendants()
                 if '-' in (getattr(label, 'text', '') or '')]
        client.headers.pop('Cookie')
        for old_or_new, expected in ((codes[1], '/login/code?failed=1'), (fresh[0], '/signups')):
            password = await post_form(client, '/login', {'email': 'pal@slmpd.org', 'password': PASSWORD}, {})
            answer = await post_form(client, '/login/code', {'code': old_or_new},
                                     {CHALLENGE_COOKIE: cookie(password, CHALLENGE_COOKIE)})
            assert answer.headers['location'] == expected
    assert [actor for actor, _ in audited(database, users, 'recovery_codes_replaced')] == ['pal@slmpd.org']


async def test_require_2fa_all_sends_a_coordinator_to_enrolment_and_opens_nothing_else_until_done(
        users, database, monkeypatch):
    monkeypatch.setenv('KIOSK_HUB_REQUIRE_2FA', 'all')
    async with user_simulation(main_file=HUB_MAIN) as user:
        password = await post_form(user.http_client, '/login', {'email': 'pal@slmpd.org', 'password': PASSWORD}, {})
        assert password.headers['location'] == '/two-factor'
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={cookie(password, SESSION_COOKIE)}'
        for path in ('/signups', '/account', '/kiosks', '/', '/login'):
            assert await lands_on(user.http_client, path) == '/two-factor', path
        await user.open('/two-factor')
        await user.should_see('The hub asks every user for a second factor')
        await turn_on_second_factor(user)
        await user.open('/signups')
        await user.should_see('pal@slmpd.org (coordinator: pal)')


async def test_with_the_default_a_new_admin_changes_the_one_time_password_then_enrols_then_gets_in(
        users, database, conn):
    await db.add_user(conn, 'new.admin@slmpd.org', 'admin', [], hash_password('one-time password 1'))
    await conn.commit()
    async with user_simulation(main_file=HUB_MAIN) as user:
        client = user.http_client
        signed_in = await post_form(client, '/login', {'email': 'new.admin@slmpd.org',
                                                       'password': 'one-time password 1'}, {})
        assert signed_in.headers['location'] == '/password'
        session = {SESSION_COOKIE: cookie(signed_in, SESSION_COOKIE)}
        client.headers['Cookie'] = f'{SESSION_COOKIE}={session[SESSION_COOKIE]}'
        for path in ('/two-factor', '/signups', '/users'):
            assert await lands_on(client, path) == '/password', path
        client.headers.pop('Cookie')
        changed = await post_form(client, '/password', {'password': PASSWORD + ' 2', 'again': PASSWORD + ' 2'},
                                  session)
        assert changed.headers['location'] == '/two-factor', 'then the second factor, before any screen'
        client.headers['Cookie'] = f'{SESSION_COOKIE}={session[SESSION_COOKIE]}'
        assert await lands_on(client, '/users') == '/two-factor'
        await user.open('/two-factor')
        await user.should_see('The hub asks admins for a second factor')
        await turn_on_second_factor(user)
        await user.open('/users')
        await user.should_see(marker='users')


async def test_a_coordinator_cannot_open_the_users_screen(users, database, monkeypatch):
    monkeypatch.setenv('KIOSK_HUB_REQUIRE_2FA', 'none')
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={session_of(database, "pal@slmpd.org")}'
        assert await lands_on(user.http_client, '/users') == '/signups'


async def test_the_users_screen_shows_a_publisher_and_offers_the_role(users, database, monkeypatch):
    """A publisher added with the CLI once broke the screen for every admin (its role was no choice of the select)."""
    monkeypatch.setenv('KIOSK_HUB_REQUIRE_2FA', 'none')
    with psycopg.connect(database) as conn:
        conn.execute("INSERT INTO users (email, role, must_change_password) VALUES ('words@slmpd.org', 'publisher', "
                     "false)")
    try:
        async with user_simulation(main_file=HUB_MAIN) as user:
            user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={session_of(database, "chief@slmpd.org")}'
            await user.open('/users')
            await user.should_see(marker='user-words@slmpd.org')
            role = user.find(marker='role-words@slmpd.org').elements.pop()
            assert role.value == 'publisher' and 'publisher' in user.find(marker='new-role').elements.pop().options
            await user.should_not_see(marker='program-words@slmpd.org-pal')
    finally:
        with psycopg.connect(database) as conn:
            conn.execute("DELETE FROM users WHERE email = 'words@slmpd.org'")


async def test_a_program_published_at_the_hub_can_be_given_a_coordinator_at_once(users, database, conn,
                                                                                 monkeypatch):
    """The program boxes once came from the factory file only: a program added at the Content page reached every
    kiosk, but no coordinator could be given it, so its sign-ups waited for an admin."""
    monkeypatch.setenv('KIOSK_HUB_REQUIRE_2FA', 'none')
    factory = tomllib.loads((ASSETS_DIR / 'programs.toml').read_text())
    added = copy.deepcopy(factory['program'][0])
    added['slug'], added['en']['title'], added['es']['title'] = 'seniors', 'Seniors Safety Circle', 'Círculo de Mayores'
    factory['program'].append(added)
    await publish(conn, Ed25519PrivateKey.generate(), programs_toml(factory).encode(), note='Seniors Safety Circle',
                  published_by='chief@slmpd.org')
    await conn.commit()
    try:
        async with user_simulation(main_file=HUB_MAIN) as user:
            user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={session_of(database, "chief@slmpd.org")}'
            await user.open('/users')
            await user.should_see(marker='add-user')
            await user.should_see('Seniors Safety Circle')
            user.find(marker='new-email').type('circle@slmpd.org')
            user.find(marker='new-program-seniors').click()
            user.find(marker='add-user').click()
            await user.should_see('pass this link to circle@slmpd.org yourself')
        with psycopg.connect(database) as check:
            assert check.execute("SELECT program FROM user_programs WHERE email = 'circle@slmpd.org'").fetchall() == [
                ('seniors',)]
    finally:
        with psycopg.connect(database, autocommit=True) as admin:
            admin.execute("DELETE FROM users WHERE email = 'circle@slmpd.org'")
            admin.execute('TRUNCATE content_versions CASCADE')


def mail_on(monkeypatch, smtp) -> None:
    for key, value in (('SMTP_URL', smtp.url), ('MAIL_FROM', 'kiosk-hub@slmpd.test'),
                       ('PUBLIC_URL', 'https://hub.slmpd.test'), ('MAIL_SEND_SECONDS', '0.5')):
        monkeypatch.setenv(f'KIOSK_HUB_{key}', value)


async def test_an_admin_adds_a_user_whose_link_is_mailed_and_works_once(users, database, monkeypatch, smtp):
    mail_on(monkeypatch, smtp)
    enrolled(database, 'chief@slmpd.org')
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={session_of(database, "chief@slmpd.org")}'
        await user.open('/users')
        await user.should_see(marker='add-user')
        user.find(marker='new-email').type('New.Desk@SLMPD.org')
        user.find(marker='new-program-hmca').click()
        user.find(marker='add-user').click()
        await user.should_see('A set-password link was mailed to new.desk@slmpd.org')
        await soon(lambda: smtp.received, 'the link by mail')
        [message] = smtp.received
        assert message['To'] == 'new.desk@slmpd.org' and message['Subject'] == 'Kiosk hub: choose your password'
        link = re.search(r'https://hub\.slmpd\.test(/set-password\?token=\S+)', message.get_content()).group(1)
        token = link.split('token=')[1]

        client = user.http_client
        client.headers.pop('Cookie')
        assert 'For new.desk@slmpd.org' in (await client.get(link)).text
        short = await post_form(client, '/set-password', {'token': token, 'password': 'short', 'again': 'short'}, {})
        assert 'problem=short' in short.headers['location']
        chosen = await post_form(client, '/set-password', {'token': token, 'password': PASSWORD, 'again': PASSWORD},
                                 {})
        assert chosen.headers['location'] == '/login?password_set=1'
        again = await post_form(client, '/set-password', {'token': token, 'password': 'another password',
                                                          'again': 'another password'}, {})
        assert 'problem' not in again.headers['location']
        assert 'This link does not work' in (await client.get(link)).text, 'one use'
        signed_in = await post_form(client, '/login', {'email': 'new.desk@slmpd.org', 'password': PASSWORD}, {})
        assert signed_in.headers['location'] == '/signups'
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT role, array_agg(program) FROM users JOIN user_programs USING (email) "
                            "WHERE email = 'new.desk@slmpd.org' GROUP BY role").fetchone() == ('coordinator', ['hmca'])
        (body,) = conn.execute("SELECT body FROM mail_outbox WHERE kind = 'password_link'").fetchone()
        assert token not in body, 'a sent link is not kept in the outbox'
    assert audited(database, users, 'user_added') == [('chief@slmpd.org', {'user': 'new.desk@slmpd.org',
                                                                     'role': 'coordinator', 'programs': ['hmca']})]
    assert audited(database, users, 'password_link_made') == [('chief@slmpd.org', {'user': 'new.desk@slmpd.org',
                                                                             'mailed': True})]


async def test_without_mail_the_link_is_shown_once_and_expires_after_24_hours(users, database, monkeypatch):
    monkeypatch.setenv('KIOSK_HUB_REQUIRE_2FA', 'none')
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={session_of(database, "chief@slmpd.org")}'
        await user.open('/users')
        await user.should_see(marker='link-pal@slmpd.org')
        user.find(marker='link-pal@slmpd.org').click()
        await user.should_see('pass this link to pal@slmpd.org yourself')
        link = user.find(marker='password-link').elements.pop().text
        assert link.startswith('http://test/set-password?token=')
        await user.open('/users')
        await user.should_not_see(marker='password-link')
        with psycopg.connect(database) as conn:
            conn.execute("UPDATE password_links SET created_at = now() - interval '24 hours 1 minute'")
        user.http_client.headers.pop('Cookie')
        assert 'This link does not work' in (await user.http_client.get(link.removeprefix('http://test'))).text


async def test_an_admin_sets_programs_and_role_disables_and_resets_and_lowering_access_ends_sessions(
        users, database, monkeypatch):
    monkeypatch.setenv('KIOSK_HUB_REQUIRE_2FA', 'none')
    enrolled(database, 'pal@slmpd.org')
    pal = session_of(database, 'pal@slmpd.org')

    def pal_signed_in() -> bool:
        with psycopg.connect(database) as conn:
            return conn.execute('SELECT count(*) FROM sessions WHERE id_sha256 = %s',
                                (token_digest(pal),)).fetchone()[0] == 1

    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={session_of(database, "chief@slmpd.org")}'
        await user.open('/users')
        await user.should_see(marker='user-pal@slmpd.org')
        await user.should_see('never')  # pal's sessions here are made by hand, not by signing in
        user.find(marker='program-pal@slmpd.org-hmca').click()
        await user.should_see('Programs of pal@slmpd.org saved.')
        assert pal_signed_in(), 'a program added'
        user.find(marker='program-pal@slmpd.org-pal').click()
        await soon(lambda: not pal_signed_in(), 'the session ended: a program taken away')
        pal = session_of(database, 'pal@slmpd.org')
        user.find(marker='role-pal@slmpd.org').elements.pop().value = 'admin'
        await user.should_see('pal@slmpd.org is now admin.')
        assert pal_signed_in(), 'more access'
        user.find(marker='reset-pal@slmpd.org').click()
        await user.should_see('Two-factor sign-in of pal@slmpd.org reset')
        assert not pal_signed_in()
        pal = session_of(database, 'pal@slmpd.org')
        user.find(marker='disable-pal@slmpd.org').click()
        await user.should_see('pal@slmpd.org disabled; their sessions ended.')
        assert not pal_signed_in()
        await user.should_see('pal@slmpd.org (disabled)')
        await user.should_not_see(marker='disable-chief@slmpd.org')  # no admin locks themselves out
    with psycopg.connect(database) as conn:
        row = conn.execute("SELECT role, totp_secret, disabled_at IS NOT NULL FROM users "
                           "WHERE email = 'pal@slmpd.org'").fetchone()
        programs = conn.execute("SELECT program FROM user_programs WHERE email = 'pal@slmpd.org'").fetchall()
    assert row == ('admin', None, True) and programs == [('hmca',)]
    with psycopg.connect(database) as conn:
        actions = [action for (action,) in conn.execute("SELECT action FROM audit_log WHERE actor = 'chief@slmpd.org' "
                                                        'AND seq > %s ORDER BY seq', (users,))]
    assert actions == ['programs_changed', 'programs_changed', 'role_changed', 'two_factor_reset', 'user_disabled']
