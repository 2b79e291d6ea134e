"""The hub's SQL on a real PostgreSQL: who sees what, status changes, an audit log nobody rewrites, retention."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from kiosk.hub import db
from kiosk.hub.auth import CLIENT_LIMIT, token_digest
from kiosk.hub.db import SignupFilter, Viewer

ADMIN = Viewer('chief@slmpd.org', 'admin')
PAL_COORDINATOR = Viewer('pal@slmpd.org', 'coordinator', ('pal',))


def record(program: str, name: str, minutes_ago: int, kiosk: str = 'lobby-a', phone: str = '+13145550134') -> dict:
    created = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
    return {'id': str(uuid.uuid4()), 'created_at': created, 'program': program, 'name': name,
            'participant_name': '', 'phone': phone, 'email': '', 'contact_method': 'phone', 'age': None,
            'note': '', 'language': 'en', 'consent': True, 'kiosk_id': kiosk}


@pytest.fixture
async def signups(conn):
    rows = [record('pal', 'Ana Pal', 1), record('citizens-academy', 'Carl Academy', 2),
            record('pal', 'Bea Pal', 3, kiosk='lobby-b', phone='+13145559876'), record('hmca', 'Hope Grieving', 4)]
    await db.insert_signups(conn, 'lobby-a', json.dumps(rows))
    return rows


async def test_a_coordinator_sees_only_their_program_even_when_asking_for_another(conn, signups):
    shown = await db.signups_page(conn, PAL_COORDINATOR, SignupFilter())
    assert [row['name'] for row in shown.rows] == ['Ana Pal', 'Bea Pal'] and shown.total == 2
    shown = await db.signups_page(conn, PAL_COORDINATOR, SignupFilter(program='hmca'))
    assert shown.rows == [] and shown.total == 0, 'the rule is in the query, not in the page'
    shown = await db.signups_page(conn, ADMIN, SignupFilter())
    assert [row['name'] for row in shown.rows] == ['Ana Pal', 'Carl Academy', 'Bea Pal', 'Hope Grieving']
    assert shown.total == 4 and shown.exact
    nobody = Viewer('new@slmpd.org', 'coordinator', ())
    shown = await db.signups_page(conn, nobody, SignupFilter())
    assert (shown.rows, shown.total) == ([], 0)
    assert await db.signups_export(conn, PAL_COORDINATOR, SignupFilter(program='hmca'), 100) == []


async def test_the_fleet_shows_every_kiosk_but_counts_only_the_viewers_programs(conn, signups):
    await db.add_kiosk(conn, 'lobby-a', token_digest('lobby-a'))
    [admin_row] = await db.fleet(conn, ADMIN, 15, 'America/Chicago')
    [coordinator_row] = await db.fleet(conn, PAL_COORDINATOR, 15, 'America/Chicago')
    assert (admin_row['name'], admin_row['today'], admin_row['this_week']) == ('lobby-a', 4, 4)
    assert (coordinator_row['name'], coordinator_row['today'], coordinator_row['this_week']) == ('lobby-a', 2, 2)
    assert coordinator_row['stale'], 'never heard from'


async def test_filters_search_and_paging_newest_first(conn, signups):
    assert [r['name'] for r in (await db.signups_page(conn, ADMIN, SignupFilter(search='bea'))).rows] == ['Bea Pal']
    assert [r['name'] for r in (await db.signups_page(conn, ADMIN, SignupFilter(search='555-9876'))).rows] == \
        ['Bea Pal']
    assert (await db.signups_page(conn, ADMIN, SignupFilter(program='pal', status='new'))).total == 2
    first = await db.signups_page(conn, ADMIN, SignupFilter(), per_page=3)
    second = await db.signups_page(conn, ADMIN, SignupFilter(), per_page=3, older_than=cursor(first.rows[-1]))
    assert first.total == 4 and [r['name'] for r in first.rows + second.rows] == \
        ['Ana Pal', 'Carl Academy', 'Bea Pal', 'Hope Grieving']
    assert (first.newer, first.older, second.newer, second.older) == (False, True, True, False)


def cursor(row: dict) -> tuple[datetime, str]:
    return row['created_at'], row['id']


async def test_older_and_newer_pages_stay_put_while_new_sign_ups_arrive(conn, signups):
    first = await db.signups_page(conn, ADMIN, SignupFilter(), per_page=2)
    await db.insert_signups(conn, 'lobby-a', json.dumps([record('pal', 'Just Arrived', 0)]))
    second = await db.signups_page(conn, ADMIN, SignupFilter(), per_page=2, older_than=cursor(first.rows[-1]))
    assert [r['name'] for r in second.rows] == ['Bea Pal', 'Hope Grieving'], 'no row shown twice, none skipped'
    back = await db.signups_page(conn, ADMIN, SignupFilter(), per_page=2, newer_than=cursor(second.rows[0]))
    assert [r['name'] for r in back.rows] == ['Ana Pal', 'Carl Academy'] and back.newer and back.older
    assert second.total == 5


async def test_past_the_exact_count_the_total_is_an_estimate(conn, signups, monkeypatch):
    monkeypatch.setattr(db, 'EXACT_COUNT_LIMIT', 2)
    await conn.execute('ANALYZE signups')
    shown = await db.signups_page(conn, ADMIN, SignupFilter(), per_page=2)
    assert not shown.exact and shown.total >= 3 and len(shown.rows) == 2
    small = await db.signups_page(conn, PAL_COORDINATOR, SignupFilter())
    assert small.exact and small.total == 2


async def test_status_changes_record_who_and_when_and_stay_within_the_viewers_programs(conn, signups):
    pal, academy = signups[0]['id'], signups[1]['id']
    assert await db.change_status(conn, PAL_COORDINATOR, pal, 'contacted', 'left a voicemail')
    assert not await db.change_status(conn, PAL_COORDINATOR, academy, 'declined'), 'not their program'
    history = await (await conn.execute('SELECT status, changed_by, note FROM status_changes WHERE signup_id = %s',
                                        (pal,))).fetchall()
    assert history == [{'status': 'contacted', 'changed_by': 'pal@slmpd.org', 'note': 'left a voicemail'}]
    rows = (await db.signups_page(conn, ADMIN, SignupFilter(status='contacted'))).rows
    assert [row['id'] for row in rows] == [pal]
    with pytest.raises(ValueError):
        await db.change_status(conn, ADMIN, pal, 'lost')


async def test_statuses_go_new_contacted_then_enrolled_or_declined_and_a_closed_one_can_be_reopened(conn, signups):
    pal = signups[0]['id']
    assert not await db.change_status(conn, PAL_COORDINATOR, pal, 'enrolled'), 'nobody was contacted yet'
    assert await db.change_status(conn, PAL_COORDINATOR, pal, 'contacted')
    assert not await db.change_status(conn, ADMIN, pal, 'contacted'), 'a second desk cannot repeat the step'
    assert await db.change_status(conn, PAL_COORDINATOR, pal, 'declined')
    assert not await db.change_status(conn, PAL_COORDINATOR, pal, 'enrolled'), 'closed'
    assert await db.change_status(conn, PAL_COORDINATOR, pal, 'contacted', 'declined by mistake')
    assert await db.change_status(conn, PAL_COORDINATOR, pal, 'enrolled')
    history = await (await conn.execute('SELECT status FROM status_changes WHERE signup_id = %s ORDER BY seq',
                                        (pal,))).fetchall()
    assert [row['status'] for row in history] == ['contacted', 'declined', 'contacted', 'enrolled']


async def test_the_audit_log_refuses_update_delete_and_truncate(conn):
    await db.audit(conn, 'chief@slmpd.org', 'login')
    for statement in ("UPDATE audit_log SET actor = 'someone else'", 'DELETE FROM audit_log',
                      'TRUNCATE audit_log'):
        async with conn.transaction():
            await conn.execute('SAVEPOINT before_tampering')
            with pytest.raises(psycopg.errors.RaiseException, match='append-only'):
                await conn.execute(statement)
            await conn.execute('ROLLBACK TO SAVEPOINT before_tampering')


async def test_retention_deletes_only_sign_ups_closed_long_ago(conn, signups):
    old_enrolled, recent_declined, still_open = signups[0]['id'], signups[1]['id'], signups[2]['id']
    await conn.execute("UPDATE signups SET status = 'enrolled', status_changed_at = now() - interval '400 days' "
                       'WHERE id = %s', (old_enrolled,))
    await conn.execute("UPDATE signups SET status = 'declined', status_changed_at = now() - interval '10 days' "
                       'WHERE id = %s', (recent_declined,))
    await conn.execute("UPDATE signups SET status_changed_at = now() - interval '900 days' WHERE id = %s",
                       (still_open,))
    assert await db.delete_closed_signups(conn, 365, 30, 12, CLIENT_LIMIT[1]) == 1
    left = {row['id'] for row in (await db.signups_export(conn, ADMIN, SignupFilter(), 100))}
    assert old_enrolled not in left and {recent_declined, still_open} <= left
    (entry,) = await (await conn.execute("SELECT detail FROM audit_log WHERE action = 'retention'")).fetchall()
    assert entry['detail'] == {'deleted': 1, 'days': 365}


async def test_the_rate_counts_the_last_minute_only_and_old_counts_are_swept(conn):
    await db.add_kiosk(conn, 'lobby-r', token_digest('r'))
    await db.add_kiosk(conn, 'lobby-other', token_digest('other'))
    await conn.execute("INSERT INTO rate_requests (kiosk, at) VALUES ('lobby-r', now() - interval '2 minutes')")
    assert [await db.admit_kiosk(conn, token_digest('r'), 2) for _ in range(2)] == [('lobby-r', 0)] * 2
    kiosk, wait = await db.admit_kiosk(conn, token_digest('r'), 2)
    assert kiosk == 'lobby-r' and 1 <= wait <= 60
    assert await db.admit_kiosk(conn, token_digest('other'), 2) == ('lobby-other', 0), 'each kiosk has its own count'
    assert await db.admit_kiosk(conn, token_digest('unknown'), 2) == (None, 0)
    await db.revoke_kiosk(conn, 'lobby-other')
    assert await db.admit_kiosk(conn, token_digest('other'), 2) == (None, 0), 'a revoked kiosk is not counted'
    await db.delete_closed_signups(conn, 365, 30, 12, CLIENT_LIMIT[1])
    rows = await (await conn.execute("SELECT count(*) AS n FROM rate_requests WHERE kiosk = 'lobby-r'")).fetchone()
    assert rows['n'] == 2, 'the request from two minutes ago is gone; a refused one was never counted'


async def test_tokens_expire_after_rotation_and_die_with_revocation(conn):
    await db.add_kiosk(conn, 'lobby-rot', token_digest('first'))
    assert await db.rotate_kiosk(conn, 'lobby-rot', token_digest('second'), timedelta(0))
    assert await db.kiosk_for_token(conn, token_digest('first')) is None  # no grace: gone at once
    assert await db.kiosk_for_token(conn, token_digest('second')) == 'lobby-rot'
    assert await db.revoke_kiosk(conn, 'lobby-rot')
    assert await db.kiosk_for_token(conn, token_digest('second')) is None
    assert not await db.rotate_kiosk(conn, 'lobby-rot', token_digest('third'), timedelta(days=7))
