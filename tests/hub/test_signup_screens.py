"""One sign-up's page and the list's marks, in NiceGUI's user simulation of the real hub app on a real PostgreSQL:
the do-not-contact banner, the possible duplicates and their links, "not found" outside the viewer's programs,
closing as a duplicate, and the downloads with and without do-not-contact."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from nicegui import ui
from nicegui.testing.user_simulation import user_simulation
from openpyxl import load_workbook

from kiosk.hub import db
from kiosk.hub.auth import SESSION_COOKIE, new_token, token_digest
from kiosk.hub.pages.signup import NOT_FOUND
from tests.support.simulation import downloaded, drawn

HUB_MAIN = Path(__file__).with_name('hub_main.py')


def record(program: str, name: str, days_ago: float, phone: str) -> dict:
    created = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    return {'id': str(uuid.uuid4()), 'created_at': created, 'program': program, 'name': name,
            'participant_name': '', 'phone': phone, 'email': '', 'contact_method': 'phone', 'age': None,
            'note': '', 'language': 'en', 'consent': True, 'kiosk_id': 'lobby-a'}


@pytest.fixture
async def seeded(database, conn, monkeypatch):
    """A PAL coordinator's session, and sign-ups: Ana (marked do not contact) and Ana again a week later with the
    same phone, Bea alone, and an Academy sign-up of Ana's phone the coordinator may not see."""
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute('TRUNCATE users, signups CASCADE')
    ana, again, bea, academy = (record('pal', 'Ana First', 8, '+13145550101'),
                                record('pal', 'Ana Again', 1, '+13145550101'),
                                record('pal', 'Bea Alone', 2, '+13145550999'),
                                record('citizens-academy', 'Ana Academy', 0, '+13145550101'))
    await db.insert_signups(conn, 'lobby-a', json.dumps([ana, again, bea, academy]))
    pal = db.Viewer('pal@slmpd.org', 'coordinator', ('pal',))
    assert await db.set_do_not_contact(conn, pal, ana['id'], 'asked not to be called')
    await db.add_user(conn, pal.email, 'coordinator', ['pal'], 'no-password')
    await conn.execute('UPDATE users SET must_change_password = false')
    token = new_token()
    await db.open_session(conn, token_digest(token), pal.email)
    await conn.commit()
    monkeypatch.setenv('KIOSK_HUB_DATABASE_URL', database)
    audited_before = (await (await conn.execute('SELECT coalesce(max(seq), 0) AS seq FROM audit_log')).fetchone())
    return {'audited_before': audited_before['seq'], 'token': token,
            'ana': ana['id'], 'again': again['id'], 'bea': bea['id'], 'academy': academy['id']}


def audited(database: str, seeded: dict, action: str) -> list[dict]:
    """What this test added to the audit log (the module's database keeps every test's)."""
    with psycopg.connect(database) as conn:
        return [{'action': action, 'actor': actor, **detail} for action, actor, detail in conn.execute(
            'SELECT action, actor, detail FROM audit_log WHERE seq > %s AND action LIKE %s ORDER BY seq',
            (seeded['audited_before'], action))]


def links(user) -> dict[str, str]:
    return {link.text: link.props['href'] for link in user.find(ui.link).elements}


async def test_the_flagged_sign_up_shows_a_red_banner_and_offers_no_contacted(seeded):
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={seeded["token"]}'
        await user.open(f'/signups/{seeded["ana"]}')
        await drawn(user, marker='dnc-banner')
        await drawn(user, 'asked not to be called (marked by pal@slmpd.org')
        await drawn(user, 'It cannot move to Contacted while it is marked do not contact.')
        assert 'contacted' not in user.find(marker='new-status').elements.pop().options
        await drawn(user, 'Possible duplicates')
        assert links(user)['Ana Again'] == f'/signups/{seeded["again"]}'
        await user.should_not_see('Ana Academy')


async def test_a_later_sign_up_with_the_same_phone_shows_the_flag_and_links_the_duplicate(seeded):
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={seeded["token"]}'
        await user.open(f'/signups/{seeded["again"]}')
        await drawn(user, 'Do not contact: another sign-up with the same phone or email is marked')
        await drawn(user, marker='duplicate-badge')
        await user.should_not_see(marker='dnc-banner')
        assert links(user)['Ana First (Police Athletic League (PAL))'] == f'/signups/{seeded["ana"]}'
        assert links(user)['Ana First'] == f'/signups/{seeded["ana"]}', 'the duplicate, in its own list'
        await user.open(f'/signups/{seeded["bea"]}')
        await drawn(user, 'Bea Alone')
        await user.should_not_see('Possible duplicates')
        await user.should_not_see('Do not contact: another sign-up')


