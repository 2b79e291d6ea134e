"""Conflicts in PostgreSQL: listed with the stored record beside them, resolved once and audited, and swept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from kiosk.hub import db


def stored_signup(database: str, name: str) -> dict:
    body = {'id': str(uuid.uuid4()), 'created_at': datetime.now(UTC).isoformat(), 'program': 'pal', 'name': name,
            'participant_name': '', 'phone': '+13145550134', 'email': '', 'contact_method': 'phone', 'age': None,
            'note': '', 'language': 'en', 'consent': True, 'kiosk_id': 'lobby'}
    with psycopg.connect(database) as conn:
        conn.execute('''INSERT INTO signups (id, kiosk, program, created_at, name, participant_name, phone, email,
                                             contact_method, age, note, language, body)
                        VALUES (%s, 'lobby', 'pal', %s, %s, '', '+13145550134', '', 'phone', NULL, '', 'en', %s)''',
                     (body['id'], body['created_at'], name, psycopg.types.json.Jsonb(body)))
    return body


async def test_a_conflict_is_listed_beside_the_stored_record_and_resolved_once_audited(conn, database):
    stored = stored_signup(database, 'Rosa Díaz')
    await db.store_conflicts(conn, 'lobby', [{**stored, 'name': 'Rosa Diaz'}])
    (listed,) = [row for row in await db.open_conflicts(conn) if str(row['signup_id']) == stored['id']]
    assert (listed['stored']['name'], listed['incoming']['name']) == ('Rosa Díaz', 'Rosa Diaz')
    assert listed['kiosk'] == 'lobby'
    assert await db.resolve_conflict(conn, listed['seq'], 'chief@slmpd.org', 'kept_stored')
    assert not await db.resolve_conflict(conn, listed['seq'], 'other@slmpd.org', 'reviewed'), 'only once'
    assert all(str(row['signup_id']) != stored['id'] for row in await db.open_conflicts(conn))
    audited = await (await conn.execute("SELECT actor, detail FROM audit_log WHERE action = 'conflict_resolved' "
                                        "AND detail->>'signup' = %s", (stored['id'],))).fetchall()
    assert [(row['actor'], row['detail']['resolution']) for row in audited] == [('chief@slmpd.org', 'kept_stored')]


async def test_conflicts_follow_the_retention_rule(conn, database):
    kept, resolved_long_ago, orphaned = (stored_signup(database, name) for name in ('Ana', 'Bea', 'Cruz'))
    await db.store_conflicts(conn, 'lobby', [{**record, 'note': 'again'} for record in (kept, resolved_long_ago,
                                                                                         orphaned)])
    await conn.execute("UPDATE signup_conflicts SET resolved_at = now() - interval '400 days', resolution = 'reviewed' "
                       'WHERE signup_id = %s', (resolved_long_ago['id'],))
    await conn.execute('DELETE FROM signups WHERE id = %s', (orphaned['id'],))
    await db.delete_closed_signups(conn, 365, 30, 12, timedelta(hours=24))
    left = {str(row['signup_id']) for row in await (await conn.execute(
        'SELECT signup_id FROM signup_conflicts WHERE signup_id = ANY(%s)',
        ([uuid.UUID(r['id']) for r in (kept, resolved_long_ago, orphaned)],))).fetchall()}
    assert left == {kept['id']}
