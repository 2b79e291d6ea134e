"""Possible duplicates and do-not-contact in the hub's SQL, on a real PostgreSQL: both sides of every comparison
are scoped, a duplicate closes and reopens with its audit, and do-not-contact holds in the UPDATE itself."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.hub import db
from kiosk.hub.auth import CLIENT_LIMIT
from kiosk.hub.db import SignupFilter, Viewer

ADMIN = Viewer('chief@slmpd.org', 'admin')
PAL = Viewer('pal@slmpd.org', 'coordinator', ('pal',))
ACADEMY = Viewer('academy@slmpd.org', 'coordinator', ('citizens-academy',))
BOTH = Viewer('both@slmpd.org', 'coordinator', ('pal', 'citizens-academy'))


def record(program: str, name: str, days_ago: float = 0, phone: str = '', email: str = '') -> dict:
    created = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    return {'id': str(uuid.uuid4()), 'created_at': created, 'program': program, 'name': name,
            'participant_name': '', 'phone': phone, 'email': email, 'contact_method': 'phone' if phone else 'email',
            'age': None, 'note': '', 'language': 'en', 'consent': True, 'kiosk_id': 'lobby-a'}


async def store(conn, *records: dict) -> list[str]:
    await db.insert_signups(conn, 'lobby-a', json.dumps(list(records)))
    return [each['id'] for each in records]


async def duplicates_of(conn, viewer: Viewer, signup_id: str) -> set[str]:
    return {row['id'] for row in await db.possible_duplicates(conn, viewer, signup_id)}


async def test_the_same_phone_or_email_in_the_same_program_within_180_days_is_a_possible_duplicate(conn):
    first, same_phone, same_email, other_program, too_old, stranger, no_contact = await store(
        conn, record('pal', 'Ana Pal', 1, phone='+13145550101', email='ana@example.org'),
        record('pal', 'Ana P.', 0, phone='+13145550101'),
        record('pal', 'Ana again', 2, email='ANA@Example.org'),
        record('hmca', 'Ana Grieving', 0, phone='+13145550101'),
        record('pal', 'Ana long ago', 200, phone='+13145550101'),
        record('pal', 'Someone Else', 0, phone='+13145550999'),
        record('pal', 'Empty One', 0))
    await store(conn, record('pal', 'Empty Two', 0))  # no phone, no email: matches nothing, not each other
    assert await duplicates_of(conn, ADMIN, first) == {same_phone, same_email}
    assert await duplicates_of(conn, ADMIN, same_phone) == {first}, 'a household shares a phone: only a warning'
    assert await duplicates_of(conn, ADMIN, too_old) == set(), 'more than 180 days apart'
    assert await duplicates_of(conn, ADMIN, other_program) == set()
    assert await duplicates_of(conn, ADMIN, stranger) == set() and await duplicates_of(conn, ADMIN, no_contact) == set()
    [row] = [row for row in await db.possible_duplicates(conn, ADMIN, first) if row['id'] == same_email]
    assert (row['same_phone'], row['same_email']) == (False, True)
    marks = await db.signup_marks(conn, ADMIN, [first, same_phone, stranger, no_contact])
    assert {key: mark['duplicates'] for key, mark in marks.items()} == \
        {first: 2, same_phone: 1, stranger: 0, no_contact: 0}


async def test_a_duplicate_never_reveals_a_sign_up_outside_the_viewers_programs(conn):
    """The same person signed up for PAL and for the Citizens Academy: nobody learns of the other program's one."""
    pal, academy = await store(conn, record('pal', 'Dee Double', 1, phone='+13145550202', email='dee@example.org'),
                               record('citizens-academy', 'Dee Double', 0, phone='+13145550202',
                                      email='dee@example.org'))
    for viewer, mine in ((PAL, pal), (ACADEMY, academy)):
        assert await db.possible_duplicates(conn, viewer, mine) == []
        assert (await db.signup_marks(conn, viewer, [mine]))[mine]['duplicates'] == 0
        other = academy if mine == pal else pal
        assert await db.signup(conn, viewer, other) is None, 'not even found'
        assert await db.possible_duplicates(conn, viewer, other) == []
        assert await db.signup_marks(conn, viewer, [other]) == {}
    for viewer in (ADMIN, BOTH):  # who sees both programs still sees no badge: a duplicate is within one program
        assert await db.possible_duplicates(conn, viewer, pal) == []
        assert (await db.signup_marks(conn, viewer, [pal]))[pal]['duplicates'] == 0


async def test_a_coordinator_sees_a_duplicate_in_their_program_and_the_scope_holds_on_both_sides(conn):
    first, second = await store(conn, record('pal', 'Eve', 3, phone='+13145550303'),
                                record('pal', 'Eve', 1, phone='+13145550303'))
    assert await duplicates_of(conn, PAL, first) == {second}
    assert await duplicates_of(conn, ACADEMY, first) == set()
    assert await db.signup_marks(conn, ACADEMY, [first, second]) == {}


