"""What the screens say about mail, in NiceGUI's user simulation of the real hub app on a real PostgreSQL: My
account (the choice, saved and audited) and the Kiosks page (mail off, or failing, for admins only)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from nicegui.testing.user_simulation import user_simulation

from kiosk.hub.auth import SESSION_COOKIE
from tests.support.simulation import drawn, open_sessions

HUB_MAIN = Path(__file__).with_name('hub_main.py')


@pytest.fixture
async def sessions(database, conn, monkeypatch):
    """A signed-in admin and coordinator (their session tokens), and the env the simulated hub reads."""
    return await open_sessions(database, conn, monkeypatch, 'mail_outbox')


def mail_on(monkeypatch) -> None:
    for key, value in (('SMTP_URL', 'smtp://127.0.0.1:9'), ('MAIL_FROM', 'kiosk-hub@slmpd.test'),
                       ('PUBLIC_URL', 'https://hub.slmpd.test')):
        monkeypatch.setenv(f'KIOSK_HUB_{key}', value)


async def test_without_a_mail_server_admins_are_told_on_the_kiosks_page_and_everyone_on_my_account(sessions):
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={sessions["admin"]}'
        await user.open('/kiosks')
        await drawn(user, 'Mail is off: no mail server is set (KIOSK_HUB_SMTP_URL)')
        await user.open('/account')
        await drawn(user, 'The hub sends no mail yet')
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={sessions["coordinator"]}'
        await user.open('/kiosks')
        await drawn(user, marker='fleet-summary')  # drawn after the page's query: only then is an absence telling
        await user.should_not_see('Mail is off')


async def test_my_account_saves_the_choice_and_audits_it(sessions, database):
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={sessions["coordinator"]}'
        await user.open('/account')
        await drawn(user, 'coordinator of Police Athletic League (PAL)')
        await drawn(user, 'it names no one')
        await drawn(user, marker='notify')
        assert user.find(marker='notify').elements.pop().value == 'daily', 'the default'
        user.find('Instant: a mail soon after new sign-ups arrive (at most one every 10 minutes)').click()
        await drawn(user, 'Saved.')
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT notify FROM users WHERE email = 'pal@slmpd.org'").fetchone() == ('instant',)
        assert conn.execute("SELECT actor, detail FROM audit_log WHERE action = 'notify_changed'").fetchall() \
            == [('pal@slmpd.org', {'notify': 'instant'})]


async def test_failing_mail_shows_on_the_kiosks_page_with_its_reason_and_no_address(sessions, database, monkeypatch):
    mail_on(monkeypatch)
    with psycopg.connect(database) as conn:
        conn.execute('''INSERT INTO mail_outbox (recipient, kind, message_id, subject, body, attempts, last_error,
                                                 next_attempt_at)
                        VALUES ('pal@slmpd.org', 'instant', '<x@test>', 's', 'b', 3, 'SMTPDataError 451',
                                now() + interval '1 hour')''')
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={sessions["admin"]}'
        await user.open('/kiosks')
        await drawn(user, 'Mail is failing: 1 of 1 waiting mail(s) could not be sent (SMTPDataError 451)')
        await user.should_not_see('pal@slmpd.org')
