"""Working the list, in the hub's SQL on a real PostgreSQL: assignment (to whom, by whom, audited), changes to many
sign-ups at once (scoped in the UPDATE, forged ids refused, one history and one audit row each, the rest skipped
and counted), "all matching" run from the list's own filter, default views, and anonymizing (statistics kept, a
later copy from the kiosk dropped). The mail an assignee gets is in test_worklist_mail.py."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.hub import db
from kiosk.hub.db import SignupFilter, Viewer
from tests.support.hub_api import send, signup, stored
from tests.support.processes import add_kiosk

ADMIN = Viewer('chief@slmpd.org', 'admin')
PAL = Viewer('pal@slmpd.org', 'coordinator', ('pal',))
ACADEMY = Viewer('academy@slmpd.org', 'coordinator', ('citizens-academy',))


def record(program: str, name: str, minutes_ago: int = 1, phone: str = '+13145550134') -> dict:
    created = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
    return {'id': str(uuid.uuid4()), 'created_at': created, 'program': program, 'name': name,
            'participant_name': 'Junior', 'phone': phone, 'email': 'family@example.org', 'contact_method': 'phone',
            'age': 9, 'note': 'call after 5', 'language': 'en', 'consent': True, 'kiosk_id': 'lobby-a'}


@pytest.fixture
async def people(conn):
    """The admin, a PAL coordinator and a Citizens Academy coordinator, as users (the assignee check reads them)."""
    await conn.execute('SELECT 1')  # opens the test's transaction, so the rollback takes the users too
    for viewer in (ADMIN, PAL, ACADEMY):
        await db.add_user(conn, viewer.email, viewer.role, list(viewer.programs), 'no-password')


@pytest.fixture
async def signups(conn, people):
    rows = [record('pal', 'Ana Pal', 1), record('pal', 'Bea Pal', 2), record('citizens-academy', 'Carl Academy', 3),
            record('pal', 'Dee Pal', 4)]
    await db.insert_signups(conn, 'lobby-a', json.dumps(rows))
    return {row['name'].split()[0]: row['id'] for row in rows}


async def audited(conn, action: str, ids) -> list[dict]:
    return [row['detail'] for row in await (await conn.execute(
        "SELECT detail FROM audit_log WHERE action = %s AND detail->>'signup' = ANY(%s) ORDER BY seq",
        (action, list(ids)))).fetchall()]


async def names(conn, viewer: Viewer, chosen: SignupFilter) -> list[str]:
    return [row['name'] for row in (await db.signups_page(conn, viewer, chosen)).rows]


async def test_a_sign_up_is_assigned_only_to_a_user_who_holds_its_program_and_only_within_the_assigners(
        conn, signups):
    ana, carl = signups['Ana'], signups['Carl']
    assert (await db.assign(conn, PAL, [ana], ACADEMY.email)).ids == [], 'the assignee does not hold PAL'
    assert (await db.assign(conn, PAL, [carl], PAL.email)).ids == [], 'Carl is outside the assigner\'s programs'
    assert (await db.assign(conn, PAL, [ana], 'nobody@slmpd.org')).ids == [], 'no such user'
    assert (await db.assign(conn, PAL, [ana], ADMIN.email)).ids == [ana], 'an admin holds every program'
    assert (await db.assign(conn, ADMIN, [carl], ACADEMY.email)).ids == [carl]
    await db.set_disabled(conn, ACADEMY.email, True, 'chief@slmpd.org')
    assert (await db.assign(conn, ADMIN, [carl], ADMIN.email)).ids == [carl]
    assert (await db.assign(conn, ADMIN, [carl], ACADEMY.email)).ids == [], 'a disabled user gets nothing'
    assert (await db.assign(conn, PAL, [ana], None)).ids == [ana], 'unassigned'
    assert await audited(conn, 'assign', [ana, carl]) == [
        {'signup': ana, 'assignee': ADMIN.email}, {'signup': carl, 'assignee': ACADEMY.email},
        {'signup': carl, 'assignee': None, 'released_from': ACADEMY.email},  # disabled: back to Unassigned
        {'signup': carl, 'assignee': ADMIN.email}, {'signup': ana, 'assignee': None}]
    row = await (await conn.execute('SELECT assigned_to, assigned_by FROM signups WHERE id = %s', (carl,))).fetchone()
    assert row == {'assigned_to': ADMIN.email, 'assigned_by': ADMIN.email}


async def test_a_user_who_loses_a_program_or_the_admin_role_gives_its_sign_ups_back_to_unassigned(conn, signups):
    """Otherwise they would be nobody's: under neither Mine nor Unassigned for anyone."""
    ana, bea, carl = signups['Ana'], signups['Bea'], signups['Carl']
    await conn.execute("INSERT INTO user_programs (email, program) VALUES (%s, 'pal')", (ACADEMY.email,))
    assert (await db.assign(conn, ADMIN, [ana, carl], ACADEMY.email)).ids == sorted([ana, carl])
    assert (await db.assign(conn, ADMIN, [bea], ADMIN.email)).ids == [bea]
    assert await db.set_programs(conn, ACADEMY.email, ['citizens-academy'], ADMIN.email)
    assert await names(conn, PAL, SignupFilter(assigned='nobody')) == ['Ana Pal', 'Dee Pal']
    assigned = {row['id']: row['assigned_to'] for row in await (await conn.execute(
        'SELECT id::text, assigned_to FROM signups WHERE id = ANY(%s::uuid[])', ([ana, bea, carl],))).fetchall()}
    assert assigned == {ana: None, bea: ADMIN.email, carl: ACADEMY.email}, 'only the program taken away is released'
    assert await db.set_role(conn, ADMIN.email, 'coordinator', 'other-admin@slmpd.org')
    bea_now = await (await conn.execute('SELECT assigned_to FROM signups WHERE id = %s', (bea,))).fetchone()
    assert bea_now == {'assigned_to': None}, 'an admin made a coordinator of nothing holds no sign-up'
    assert await db.set_role(conn, ACADEMY.email, 'publisher', 'other-admin@slmpd.org')
    carl_now = await (await conn.execute('SELECT assigned_to FROM signups WHERE id = %s', (carl,))).fetchone()
    assert carl_now == {'assigned_to': None}, 'a publisher sees no sign-up, whatever programs it once had'
    assert (await db.assign(conn, ADMIN, [carl], ACADEMY.email)).ids == [], 'nor can one be given to it'
    assert ACADEMY.email not in await db.assignable_users(conn, ADMIN)


