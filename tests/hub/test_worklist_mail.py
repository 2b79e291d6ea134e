"""The mail an assignee gets, against a real PostgreSQL and a real SMTP server on loopback: an instant user gets one
mail soon, naming no one; a daily user finds it in the digest; `off` gets none; what you assign yourself is not news."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from kiosk.hub import db
from kiosk.hub.config import HubSettings
from kiosk.hub.db import Viewer
from kiosk.hub.mail import Mailer

PERSONAL = ('Rosa', 'Díaz', 'Ana', '555', '+1314', 'family@example.org')
ADMIN = Viewer('chief@slmpd.org', 'admin')


@pytest.fixture
async def pool(database):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute('TRUNCATE signups, mail_outbox, status_changes, users CASCADE')
    async with AsyncConnectionPool(database, min_size=1, max_size=4, open=False,
                                   kwargs={'row_factory': dict_row}) as opened:
        yield opened


def mailer(database: str, pool, smtp_url: str, **overrides) -> Mailer:
    settings = HubSettings(database_url=database, smtp_url=smtp_url, mail_from='kiosk-hub@slmpd.test',
                           public_url='https://hub.slmpd.test', **overrides)
    return Mailer(settings, pool)


async def seeded(pool, *notify: tuple[str, str]) -> list[str]:
    """Users (email, choice) coordinating PAL, the admin, and three PAL sign-ups received a day ago (so only an
    assignment is news); returns the sign-ups' ids."""
    records = [{'id': str(uuid.uuid4()), 'created_at': (datetime.now(UTC) - timedelta(days=1)).isoformat(),
                'program': 'pal', 'name': f'{first} Díaz', 'participant_name': 'Ana', 'phone': '+13145550134',
                'email': 'family@example.org', 'contact_method': 'phone', 'age': 9, 'note': '', 'language': 'en',
                'consent': True, 'kiosk_id': 'lobby-a'} for first in ('Rosa', 'Rita', 'Ruth')]
    async with pool.connection() as conn:
        await db.add_user(conn, ADMIN.email, 'admin', [], 'no-password')
        await db.set_notify(conn, ADMIN.email, 'off')  # the one who assigns
        for email, choice in notify:
            await db.add_user(conn, email, 'coordinator', ['pal'], 'no-password')
            await db.set_notify(conn, email, choice)
        await db.insert_signups(conn, 'lobby-a', json.dumps(records))
        await conn.execute("UPDATE signups SET received_at = now() - interval '1 day'")
        await conn.execute("UPDATE users SET notified_until = now() - interval '1 hour'")
    return [record['id'] for record in records]


async def assign_a_while_ago(pool, ids: list[str], assignee: str, by: Viewer = ADMIN) -> None:
    """Assigned a minute ago: past the window's settling time."""
    async with pool.connection() as conn:
        await db.assign(conn, by, ids, assignee)
        await conn.execute("UPDATE signups SET assigned_at = now() - interval '1 minute' WHERE id = ANY(%s::uuid[])",
                           (ids,))


def body(message) -> str:
    return message.get_content().replace('\r\n', '\n')


async def test_an_instant_assignee_gets_one_mail_soon_naming_no_one(database, pool, smtp):
    ids = await seeded(pool, ('pal@slmpd.org', 'instant'), ('other@slmpd.org', 'instant'),
                       ('quiet@slmpd.org', 'off'))
    await assign_a_while_ago(pool, ids[:2], 'pal@slmpd.org')
    await assign_a_while_ago(pool, ids[2:], 'quiet@slmpd.org')
    sending = mailer(database, pool, smtp.url)
    assert await sending.queue_instant() == 1
    assert await sending.send_due() == 1
    [mail] = smtp.received
    assert mail['To'] == 'pal@slmpd.org' and mail['Subject'] == 'Kiosk hub: 2 sign-ups assigned to you'
    assert '2 sign-ups were assigned to you.' in body(mail)
    assert 'See the ones assigned to you: https://hub.slmpd.test/signups?assigned=me' in body(mail)
    assert 'Why this mail: you chose "instant": a mail soon after sign-ups arrive or are assigned to you' in body(mail)
    for personal in PERSONAL:
        assert personal not in mail['Subject'] + body(mail), f'{personal!r} in a mail without mail_names'
    assert await sending.queue_instant() == 0, 'told once'


async def test_a_daily_assignee_finds_it_in_the_digest_and_with_mail_names_the_first_names(database, pool, smtp):
    ids = await seeded(pool, ('pal@slmpd.org', 'daily'))
    await assign_a_while_ago(pool, ids, 'pal@slmpd.org')
    sending = mailer(database, pool, smtp.url, mail_names=True)
    assert await sending.queue_instant() == 0, 'a daily user gets no instant mail'
    assert await sending.queue_digests() == 1
    await sending.send_due()
    [digest] = smtp.received
    text = body(digest)
    assert '3 sign-ups were assigned to you.\n    R' in text
    for first in ('Rosa', 'Rita', 'Ruth'):  # assigned at the same instant: in no particular order
        assert f'\n    {first} (Police Athletic League (PAL))\n' in text
    assert 'Díaz' not in text and '555' not in text


async def test_what_you_assign_yourself_is_not_news(database, pool, smtp):
    ids = await seeded(pool, ('pal@slmpd.org', 'instant'))
    await assign_a_while_ago(pool, ids, 'pal@slmpd.org', by=Viewer('pal@slmpd.org', 'coordinator', ('pal',)))
    assert await mailer(database, pool, smtp.url).queue_instant() == 0