async def test_a_sign_up_outside_the_programs_is_not_found_like_one_that_does_not_exist(seeded, database):
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={seeded["token"]}'
        for signup_id in (seeded['academy'], str(uuid.uuid4()), 'not-a-uuid'):
            await user.open(f'/signups/{signup_id}')
            await drawn(user, NOT_FOUND)
            await user.should_not_see('Ana Academy')
            await user.should_not_see('Details')
        for _ in range(50):  # each look is audited after it is drawn
            if len(audited(database, seeded, 'view_signup')) == 3:
                break
            await asyncio.sleep(0.1)
    assert audited(database, seeded, 'view_signup') == \
        [{'action': 'view_signup', 'actor': 'pal@slmpd.org', 'signup': None, 'found': False}] * 3


async def test_marking_do_not_contact_and_closing_as_a_duplicate_on_the_page(seeded, database):
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={seeded["token"]}'
        await user.open(f'/signups/{seeded["again"]}')
        await drawn(user, marker='new-status')
        user.find(marker='new-status').click()
        user.find('Duplicate').click()
        user.find(marker='save-status').click()
        await drawn(user, 'Status saved.')
        await drawn(user, marker='duplicate-of-link')
        user.find(marker='dnc-reason').type('same family: asked not to be called')
        user.find(marker='dnc-set').click()
        await drawn(user, marker='dnc-banner')
    with psycopg.connect(database) as conn:
        row = conn.execute('SELECT status, duplicate_of::text, do_not_contact_reason FROM signups WHERE id = %s',
                           (seeded['again'],)).fetchone()
    assert row == ('duplicate', seeded['ana'], 'same family: asked not to be called')
    assert [(each['action'], each['signup']) for each in audited(database, seeded, '%')
            if each['action'] != 'view_signup'] == [('status_change', seeded['again']),
                                                   ('do_not_contact_set', seeded['again'])]


async def test_a_sign_up_closed_as_a_duplicate_is_listed_but_never_offered_as_an_original(seeded, conn):
    pal = db.Viewer('pal@slmpd.org', 'coordinator', ('pal',))
    assert await db.change_status(conn, pal, seeded['again'], 'duplicate', duplicate_of=seeded['ana'])
    await conn.commit()
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={seeded["token"]}'
        await user.open(f'/signups/{seeded["ana"]}')
        await drawn(user, marker='duplicates')
        await drawn(user, 'Duplicate · same phone')
        await user.should_not_see(marker='new-status')  # flagged: not Contacted; and Ana Again is no original


async def test_the_list_marks_rows_and_downloads_leave_do_not_contact_out_unless_the_box_is_ticked(seeded, database):
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={seeded["token"]}'
        await user.open('/signups')
        await drawn(user, '3 sign-ups')  # the page is drawn before its first query returns: wait for the rows
        rows = {row['name']: row for row in user.find(marker='signups').elements.pop().rows}
        assert set(rows) == {'Ana First', 'Ana Again', 'Bea Alone'}
        assert (rows['Ana First']['do_not_contact'], rows['Ana First']['duplicates']) == ('Do not contact', 1)
        assert (rows['Ana Again']['do_not_contact'], rows['Ana Again']['duplicates']) == \
            ('Do not contact (same phone or email)', 1), 'the Academy sign-up of that phone counts for nothing'
        assert (rows['Bea Alone']['do_not_contact'], rows['Bea Alone']['duplicates']) == ('', 0)
        table = user.find(kind=ui.table, marker='signups')
        table.trigger('selection', {'added': True, 'rows': [rows['Ana First']], 'keys': [rows['Ana First']['id']]})
        await user.should_see('Ana First is marked do not contact: no step to take here.')
        await user.should_not_see(marker='new-status')
        table.trigger('selection', {'added': False, 'rows': [rows['Ana First']], 'keys': [rows['Ana First']['id']]})
        table.trigger('selection', {'added': True, 'rows': [rows['Ana Again']], 'keys': [rows['Ana Again']['id']]})
        await user.should_see(marker='new-status')  # marked only through another sign-up: a warning, not a bar
        assert user.find(marker='new-status').elements.pop().options == {'contacted': 'Contacted'}
        table.trigger('selection', {'added': False, 'rows': [rows['Ana Again']], 'keys': [rows['Ana Again']['id']]})
        user.find(marker='download').click()
        exported = list(csv.DictReader(io.StringIO((await downloaded(user)).decode('utf-8-sig'))))
        assert {row['name'] for row in exported} == {'Ana Again', 'Bea Alone'}
        assert 'do_not_contact' not in exported[0], 'the same columns as ever when none is in the file'
        user.find(marker='include-do-not-contact').click()
        user.find(marker='download-xlsx').click()
        sheet = load_workbook(io.BytesIO(await downloaded(user))).active
        header = [cell.value for cell in sheet[1]]
        flagged = {row[header.index('name')]: row[header.index('do_not_contact')]
                   for row in sheet.iter_rows(min_row=2, values_only=True)}
        assert flagged == {'Ana First': True, 'Ana Again': False, 'Bea Alone': False}, 'a call list made from it says'
        user.find(marker='download').click()
        exported = list(csv.DictReader(io.StringIO((await downloaded(user)).decode('utf-8-sig'))))
        assert {row['name']: row['do_not_contact'] for row in exported} == \
            {'Ana First': 'yes', 'Ana Again': 'no', 'Bea Alone': 'no'}
    assert [(each['format'], each['do_not_contact'], each['rows']) for each in audited(database, seeded, 'export')] == \
        [('csv', False, 2), ('xlsx', True, 3), ('csv', True, 3)]