async def test_mine_and_unassigned_filter_the_list_and_the_list_shows_the_assignee(conn, signups):
    await db.assign(conn, PAL, [signups['Ana']], PAL.email)
    await db.assign(conn, ADMIN, [signups['Bea']], ADMIN.email)
    assert await names(conn, PAL, SignupFilter(assigned='me')) == ['Ana Pal']
    assert await names(conn, PAL, SignupFilter(assigned='nobody')) == ['Dee Pal']
    assert await names(conn, ADMIN, SignupFilter(assigned='me')) == ['Bea Pal']
    assert await names(conn, ADMIN, SignupFilter(assigned='nobody')) == ['Carl Academy', 'Dee Pal']
    shown = (await db.signups_page(conn, PAL, SignupFilter())).rows
    assert [(row['name'], row['assigned_to']) for row in shown] == [
        ('Ana Pal', PAL.email), ('Bea Pal', ADMIN.email), ('Dee Pal', None)]
    assert await db.assignable_users(conn, PAL) == [ADMIN.email, PAL.email], 'no coordinator of other programs'
    assert await db.assignable_users(conn, ADMIN) == [ACADEMY.email, ADMIN.email, PAL.email]


async def test_a_bulk_status_change_writes_one_history_and_one_audit_row_per_record_and_counts_the_skipped(
        conn, signups):
    ana, bea, dee = signups['Ana'], signups['Bea'], signups['Dee']
    assert await db.change_status(conn, PAL, bea, 'contacted'), 'single-row changes still work'
    changed = await db.change_statuses(conn, PAL, [ana, bea, dee], 'contacted', 'called in the morning')
    assert sorted(changed.ids) == sorted([ana, dee]) and changed.skipped == 1, 'Bea is contacted already'
    history = await (await conn.execute(
        'SELECT signup_id::text AS id, status, changed_by, note FROM status_changes WHERE signup_id = ANY(%s::uuid[]) '
        'ORDER BY seq', ([ana, dee],))).fetchall()
    assert sorted(history, key=lambda row: row['id']) == sorted(
        [{'id': ana, 'status': 'contacted', 'changed_by': PAL.email, 'note': 'called in the morning'},
         {'id': dee, 'status': 'contacted', 'changed_by': PAL.email, 'note': 'called in the morning'}],
        key=lambda row: row['id'])
    assert sorted(row['signup'] for row in await audited(conn, 'status_change', [ana, dee])) == sorted([ana, dee])
    moved = await db.change_statuses(conn, PAL, [ana, bea, dee], 'enrolled')
    assert (len(moved.ids), moved.skipped) == (3, 0)
    again = await db.change_statuses(conn, PAL, [ana, bea, dee], 'enrolled')
    assert (again.ids, again.skipped) == ([], 3), 'enrolled does not lead to enrolled'
    with pytest.raises(ValueError):
        await db.change_statuses(conn, PAL, [ana], 'lost')


