"""Follow-up on a real PostgreSQL and a real SMTP server: what is overdue in the list and the digests (business days,
fixed dates), escalation in the admins' digest only, each count scoped to the viewer, and the time to first contact
from a seeded status history, to the minute."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk.hub import db
from kiosk.hub.db import SignupFilter, Viewer
from kiosk.hub.follow_up import FollowUp
from kiosk.hub.mail import Mailer
from tests.hub.test_mail import PERSONAL, PROGRAMS, add_user, body, receive, record, settings_for

CHICAGO = ZoneInfo('America/Chicago')
FOLLOW_UP = FollowUp(CHICAGO, frozenset(), days=2, escalate_days=5)
ADMIN = Viewer('chief@slmpd.org', 'admin')
PAL_COORDINATOR = Viewer('pal@slmpd.org', 'coordinator', ('pal',))
PAL, HMCA = PROGRAMS['pal'], PROGRAMS['hmca']


def at(day: int, hour: int = 0, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CHICAGO)


NOW = at(9, 10)  # Wednesday 9 December 2026, 10 am


def made(program: str, first: str, created: datetime) -> dict:
    return {**record(program, first), 'created_at': created.isoformat()}


async def contact(pool, signup: dict, *moves: tuple[str, datetime]) -> None:
    """A status history with chosen times, as change_status would have written it then."""
    async with pool.connection() as conn:
        for status, when in moves:
            await conn.execute('UPDATE signups SET status = %s, status_changed_at = %s WHERE id = %s',
                               (status, when, signup['id']))
            await conn.execute('INSERT INTO status_changes (signup_id, status, changed_by, changed_at) '
                               "VALUES (%s, %s, 'pal@slmpd.org', %s)", (signup['id'], status, when))


@pytest.fixture
async def waiting(pool) -> dict[str, dict]:
    """As of Wednesday 9 December: PAL has one escalated, one overdue from Friday, one from Monday that is not yet
    overdue and one contacted; HMCA one escalated."""
    signups = {'escalated': made('pal', 'Ana', at(30, 11, month=11)),  # Monday 30 November
               'friday': made('pal', 'Bea', at(4, 15)),
               'monday': made('pal', 'Cleo', at(7, 9)),
               'contacted': made('pal', 'Dora', at(3, 9)),
               'hmca': made('hmca', 'Hope', at(1, 9))}
    await receive(pool, 'lobby-a', *signups.values())
    await contact(pool, signups['contacted'], ('contacted', at(8, 9)))
    return signups


async def test_the_overdue_filter_finds_what_is_still_new_after_two_business_days_within_scope(pool, waiting):
    overdue = SignupFilter(overdue_before=FOLLOW_UP.overdue_before(NOW))
    async with pool.connection() as conn:
        admin = await db.signups_page(conn, ADMIN, overdue)
        coordinator = await db.signups_page(conn, PAL_COORDINATOR, overdue)
        asked_for_hmca = await db.signups_page(conn, PAL_COORDINATOR, SignupFilter(
            program='hmca', overdue_before=FOLLOW_UP.overdue_before(NOW)))
        tuesday = await db.signups_page(conn, ADMIN, SignupFilter(overdue_before=FOLLOW_UP.overdue_before(at(8, 23))))
    assert [row['name'] for row in admin.rows] == ['Bea Quintero', 'Hope Quintero', 'Ana Quintero']
    assert [row['name'] for row in coordinator.rows] == ['Bea Quintero', 'Ana Quintero'] and coordinator.total == 2
    assert asked_for_hmca.total == 0
    assert [row['name'] for row in tuesday.rows] == ['Hope Quintero', 'Ana Quintero'], 'Friday is not late on Tuesday'


async def test_overdue_and_escalated_counts_never_include_another_programs(pool, waiting):
    async with pool.connection() as conn:
        admin = await db.overdue_counts(conn, ADMIN, FOLLOW_UP.overdue_before(NOW), FOLLOW_UP.escalated_before(NOW))
        coordinator = await db.overdue_counts(conn, PAL_COORDINATOR, FOLLOW_UP.overdue_before(NOW),
                                              FOLLOW_UP.escalated_before(NOW))
        hmca_only = await db.overdue_counts(conn, Viewer('h@slmpd.org', 'coordinator', ('hmca',)),
                                            FOLLOW_UP.overdue_before(NOW), FOLLOW_UP.escalated_before(NOW))
    assert admin == [{'program': 'hmca', 'overdue': 1, 'escalated': 1}, {'program': 'pal', 'overdue': 2,
                                                                         'escalated': 1}]
    assert coordinator == [{'program': 'pal', 'overdue': 2, 'escalated': 1}]
    assert hmca_only == [{'program': 'hmca', 'overdue': 1, 'escalated': 1}]


async def test_the_digest_counts_overdue_per_program_and_only_the_admins_lists_escalation(database, pool, smtp,
                                                                                         waiting):
    await add_user(pool, 'chief@slmpd.org', 'admin', (), 'daily')
    await add_user(pool, 'pal@slmpd.org', 'coordinator', ('pal',), 'daily')
    mailer = Mailer(settings_for(database, smtp.url), pool)
    assert await mailer.queue_digests(now=NOW) == 2
    await mailer.send_due()

    [chief] = smtp.to('chief@slmpd.org')
    assert chief['Subject'] == 'Kiosk hub daily digest: 5 new, 4 waiting, 3 overdue'
    text = body(chief)
    assert f'Overdue (still new after 2 business days):\n    {HMCA}: 1\n    {PAL}: 2\n' in text
    assert f'Escalated to admins (still new after 5 business days):\n    {HMCA}: 1\n    {PAL}: 1\n' in text

    [pal] = smtp.to('pal@slmpd.org')
    assert pal['Subject'] == 'Kiosk hub daily digest: 4 new, 3 waiting, 2 overdue'
    assert f'Overdue (still new after 2 business days):\n    {PAL}: 2\n' in body(pal)
    assert 'Escalated' not in body(pal) and 'HMCA' not in body(pal)
    assert 'See the overdue ones: ' in body(pal) and '/signups?status=overdue\n' in body(pal)

    for message in smtp.received:
        assert not any(personal in message['Subject'] + body(message) for personal in PERSONAL)


async def test_with_mail_names_the_admins_digest_names_the_escalated_by_first_name_only(database, pool, smtp,
                                                                                       waiting):
    await add_user(pool, 'chief@slmpd.org', 'admin', (), 'daily')
    async with pool.connection() as conn:  # nothing received today: the digest is about what waits
        await conn.execute("UPDATE users SET notified_until = now() + interval '1 minute'")
    mailer = Mailer(settings_for(database, smtp.url, mail_names=True), pool)
    assert await mailer.queue_digests(now=NOW) == 1
    await mailer.send_due()
    text = body(smtp.received[0])
    assert f'    First names:\n        Ana ({PAL})\n        Hope ({HMCA})\n' in text
    assert 'Quintero' not in text and '555' not in text


async def test_nothing_overdue_is_said_plainly(database, pool, smtp):
    await add_user(pool, 'pal@slmpd.org', 'coordinator', ('pal',), 'daily')
    await receive(pool, 'lobby-a', made('pal', 'Ana', at(9, 8)))
    mailer = Mailer(settings_for(database, smtp.url), pool)
    await mailer.queue_digests(now=NOW)
    await mailer.send_due()
    [pal] = smtp.received
    assert pal['Subject'] == 'Kiosk hub daily digest: 1 new, 1 waiting'
    assert 'None is overdue (still new after 2 business days).' in body(pal)


async def test_time_to_first_contact_per_program_and_month_from_the_status_history(pool):
    """November (business days; Veterans Day is no holiday here): first contacts after 1 h, 24 h, 72 h (late:
    Monday's window ends Wednesday evening) and 96 h (in time: Friday's ends Tuesday evening), one never
    contacted; in December one still inside its window. HMCA's are another coordinator's. A sign-up closed as a
    duplicate of Ana's is the same person, not a contact: it is left out."""
    one_hour = made('pal', 'Ana', at(2, 9, month=11))
    next_day = made('pal', 'Bea', at(2, 9, month=11))
    three_days = made('pal', 'Cleo', at(2, 9, month=11))
    friday = made('pal', 'Dora', at(6, 12, month=11))
    never = made('pal', 'Eva', at(16, 9, month=11))
    december = made('pal', 'Fay', at(8, 9))
    hmca = made('hmca', 'Hope', at(2, 9, month=11))
    ana_again = made('pal', 'Ana', at(2, 9, 5, month=11))
    await receive(pool, 'lobby-a', one_hour, next_day, three_days, friday, never, december, hmca, ana_again)
    await contact(pool, ana_again, ('duplicate', at(2, 9, 10, month=11)))
    await contact(pool, one_hour, ('contacted', at(2, 10, month=11)), ('enrolled', at(2, 11, month=11)))
    await contact(pool, next_day, ('contacted', at(3, 9, month=11)))
    await contact(pool, three_days, ('contacted', at(5, 9, month=11)))
    await contact(pool, friday, ('contacted', at(10, 12, month=11)))
    await contact(pool, hmca, ('contacted', at(2, 9, 30, month=11)))
    deadlines = FOLLOW_UP.deadlines(date(2026, 11, 1) + timedelta(days=n) for n in range(39))  # to 9 December

    async with pool.connection() as conn:
        coordinator = await db.first_contact_figures(conn, PAL_COORDINATOR, deadlines, NOW, 'America/Chicago')
        admin = await db.first_contact_figures(conn, ADMIN, deadlines, NOW, 'America/Chicago')

    assert coordinator == [
        {'program': 'pal', 'month': date(2026, 12, 1), 'signups': 1, 'contacted': 0, 'median': None, 'p90': None,
         'in_time': 0, 'decided': 0},
        {'program': 'pal', 'month': date(2026, 11, 1), 'signups': 5, 'contacted': 4,
         'median': timedelta(hours=48),  # halfway between 24 h and 72 h
         'p90': timedelta(hours=88, minutes=48),  # 72 h + 0.7 x 24 h
         'in_time': 3, 'decided': 5}]
    assert [(row['program'], row['month']) for row in admin] == [
        ('pal', date(2026, 12, 1)), ('hmca', date(2026, 11, 1)), ('pal', date(2026, 11, 1))]
    assert admin[1]['median'] == timedelta(minutes=30) and admin[1]['in_time'] == admin[1]['decided'] == 1


async def test_a_sign_up_made_late_at_night_counts_by_its_local_day_for_month_and_window(pool):
    """Local dates decide both the month and the window: 23:30 on Monday 30 November is 05:30 UTC on Tuesday
    1 December. Monday's window ends on Wednesday evening (Tuesday's would end on Thursday's)."""
    late = made('pal', 'Ana', at(30, 23, 30, month=11))
    await receive(pool, 'lobby-a', late)
    await contact(pool, late, ('contacted', at(3, 10)))
    deadlines = FOLLOW_UP.deadlines(date(2026, 11, 1) + timedelta(days=n) for n in range(39))
    async with pool.connection() as conn:
        [row] = await db.first_contact_figures(conn, ADMIN, deadlines, NOW, 'America/Chicago')
    assert (row['month'], row['in_time'], row['decided']) == (date(2026, 11, 1), 0, 1)
    assert datetime.fromisoformat(late['created_at']).astimezone(UTC).date() == date(2026, 12, 1)