async def test_closing_as_a_duplicate_is_audited_and_reopens_like_the_other_closed_statuses(conn):
    original, repeat, academy = await store(conn, record('pal', 'Fay', 2, phone='+13145550404'),
                                            record('pal', 'Fay', 1, phone='+13145550404'),
                                            record('citizens-academy', 'Fay', 1, phone='+13145550404'))
    with pytest.raises(ValueError):
        await db.change_status(conn, PAL, repeat, 'duplicate')  # of what?
    assert not await db.change_status(conn, PAL, repeat, 'duplicate', duplicate_of=repeat), 'not of itself'
    assert not await db.change_status(conn, BOTH, repeat, 'duplicate', duplicate_of=academy), 'another program'
    assert not await db.change_status(conn, ACADEMY, repeat, 'duplicate', duplicate_of=original), 'not theirs'
    assert await db.change_status(conn, PAL, repeat, 'duplicate', 'same family, same child', duplicate_of=original)
    row = await db.signup(conn, PAL, repeat)
    assert (row['status'], row['duplicate_of']) == ('duplicate', original)
    assert (await db.signups_page(conn, PAL, SignupFilter(status='duplicate'))).rows[0]['id'] == repeat
    assert not await db.change_status(conn, PAL, repeat, 'enrolled'), 'closed'
    assert await db.change_status(conn, PAL, repeat, 'contacted', 'not a duplicate after all')
    row = await db.signup(conn, PAL, repeat)
    assert (row['status'], row['duplicate_of']) == ('contacted', None)
    assert [change['status'] for change in await db.status_history(conn, PAL, repeat)] == ['duplicate', 'contacted']
    audited = await (await conn.execute(
        "SELECT actor, detail FROM audit_log WHERE action = 'status_change' AND detail->>'signup' = %s ORDER BY seq",
        (repeat,))).fetchall()
    assert audited == [{'actor': 'pal@slmpd.org', 'detail': {'signup': repeat, 'status': 'duplicate',
                                                             'duplicate_of': original}},
                       {'actor': 'pal@slmpd.org', 'detail': {'signup': repeat, 'status': 'contacted'}}]


async def test_two_sign_ups_never_close_as_duplicates_of_each_other(conn):
    """Each shows the other as a possible duplicate: closing both would leave the person with nobody to call."""
    first, second = await store(conn, record('pal', 'Flo', 2, phone='+13145550414'),
                                record('pal', 'Flo', 1, phone='+13145550414'))
    assert await db.change_status(conn, PAL, second, 'duplicate', duplicate_of=first)
    assert not await db.change_status(conn, ADMIN, first, 'duplicate', duplicate_of=second), 'a closed duplicate'
    assert (await db.signup(conn, PAL, first))['status'] == 'new'


async def test_two_desks_closing_a_pair_as_each_others_duplicate_at_once_close_only_one(database, pool):
    """The second desk waits for the first and then sees its close: the check on the original is not a stale read."""
    async with pool.connection() as conn:
        first, second = await store(conn, record('pal', 'Gia', 2, phone='+13145550424'),
                                    record('pal', 'Gia', 1, phone='+13145550424'))
    async with pool.connection() as desk_one, pool.connection() as desk_two:
        desk_two_pid = desk_two.info.backend_pid
        async with desk_one.transaction():
            assert await db.change_status(desk_one, PAL, second, 'duplicate', duplicate_of=first)
            other_desk = asyncio.create_task(db.change_status(desk_two, PAL, first, 'duplicate', duplicate_of=second))
            while not other_desk.done() and not await waits_for_a_lock(desk_one, desk_two_pid):
                await asyncio.sleep(0.02)
        assert not await other_desk
        statuses = {row['id']: row['status'] for row in await (await desk_one.execute(
            'SELECT id::text, status FROM signups WHERE id = ANY(%s::uuid[])', ([first, second],))).fetchall()}
        await desk_one.execute('DELETE FROM signups WHERE id = ANY(%s::uuid[])', ([first, second],))
    assert statuses == {first: 'new', second: 'duplicate'}


async def waits_for_a_lock(conn, pid: int) -> bool:
    row = await (await conn.execute('SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s', (pid,))).fetchone()
    return row is not None and row['wait_event_type'] == 'Lock'


async def test_retention_deletes_old_duplicates_and_a_deleted_original_leaves_its_duplicate_closed(conn):
    original, repeat = await store(conn, record('pal', 'Gus', 2, phone='+13145550505'),
                                   record('pal', 'Gus', 1, phone='+13145550505'))
    assert await db.change_status(conn, ADMIN, original, 'contacted')
    assert await db.change_status(conn, ADMIN, original, 'enrolled')
    assert await db.change_status(conn, ADMIN, repeat, 'duplicate', duplicate_of=original)
    await conn.execute("UPDATE signups SET status_changed_at = now() - interval '400 days' WHERE id = %s",
                       (original,))
    assert await db.delete_closed_signups(conn, 365, 30, 12, CLIENT_LIMIT[1]) == 1
    row = await db.signup(conn, ADMIN, repeat)
    assert (row['status'], row['duplicate_of']) == ('duplicate', None)
    await conn.execute("UPDATE signups SET status_changed_at = now() - interval '400 days' WHERE id = %s", (repeat,))
    assert await db.delete_closed_signups(conn, 365, 30, 12, CLIENT_LIMIT[1]) == 1