async def test_a_bulk_change_follows_the_status_rules_do_not_contact_is_skipped_and_duplicate_is_one_at_a_time(
        conn, signups):
    ana, bea = signups['Ana'], signups['Bea']
    assert await db.set_do_not_contact(conn, PAL, bea, 'asked us not to call')
    changed = await db.change_statuses(conn, PAL, [ana, bea], 'contacted')
    assert (changed.ids, changed.skipped) == ([ana], 1), 'the do-not-contact one is skipped, in the UPDATE'
    with pytest.raises(ValueError):
        await db.change_statuses(conn, PAL, [ana], 'duplicate')


async def test_forged_ids_outside_the_viewers_programs_are_refused_by_the_update(conn, signups):
    carl, ana = signups['Carl'], signups['Ana']
    forged = [carl, str(uuid.uuid4()), 'not-a-uuid', "'; DROP TABLE signups; --"]
    assert await db.count_target(conn, PAL, [*forged, ana]) == 1
    changed = await db.change_statuses(conn, PAL, [*forged, ana], 'contacted')
    assert (changed.ids, changed.skipped) == ([ana], 0), 'a forged id is neither changed nor counted'
    assert (await db.assign(conn, PAL, forged, PAL.email)).ids == []
    row = await (await conn.execute('SELECT status, assigned_to FROM signups WHERE id = %s', (carl,))).fetchone()
    assert row == {'status': 'new', 'assigned_to': None}
    assert await audited(conn, 'status_change', [carl]) == [] and await audited(conn, 'assign', [carl]) == []
    assert not await db.anonymize(conn, PAL, ana), 'anonymizing is for admins, in the UPDATE'


async def test_all_matching_runs_the_lists_own_filter_on_the_server(conn, signups):
    await db.assign(conn, PAL, [signups['Ana']], PAL.email)
    unassigned_pal = SignupFilter(program='pal', assigned='nobody')
    assert await db.count_target(conn, PAL, unassigned_pal) == 2
    changed = await db.change_statuses(conn, PAL, unassigned_pal, 'contacted', 'mailed a flyer')
    assert sorted(changed.ids) == sorted([signups['Bea'], signups['Dee']]) and changed.skipped == 0
    everything = await db.assign(conn, PAL, SignupFilter(), PAL.email)
    assert sorted(everything.ids) == sorted([signups['Bea'], signups['Dee']]) and everything.skipped == 1, \
        'Ana was theirs already; Carl is not in their programs, so neither changed nor counted'
    assert await db.count_target(conn, PAL, SignupFilter(program='citizens-academy')) == 0
    assert (await db.change_statuses(conn, PAL, SignupFilter(program='citizens-academy'), 'contacted')).ids == []


