"""Working the list on the Sign-ups screen, in NiceGUI's user simulation of the real hub app on a real PostgreSQL:
Mine and Unassigned, changes to many with the count confirmed, the filter in the URL (never the search), a saved
default view, and anonymize for admins only."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from nicegui import ui
from nicegui.testing.user_simulation import user_simulation

from kiosk.hub import db
from kiosk.hub.auth import SESSION_COOKIE, new_token, token_digest
from kiosk.hub.db import Viewer

HUB_MAIN = Path(__file__).with_name('hub_main.py')
ADMIN = Viewer('chief@slmpd.org', 'admin')
PAL = Viewer('pal@slmpd.org', 'coordinator', ('pal',))


def record(program: str, name: str, minutes_ago: int) -> dict:
    return {'id': str(uuid.uuid4()), 'created_at': (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(),
            'program': program, 'name': name, 'participant_name': '', 'phone': '+13145550134', 'email': '',
            'contact_method': 'phone', 'age': None, 'note': '', 'language': 'en', 'consent': True,
            'kiosk_id': 'lobby-a'}


@pytest.fixture
async def seeded(database, conn, monkeypatch):
    """A signed-in admin and PAL coordinator, and four PAL sign-ups and one of the Citizens Academy: Ana (the
    coordinator's), Bea (the admin's), Cleo (contacted), Dee and Carl (nobody's). Returns the tokens and the ids."""
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute('TRUNCATE users, signups, status_changes CASCADE')
    tokens = {}
    for viewer in (ADMIN, PAL):
        await db.add_user(conn, viewer.email, viewer.role, list(viewer.programs), 'no-password')
        await conn.execute('UPDATE users SET must_change_password = false WHERE email = %s', (viewer.email,))
        tokens[viewer.role] = new_token()
        await db.open_session(conn, token_digest(tokens[viewer.role]), viewer.email)
    rows = [record('pal', 'Ana Pal', 1), record('pal', 'Bea Pal', 2), record('pal', 'Cleo Pal', 3),
            record('pal', 'Dee Pal', 4), record('citizens-academy', 'Carl Academy', 5)]
    await db.insert_signups(conn, 'lobby-a', json.dumps(rows))
    ids = {row['name'].split()[0]: row['id'] for row in rows}
    await db.assign(conn, PAL, [ids['Ana']], PAL.email)
    await db.assign(conn, ADMIN, [ids['Bea']], ADMIN.email)
    await db.change_status(conn, PAL, ids['Cleo'], 'contacted')
    await conn.commit()
    monkeypatch.setenv('KIOSK_HUB_DATABASE_URL', database)
    monkeypatch.setenv('KIOSK_HUB_REQUIRE_2FA', 'none')  # the admin has no second factor: not this module's subject
    return tokens, ids


async def loaded(user) -> None:
    """Until the list is on the page: the summary is drawn before the rows are read, and filled in after."""
    await user.should_see(marker='summary')
    for _ in range(100):
        if user.find(marker='summary').elements.pop().text:
            return
        await asyncio.sleep(0.05)
    raise AssertionError('the list never loaded')


def shown_rows(user) -> list[dict]:
    return user.find(kind=ui.table, marker='signups').elements.pop().rows


def shown_names(user) -> list[str]:
    return [row['name'] for row in shown_rows(user)]


def value_of(user, marker: str):
    return user.find(marker=marker).elements.pop().value


def pick(user, *names: str) -> None:
    table = user.find(kind=ui.table, marker='signups').elements.pop()
    rows = [row for row in table.rows if row['name'] in names]
    user.find(kind=ui.table, marker='signups').trigger('selection', {'added': True, 'rows': rows, 'keys': []})


async def test_mine_and_unassigned_show_only_those_and_the_list_names_the_assignee(seeded):
    tokens, _ = seeded
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={tokens["coordinator"]}'
        await user.open('/signups')
        await loaded(user)
        assert shown_names(user) == ['Ana Pal', 'Bea Pal', 'Cleo Pal', 'Dee Pal']
        assert [row['assigned'] for row in shown_rows(user)] == [PAL.email, ADMIN.email, '', '']
        user.find(marker='filter-assigned').elements.pop().set_value('me')
        user.find(marker='apply').click()
        await user.should_see('1 sign-up · page 1 of 1', retries=50)
        assert shown_names(user) == ['Ana Pal']
        user.find(marker='filter-assigned').elements.pop().set_value('nobody')
        user.find(marker='apply').click()
        await user.should_see('2 sign-ups · page 1 of 1', retries=50)
        assert shown_names(user) == ['Cleo Pal', 'Dee Pal'], 'Carl is another program\'s'


async def test_a_bulk_change_shows_the_count_first_and_then_what_changed_and_what_was_skipped(seeded, database):
    tokens, ids = seeded
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={tokens["coordinator"]}'
        await user.open('/signups')
        await user.should_see('Select all 4 matching this filter')
        user.find(marker='all-matching').click()
        await user.should_see('All sign-ups matching this filter')
        user.find(marker='bulk-note').type('left a voicemail')
        user.find(marker='change-many').click()
        await user.should_see('Change the status of 4 sign-ups to Contacted? Those not in a status that leads there '
                              '(or marked do not contact) are skipped.')
        user.find(marker='confirm').click()
        await user.should_see('3 changed, 1 skipped', retries=50)

        pick(user, 'Ana Pal', 'Dee Pal')
        await user.should_see('2 selected')
        user.find(marker='assignee').elements.pop().set_value('pal@slmpd.org')
        user.find(marker='assign').click()
        await user.should_see('Assign 2 sign-ups to pal@slmpd.org?')
        user.find(marker='cancel').click()
        user.find(marker='assign').click()
        await user.should_see('Assign 2 sign-ups to pal@slmpd.org?')
        user.find(marker='confirm').click()
        await user.should_see('1 changed, 1 skipped', retries=50)  # Ana was theirs already
    with psycopg.connect(database) as conn:
        history = conn.execute('SELECT signup_id::text, note FROM status_changes WHERE changed_by = %s '
                               "AND note = 'left a voicemail'", (PAL.email,)).fetchall()
        assert sorted(history) == sorted((ids[name], 'left a voicemail') for name in ('Ana', 'Bea', 'Dee'))
        audit = conn.execute("SELECT action, detail->>'signup' FROM audit_log WHERE actor = %s "
                             "AND action IN ('status_change', 'assign') AND detail->>'signup' = ANY(%s) ORDER BY seq",
                             (PAL.email, list(ids.values()))).fetchall()
        assert sorted(audit) == sorted([('assign', ids['Ana']), ('status_change', ids['Cleo']), ('assign', ids['Dee']),
                                        *(('status_change', ids[name]) for name in ('Ana', 'Bea', 'Dee'))]), \
            'the fixture\'s, then one row per record changed'
        assert conn.execute('SELECT assigned_to FROM signups WHERE id = %s', (ids['Dee'],)).fetchone() \
            == (PAL.email,)


async def test_the_filter_in_the_url_opens_the_same_list_again_but_never_a_search(seeded):
    tokens, _ = seeded
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={tokens["coordinator"]}'
        for _ in range(2):  # a shared link, and the same page reloaded
            await user.open('/signups?program=pal&status=new&assigned=nobody&search=Dee&from=2026-01-01')
            await loaded(user)
            assert shown_names(user) == ['Dee Pal']
            assert (value_of(user, 'filter-program'), value_of(user, 'filter-status'),
                    value_of(user, 'filter-assigned'), value_of(user, 'filter-since')) \
                == ('pal', 'new', 'nobody', '2026-01-01')
            assert value_of(user, 'search') in ('', None), 'a name or phone is never read from a URL'
        await user.open('/signups?program=hmca&status=lost&from=yesterday')  # not theirs, or no such thing
        await loaded(user)
        assert (value_of(user, 'filter-program'), value_of(user, 'filter-status'), value_of(user, 'filter-since')) \
            == ('', '', '')


async def test_a_saved_default_view_opens_with_a_bare_sign_ups_and_view_all_shows_everything(seeded, database):
    tokens, _ = seeded
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={tokens["coordinator"]}'
        await user.open('/signups')
        await loaded(user)
        user.find(marker='filter-status').elements.pop().set_value('new')
        user.find(marker='filter-assigned').elements.pop().set_value('nobody')
        user.find(marker='search').type('Dee')
        user.find(marker='save-view').click()
        await user.should_see('Saved: Sign-ups opens with this view', retries=50)
        await user.open('/signups')
        await loaded(user)
        assert shown_names(user) == ['Dee Pal'] and value_of(user, 'filter-status') == 'new'
        await user.open('/signups?view=all')
        await loaded(user)
        assert len(shown_names(user)) == 4
    with psycopg.connect(database) as conn:
        assert conn.execute('SELECT default_view FROM users WHERE email = %s', (PAL.email,)).fetchone() \
            == ({'status': 'new', 'assigned': 'nobody'},), 'the search is never kept'


async def test_anonymize_is_an_admins_action_confirmed_first(seeded, database):
    tokens, ids = seeded
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={tokens["coordinator"]}'
        await user.open('/signups')
        await loaded(user)
        pick(user, 'Dee Pal')
        await user.should_see('Save status')
        await user.should_not_see('Anonymize…')
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={tokens["admin"]}'
        await user.open('/signups')
        await loaded(user)
        pick(user, 'Carl Academy')
        user.find('Anonymize…').click()
        await user.should_see("Anonymize this sign-up? Its name, child's name, phone, email and note are replaced")
        user.find(marker='confirm').click()
        await user.should_see('Anonymized.', retries=50)
        assert '(anonymized)' in shown_names(user) and 'Carl Academy' not in shown_names(user)
        await user.open(f'/signups/{ids["Carl"]}')  # its own page says so, and keeps the rest
        await user.should_see('(anonymized ')
        await user.should_see('Citizens Academy')
        await user.should_not_see('Carl Academy')
        await user.open(f'/signups/{ids["Bea"]}')
        await user.should_see('Assigned to')
        await user.should_see('chief@slmpd.org')
    with psycopg.connect(database) as conn:
        assert conn.execute('SELECT name, program, status FROM signups WHERE id = %s', (ids['Carl'],)).fetchone() \
            == ('', 'citizens-academy', 'new')
