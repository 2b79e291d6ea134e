"""Follow-up on the screens, in NiceGUI's user simulation of the real hub app on a real PostgreSQL: overdue rows
flagged and the Overdue filter on the Sign-ups page, and the time to first contact on the Activity page, each only
for the viewer's programs. (The red row and its badge as drawn are checked in tests/e2e/test_browser_hub.py.)"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from nicegui import ui
from nicegui.testing.user_simulation import user_simulation

from kiosk.hub import db
from kiosk.hub.auth import SESSION_COOKIE
from tests.hub.test_mail_screens import HUB_MAIN, sessions  # noqa: F401 (fixture)
from tests.support.simulation import downloaded, drawn

CHICAGO = ZoneInfo('America/Chicago')


def made(program: str, name: str, created: datetime) -> dict:
    return {'id': str(uuid.uuid4()), 'created_at': created.isoformat(), 'program': program, 'name': name,
            'participant_name': '', 'phone': '+13145550134', 'email': '', 'contact_method': 'phone', 'age': None,
            'note': '', 'language': 'en', 'consent': True, 'kiosk_id': 'lobby-a'}


@pytest.fixture
async def seed(conn):
    """Sign-ups written and committed for the simulated hub to read; a status history with chosen times."""
    await conn.execute('TRUNCATE signups, status_changes CASCADE')

    async def add(*records: dict, contacted_after: dict[str, timedelta] | None = None) -> None:
        await db.insert_signups(conn, 'lobby-a', json.dumps(list(records)))
        for record in records:
            if contacted_after and record['name'] in contacted_after:
                when = datetime.fromisoformat(record['created_at']) + contacted_after[record['name']]
                await conn.execute("UPDATE signups SET status = 'contacted', status_changed_at = %s WHERE id = %s",
                                   (when, record['id']))
                await conn.execute("INSERT INTO status_changes (signup_id, status, changed_by, changed_at) "
                                   "VALUES (%s, 'contacted', 'pal@slmpd.org', %s)", (record['id'], when))
        await conn.commit()

    return add


def table_rows(user) -> list[dict]:
    return user.find(marker='signups').elements.pop().rows


async def test_overdue_rows_are_flagged_and_the_overdue_filter_shows_only_them(sessions, seed, database):  # noqa: F811
    now = datetime.now(UTC)
    ten_days_ago = now - timedelta(days=10)  # past two business days and the day itself, whatever today is
    await seed(made('pal', 'Olive Overdue', ten_days_ago), made('pal', 'Nora Recent', now - timedelta(minutes=1)),
               made('pal', 'Cora Contacted', ten_days_ago), made('hmca', 'Hank Elsewhere', ten_days_ago),
               contacted_after={'Cora Contacted': timedelta(days=1)})
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={sessions["coordinator"]}'
        await user.open('/signups')
        await drawn(user, '3 sign-ups')  # the page is drawn before its first query returns: wait for the rows
        assert {row['name']: row['overdue'] for row in table_rows(user)} == {
            'Nora Recent': False, 'Olive Overdue': True, 'Cora Contacted': False}
        status = user.find(marker='filter-status').elements.pop()
        assert status.options['overdue'] == 'Overdue (new after 2 business days)'
        status.value = 'overdue'
        user.find(marker='apply').click()
        await drawn(user, '1 sign-up · page 1 of 1')
        assert [(row['name'], row['status'], row['overdue']) for row in table_rows(user)] == [
            ('Olive Overdue', 'new', True)]
        user.find(marker='download').click()
        assert 'Olive Overdue' in (await downloaded(user)).decode('utf-8-sig')
    with psycopg.connect(database) as conn:
        [(detail,)] = conn.execute("SELECT detail FROM audit_log WHERE action = 'view_signups' "
                                   "AND detail->>'overdue' = 'true'").fetchall()
        [(exported,)] = conn.execute("SELECT detail FROM audit_log WHERE action = 'export'").fetchall()
    assert detail['status'] == 'new' and detail['shown'] == 1
    assert exported == {'rows': 1, 'program': None, 'kiosk': None, 'status': 'new', 'assigned': None,
                        'searched': False, 'overdue': True, 'format': 'csv', 'do_not_contact': False}, \
        'what went out, not just how much'


async def test_the_activity_page_shows_time_to_first_contact_per_program_and_month(sessions, seed):  # noqa: F811
    today = datetime.now(CHICAGO).date()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    morning = datetime.combine(last_month, time(10), CHICAGO)
    await seed(made('pal', 'Ana', morning), made('pal', 'Bea', morning), made('hmca', 'Hope', morning),
               made('pal', 'Eva', morning),
               contacted_after={'Ana': timedelta(hours=1), 'Bea': timedelta(hours=3), 'Hope': timedelta(days=9)})
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={sessions["coordinator"]}'
        await user.open('/activity')
        await drawn(user, 'Time to first contact')
        await drawn(user, marker=f'contact-pal-{last_month:%Y-%m}')
        shown = user.find(marker=f'contact-pal-{last_month:%Y-%m}').elements.pop()
        row = [label.text for label in shown.descendants() if isinstance(label, ui.label)]
        # Eva was never contacted, and her window ended weeks ago: a miss, and no time of her own.
        assert row == [f'{last_month:%B %Y}', 'Police Athletic League (PAL)', '3', '2', '2 hours',
                       '2 hours 48 minutes', '67% (2 of 3)']
        await drawn(user, 'Within 2 business days')
        await user.should_not_see(marker=f'contact-hmca-{last_month:%Y-%m}')  # another program's
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={sessions["admin"]}'
        await user.open('/activity')
        await drawn(user, marker=f'contact-hmca-{last_month:%Y-%m}')



async def test_a_one_day_window_reads_one_business_day(sessions, monkeypatch):  # noqa: F811
    monkeypatch.setenv('KIOSK_HUB_FOLLOW_UP_DAYS', '1')
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={sessions["coordinator"]}'
        await user.open('/signups')
        await drawn(user, 'sign-ups · page 1')
        assert user.find(marker='filter-status').elements.pop().options['overdue'] == \
            'Overdue (new after 1 business day)'
        await user.open('/activity')
        await drawn(user, 'Time to first contact')
        await drawn(user, 'within 1 business day after the day it was made')