async def test_the_hub_keeps_answering_while_it_writes_a_large_download(seeded, database):
    """A workbook of thousands of rows takes seconds to write: on the event loop, every other page would wait."""
    with psycopg.connect(database) as conn:
        conn.execute('''INSERT INTO signups (id, kiosk, program, created_at, name, participant_name, phone, email,
                                             contact_method, age, note, language, body)
                        SELECT gen_random_uuid(), 'lobby-a', 'pal', now() - make_interval(days => 1, mins => n),
                               'Visitor ' || n, '', '+1314555' || lpad(n::text, 4, '0'), '', 'phone', NULL, '', 'en',
                               '{}'
                        FROM generate_series(1, 10000) AS n''')
    stalls = []

    async def watch_the_loop() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            stalls.append(time.perf_counter() - before)

    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={seeded["token"]}'
        await user.open('/signups')
        await drawn(user, 'sign-ups · page 1')
        watcher = asyncio.create_task(watch_the_loop())
        user.find(marker='download-xlsx').click()
        content = await downloaded(user, seconds=120)
        watcher.cancel()  # before reading the file back, which holds the loop itself
        sheet = load_workbook(io.BytesIO(content), read_only=True).active
        assert sum(1 for _ in sheet.iter_rows()) == 10003  # the header and every sign-up but the flagged one
    assert max(stalls) < 1.0, f'the event loop stood still for {max(stalls):.1f} s'


async def test_an_admin_anonymizes_on_the_sign_up_page_after_confirming_and_a_coordinator_cannot(seeded, database,
                                                                                                  monkeypatch):
    """Anonymize was on the list only: an admin answering a request to be forgotten, with the person's page open,
    had to find the row again."""
    monkeypatch.setenv('KIOSK_HUB_REQUIRE_2FA', 'none')  # the second step is test_account_screens.py's subject
    admin_token = new_token()
    with psycopg.connect(database) as conn:
        conn.execute("INSERT INTO users (email, role, must_change_password) VALUES ('chief@slmpd.org', 'admin', "
                     'false)')
        conn.execute("INSERT INTO sessions (id_sha256, email) VALUES (%s, 'chief@slmpd.org')",
                     (token_digest(admin_token),))
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={seeded["token"]}'
        await user.open(f'/signups/{seeded["bea"]}')
        await drawn(user, 'Bea Alone')
        await user.should_not_see(marker='anonymize')
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={admin_token}'
        await user.open(f'/signups/{seeded["bea"]}')
        await drawn(user, 'Bea Alone')
        await user.should_not_see(marker='anonymize-confirm')
        user.find(marker='anonymize').click()
        await drawn(user, marker='anonymize-confirm')
        user.find(marker='anonymize-confirm').click()
        await drawn(user, '(anonymized ')
        await user.should_not_see('Bea Alone')
        await user.should_not_see(marker='anonymize')
    with psycopg.connect(database) as conn:
        assert conn.execute('SELECT name, phone, program FROM signups WHERE id = %s',
                            (seeded['bea'],)).fetchone() == ('', '', 'pal')
    assert audited(database, seeded, 'anonymize') == [
        {'action': 'anonymize', 'actor': 'chief@slmpd.org', 'signup': seeded['bea']}]