async def test_anonymize_replaces_the_personal_fields_and_keeps_what_the_statistics_need(conn, signups):
    carl = signups['Carl']
    await db.change_status(conn, ADMIN, carl, 'contacted', 'spoke to Carl at 314-555-0134')
    await db.store_conflicts(conn, 'lobby-a', [{**record('citizens-academy', 'Carl A.'), 'id': carl}])
    before = await (await conn.execute('SELECT * FROM signups WHERE id = %s', (carl,))).fetchone()
    weeks_before = await db.signups_per_week(conn, ADMIN, datetime.now(UTC) - timedelta(days=7), 'America/Chicago')

    assert not await db.anonymize(conn, ACADEMY, carl), 'a coordinator of the program may not'
    assert await db.anonymize(conn, ADMIN, carl)
    assert not await db.anonymize(conn, ADMIN, carl), 'once'

    after = await (await conn.execute('SELECT * FROM signups WHERE id = %s', (carl,))).fetchone()
    for field in db.PERSONAL_FIELDS:
        assert after[field] == '' and after['body'][field] == '', field
    for field in ('program', 'kiosk', 'created_at', 'received_at', 'status', 'status_changed_at', 'age', 'language'):
        assert after[field] == before[field], field
    assert after['anonymized_at'] is not None
    assert (after['body']['program'], after['body']['created_at']) == ('citizens-academy', before['body']['created_at'])
    text = json.dumps(after['body'], default=str)
    assert 'Carl' not in text and '5550134' not in text and 'family@' not in text  # ('555' may be in a timestamp)
    assert await db.signups_per_week(conn, ADMIN, datetime.now(UTC) - timedelta(days=7), 'America/Chicago') \
        == weeks_before, 'the statistics are the same'
    notes = await (await conn.execute('SELECT note FROM status_changes WHERE signup_id = %s', (carl,))).fetchall()
    assert notes == [{'note': ''}], 'the history stays, its free text goes'
    assert all(str(row['signup_id']) != carl for row in await db.open_conflicts(conn)), 'the conflict held a copy'
    assert await audited(conn, 'anonymize', [carl]) == [{'signup': carl}]
    ana = signups['Ana']
    assert await db.set_do_not_contact(conn, ADMIN, ana, 'his mother says he moved to Denver')
    assert await db.anonymize(conn, ADMIN, ana)
    flag = await (await conn.execute('SELECT do_not_contact_reason, do_not_contact_at FROM signups WHERE id = %s',
                                     (ana,))).fetchone()
    assert flag['do_not_contact_reason'] == '(anonymized)' and flag['do_not_contact_at'], \
        'the flag stays, its free text about the person goes'
    assert await db.anonymized_among(conn, [carl, ana, signups['Bea']]) == {carl, ana}


async def test_a_default_view_is_kept_per_user_and_audited(conn, people):
    assert await db.default_view(conn, PAL.email) == {}
    await db.save_default_view(conn, PAL.email, {'status': 'new', 'assigned': 'me'})
    assert await db.default_view(conn, PAL.email) == {'status': 'new', 'assigned': 'me'}
    assert await db.default_view(conn, ADMIN.email) == {}, 'each user their own'
    await db.save_default_view(conn, PAL.email, {})
    assert await db.default_view(conn, PAL.email) == {}
    rows = await (await conn.execute("SELECT actor, detail FROM audit_log WHERE action = 'default_view_saved' "
                                     'AND actor = %s ORDER BY seq', (PAL.email,))).fetchall()
    assert [row['detail'] for row in rows] == [{'status': 'new', 'assigned': 'me'}, {}]


async def test_a_later_copy_of_an_anonymized_sign_up_is_answered_as_stored_and_dropped(hub_factory, database):
    name = f'lobby-{uuid.uuid4().hex[:8]}'
    token = add_kiosk(database, name)
    hub = hub_factory()
    original = signup(name, name='Rosa Díaz', note='evenings')
    assert send(hub, token, name, [original]).json()['accepted'] == [original['id']]
    connection = await db.connect(database)
    try:
        assert await db.anonymize(connection, ADMIN, original['id'])
        for _ in range(2):  # the kiosk's copy, again and again (its archive, a re-sent batch)
            again = send(hub, token, name, [original])
            assert again.json() == {'accepted': [], 'duplicates': [original['id']], 'conflicts': []}
        conflicts = await (await connection.execute('SELECT count(*) AS n FROM signup_conflicts WHERE signup_id = %s',
                                                    (original['id'],))).fetchone()
        assert conflicts['n'] == 0, 'nothing kept aside for an admin to resolve, ever'
    finally:
        await connection.close()
    [row] = stored(database, original['id'])
    assert row['name'] == '' and row['body']['name'] == '' and row['body']['note'] == ''