async def test_do_not_contact_blocks_contacted_in_the_update_even_for_a_forged_call(conn):
    flagged, = await store(conn, record('pal', 'Hal', 1, phone='+13145550606'))
    with pytest.raises(ValueError):
        await db.set_do_not_contact(conn, PAL, flagged, '  ')
    assert not await db.set_do_not_contact(conn, ACADEMY, flagged, 'asked by phone'), 'not their program'
    assert await db.set_do_not_contact(conn, PAL, flagged, 'asked not to be called')
    assert not await db.set_do_not_contact(conn, ADMIN, flagged, 'again'), 'a second desk is told'
    row = await db.signup(conn, PAL, flagged)
    assert (row['do_not_contact_reason'], row['do_not_contact_by']) == ('asked not to be called', 'pal@slmpd.org')
    # What a forged request from the list, or a bulk change, would call: the UPDATE refuses it.
    assert not await db.change_status(conn, ADMIN, flagged, 'contacted')
    assert (await db.signup(conn, ADMIN, flagged))['status'] == 'new'
    await conn.execute("UPDATE signups SET status = 'declined' WHERE id = %s", (flagged,))
    assert not await db.change_status(conn, ADMIN, flagged, 'contacted'), 'not by a reopen either'
    assert await db.clear_do_not_contact(conn, PAL, flagged)
    assert not await db.clear_do_not_contact(conn, PAL, flagged), 'lifted already'
    assert await db.change_status(conn, PAL, flagged, 'contacted')
    audited = await (await conn.execute(
        "SELECT actor, action, detail FROM audit_log WHERE action LIKE 'do_not_contact%' ORDER BY seq")).fetchall()
    assert audited == [{'actor': 'pal@slmpd.org', 'action': 'do_not_contact_set', 'detail': {'signup': flagged}},
                       {'actor': 'pal@slmpd.org', 'action': 'do_not_contact_cleared', 'detail': {'signup': flagged}}]


async def test_do_not_contact_shows_on_a_later_sign_up_only_to_who_may_see_the_flagged_one(conn):
    flagged, later_pal, later_academy, by_email = await store(
        conn, record('pal', 'Ida', 30, phone='+13145550707', email='ida@example.org'),
        record('pal', 'Ida', 0, phone='+13145550707'),
        record('citizens-academy', 'Ida', 0, phone='+13145550707'),
        record('pal', 'Ida', 0, email='IDA@example.org'))
    assert await db.set_do_not_contact(conn, PAL, flagged, 'asked not to be called')
    assert [row['id'] for row in await db.do_not_contact_elsewhere(conn, PAL, later_pal)] == [flagged]
    assert [row['id'] for row in await db.do_not_contact_elsewhere(conn, PAL, by_email)] == [flagged]
    marks = await db.signup_marks(conn, PAL, [flagged, later_pal])
    assert (marks[flagged]['do_not_contact'], marks[later_pal]['do_not_contact_elsewhere']) == (True, True)
    assert await db.do_not_contact_elsewhere(conn, ACADEMY, later_academy) == [], 'the PAL sign-up is not theirs'
    assert not (await db.signup_marks(conn, ACADEMY, [later_academy]))[later_academy]['do_not_contact_elsewhere']
    assert [row['id'] for row in await db.do_not_contact_elsewhere(conn, BOTH, later_academy)] == [flagged]


async def test_exports_leave_do_not_contact_out_unless_asked(conn):
    flagged, kept = await store(conn, record('pal', 'Jo', 1, phone='+13145550808'),
                                record('pal', 'Kim', 1, phone='+13145550909'))
    assert await db.set_do_not_contact(conn, PAL, flagged, 'moved away')
    exported = {row['id'] for row in await db.signups_export(conn, PAL, SignupFilter(), 100)}
    assert kept in exported and flagged not in exported
    exported = {row['id'] for row in await db.signups_export(conn, PAL, SignupFilter(), 100,
                                                               include_do_not_contact=True)}
    assert {kept, flagged} <= exported


async def test_one_sign_up_is_not_found_outside_the_viewers_programs_or_for_a_malformed_id(conn):
    pal, = await store(conn, record('pal', 'Lee', 1, phone='+13145551010'))
    assert (await db.signup(conn, PAL, pal))['name'] == 'Lee'
    assert await db.signup(conn, ACADEMY, pal) is None
    assert await db.signup(conn, PAL, str(uuid.uuid4())) is None
    assert await db.signup(conn, PAL, 'not-a-uuid') is None
    assert not await db.change_status(conn, PAL, 'not-a-uuid', 'contacted'), 'a forged id from the list: refused'
    assert await db.change_status(conn, PAL, pal, 'contacted'), 'and the connection is still good'
    assert await db.status_history(conn, ACADEMY, pal) == []
