"""The coordinators' hub in a real browser: sign-in, only their program, a status change, CSV, the fleet, axe."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from tests.support.postgres import database, hub_factory, postgres  # noqa: F401 (fixtures)
from tests.support.processes import add_kiosk, hub_command
from tests.support.screens import serious_accessibility_problems, settle, tap_keys

pytestmark = pytest.mark.browser
PASSWORD = 'a long enough password'


def add_user(db_url: str, email: str, role: str, *programs: str) -> None:
    args = ['add-user', email, '--role', role, *[part for program in programs for part in ('--program', program)]]
    assert hub_command(db_url, *args).returncode == 0
    assert hub_command(db_url, 'set-password', email, stdin=PASSWORD + '\n').returncode == 0


def insert(db_url: str, kiosk: str, program: str, name: str, minutes_ago: int = 5) -> str:
    record_id = str(uuid.uuid4())
    created = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    body = {'id': record_id, 'created_at': created.isoformat(), 'program': program, 'name': name,
            'participant_name': '', 'phone': '+13145550134', 'email': '', 'contact_method': 'phone', 'age': None,
            'note': '', 'language': 'en', 'consent': True, 'kiosk_id': kiosk}
    with psycopg.connect(db_url) as conn:
        conn.execute('''INSERT INTO signups (id, kiosk, program, created_at, name, participant_name, phone, email,
                                             contact_method, age, note, language, body)
                        VALUES (%s, %s, %s, %s, %s, '', '+13145550134', '', 'phone', NULL, '', 'en', %s)''',
                     (record_id, kiosk, program, created, name, psycopg.types.json.Jsonb(body)))
    return record_id


def sign_in(page, hub, email: str, password: str = PASSWORD) -> None:
    page.goto(hub.url + '/login')
    page.get_by_label('Email').fill(email)
    page.get_by_label('Password').fill(password)
    page.get_by_role('button', name='Sign in').click()


IDLE_MINUTES = 2  # short, so the idle test waits minutes, not half an hour; every other test acts well within it


@pytest.fixture(scope='module')
def hub(hub_factory, database):  # noqa: F811
    add_user(database, 'chief@slmpd.org', 'admin')
    add_user(database, 'pal@slmpd.org', 'coordinator', 'pal')
    # Admins sign in with a password alone here: two-factor sign-in is test_browser_accounts.py's subject.
    return hub_factory(session_idle_minutes=str(IDLE_MINUTES), require_2fa='none')


def test_sign_in_refuses_a_wrong_password_and_lets_the_right_one_in(page, hub):
    sign_in(page, hub, 'pal@slmpd.org', 'not the password at all')
    page.get_by_text('Wrong email or password.').wait_for()
    assert page.url.endswith('/login?failed=1')
    sign_in(page, hub, 'pal@slmpd.org')
    page.wait_for_url('**/signups')
    page.get_by_role('heading', name='Sign-ups').wait_for()
    cookie = next(c for c in page.context.cookies() if c['name'] == 'kiosk_hub_session')
    assert cookie['httpOnly'] and cookie['secure'] and cookie['sameSite'] == 'Strict'
    page.get_by_role('button', name='Sign out').click()
    page.get_by_text('You are signed out.').wait_for()
    page.goto(hub.url + '/signups')
    page.wait_for_url('**/login')


def test_a_coordinator_sees_only_their_program_and_changes_a_status(page, hub, database):  # noqa: F811
    insert(database, 'lobby-a', 'pal', 'Paula Palmer')
    insert(database, 'lobby-a', 'citizens-academy', 'Carl Academy')
    sign_in(page, hub, 'pal@slmpd.org')
    page.get_by_text('Paula Palmer').wait_for()
    settle_hub(page)
    assert page.get_by_text('Carl Academy').count() == 0
    page.get_by_role('row', name='Paula Palmer').get_by_role('checkbox').click()
    page.get_by_label('New status').click()
    page.get_by_role('option', name='Contacted').click()
    page.get_by_label('Note (optional)').fill('left a voicemail')
    page.get_by_role('button', name='Save status').click()
    page.get_by_text('Status saved.').wait_for()
    page.get_by_role('row', name='Paula Palmer').get_by_text('contacted').wait_for()
    page.get_by_role('row', name='Paula Palmer').get_by_role('checkbox').click()
    page.get_by_label('New status').click()
    page.get_by_role('option', name='Enrolled').wait_for()  # the menu opens with an animation
    assert page.get_by_role('option').all_inner_texts() == ['Enrolled', 'Declined'], 'only the next steps'
    page.keyboard.press('Escape')
    with psycopg.connect(database) as conn:
        history = conn.execute('SELECT c.changed_by, c.note FROM status_changes c JOIN signups s ON s.id = c.signup_id '
                               "WHERE s.name = 'Paula Palmer'").fetchall()
    assert history == [('pal@slmpd.org', 'left a voicemail')]


def test_an_overdue_sign_up_is_red_and_says_overdue(page, hub, database):  # noqa: F811
    insert(database, 'lobby-a', 'pal', 'Olga Overdue', minutes_ago=10 * 24 * 60)
    insert(database, 'lobby-a', 'pal', 'Nina Newcomer')
    sign_in(page, hub, 'pal@slmpd.org')
    page.get_by_text('Olga Overdue').wait_for()
    late, fresh = page.get_by_role('row', name='Olga Overdue'), page.get_by_role('row', name='Nina Newcomer')
    late.get_by_text('Overdue', exact=True).wait_for()
    assert fresh.get_by_text('Overdue', exact=True).count() == 0
    cell_colours = 'row => getComputedStyle(row.querySelector("td")).backgroundColor'
    assert late.evaluate(cell_colours) == 'rgb(253, 236, 236)', 'a red row'
    assert fresh.evaluate(cell_colours) != 'rgb(253, 236, 236)'
    page.get_by_label('Status', exact=True).click()
    page.get_by_role('option', name='Overdue (new after 2 business days)').click()
    page.get_by_role('button', name='Show').click()
    page.get_by_text('Nina Newcomer').wait_for(state='detached')
    assert page.get_by_text('Olga Overdue').count() == 1


def settle_hub(page) -> None:
    page.wait_for_load_state('networkidle')
    page.wait_for_function('window.did_handshake === true')


def test_the_csv_download_is_the_filtered_view_and_formula_safe(page, hub, database):  # noqa: F811
    insert(database, 'lobby-a', 'pal', '=HYPERLINK("evil")')
    sign_in(page, hub, 'chief@slmpd.org')
    settle_hub(page)
    page.get_by_label('Program').click()
    page.get_by_role('option', name='Police Athletic League (PAL)').click()
    page.get_by_role('button', name='Show').click()
    page.get_by_text('=HYPERLINK("evil")').wait_for()
    with page.expect_download() as download:
        page.get_by_role('button', name='Download CSV').click()
    text = download.value.path().read_text(encoding='utf-8-sig')
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {row['program'] for row in rows} == {'pal'}
    assert '\'=HYPERLINK("evil")' in {row['name'] for row in rows}
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'export'").fetchone()[0] >= 1


def test_the_fleet_page_marks_a_silent_kiosk_stale(page, hub, database):  # noqa: F811
    for name, minutes_ago in (('lively-lobby', 1), ('silent-lobby', 90)):
        add_kiosk(database, name)
        with psycopg.connect(database) as conn:
            conn.execute("INSERT INTO heartbeats (kiosk, received_at, body) VALUES "
                         "(%s, now() - make_interval(mins => %s), '{\"queued\": 2, \"warnings\": [], "
                         "\"version\": \"0.1.0\"}')", (name, minutes_ago))
    sign_in(page, hub, 'chief@slmpd.org')
    page.goto(hub.url + '/kiosks')
    silent = page.locator('tr', has_text='silent-lobby')
    silent.wait_for()
    assert 'silent' in silent.inner_text()
    red = 'rgb(160, 0, 0)'
    assert silent.locator('td').first.evaluate('el => getComputedStyle(el).color') == red
    lively = page.locator('tr', has_text='lively-lobby')
    assert lively.locator('td').first.evaluate('el => getComputedStyle(el).color') != red


def test_the_kiosks_page_still_renders_after_a_stolen_token_sends_a_bad_heartbeat(page, hub, database):  # noqa: F811
    token = add_kiosk(database, 'stolen-card-lobby')
    bad = httpx.post(hub.url + '/api/v1/heartbeat', json={'queued': 'x', 'rejected': [], 'warnings': 7},
                     headers={'Authorization': f'Bearer {token}'})
    sign_in(page, hub, 'chief@slmpd.org')
    page.goto(hub.url + '/kiosks')
    page.locator('tr', has_text='stolen-card-lobby').wait_for(timeout=15_000)
    assert page.get_by_text('silent for more than').is_visible()
    assert bad.status_code == 422


def test_no_serious_accessibility_problem_on_any_hub_screen(page, hub):
    page.goto(hub.url + '/login')
    settle_hub(page)
    problems = serious_accessibility_problems(page, 'login')
    sign_in(page, hub, 'chief@slmpd.org')
    # What each screen draws once its queries return (over the socket, after the load settles): axe looks then.
    drawn = {'/signups': re.compile(r'sign-ups? · page'), '/kiosks': 'silent for more than',
             '/activity': re.compile('From a sign-up to its first change of status|No sign-ups in these months'),
             '/conflicts': re.compile('No conflicts to review|Sent again by kiosk'),
             '/audit': re.compile('entries · page')}
    for path, shown in drawn.items():
        page.goto(hub.url + path)
        settle_hub(page)
        page.get_by_text(shown).first.wait_for()
        problems += serious_accessibility_problems(page, path)
    assert problems == []


def test_every_hub_screen_works_under_its_content_security_policy(page, hub):
    """The hub's CSP is strict (self only); NiceGUI, Quasar and ECharts must still run with no violation."""
    violations: list[str] = []
    page.on('console', lambda message: violations.append(message.text)
            if 'Content Security Policy' in message.text else None)
    page.expose_function('reportViolation', lambda text: violations.append(text))
    page.add_init_script("document.addEventListener('securitypolicyviolation', "
                         "event => window.reportViolation(`${event.violatedDirective} ${event.blockedURI}`))")
    answer = page.goto(hub.url + '/login')
    assert "default-src 'self'" in answer.headers['content-security-policy']
    settle_hub(page)
    sign_in(page, hub, 'chief@slmpd.org')
    page.wait_for_url('**/signups')
    for path, visible in (('/signups', 'Download CSV'), ('/kiosks', 'Kiosks'), ('/activity', 'Activity'),
                          ('/audit', 'Audit log')):
        page.goto(hub.url + path)
        settle_hub(page)
        page.get_by_text(visible).first.wait_for()
        page.wait_for_timeout(300)
    page.goto(hub.url + '/activity')
    settle_hub(page)
    page.locator('.nicegui-echart canvas, .nicegui-echart svg').first.wait_for()  # ECharts drew under the CSP
    assert violations == []


def test_a_sign_up_made_at_a_kiosk_appears_in_the_coordinators_list(page, hub, database, kiosk_factory):  # noqa: F811
    kiosk = kiosk_factory(kiosk_id='browser-lobby', sync_url=hub.signups_url,
                          sync_token=add_kiosk(database, 'browser-lobby'), sync_interval_seconds='1')
    page.goto(kiosk.url + '/')
    settle(page)
    page.get_by_role('button', name='Touch to begin').click()
    page.locator('.program-card').nth(3).click()
    page.get_by_role('button', name='Sign me up').click()
    page.get_by_label("Child's first name").click()
    tap_keys(page, 'tomas')
    page.get_by_label("Child's age (5 to 18)").click()
    tap_keys(page, '11')
    page.get_by_label('Your name (the adult we will contact)').click()
    tap_keys(page, 'marta reyes')
    page.get_by_label('Phone number').click()
    tap_keys(page, '3145550111')
    page.get_by_role('button', name='Phone call').click()
    page.get_by_role('checkbox').click()
    page.get_by_role('button', name='Send').click()
    page.get_by_role('heading', name='Thank you, Marta!').wait_for()

    sign_in(page, hub, 'pal@slmpd.org')
    for _ in range(30):
        settle_hub(page)
        if page.get_by_text('Marta Reyes').count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    row = page.get_by_role('row', name='Marta Reyes')
    row.wait_for()
    assert 'Tomas' in row.inner_text() and 'browser-lobby' in row.inner_text()


def test_a_change_of_programs_applies_at_the_next_action_without_a_reload(page, hub, database):  # noqa: F811
    add_user(database, 'moving@slmpd.org', 'coordinator', 'pal')
    insert(database, 'lobby-a', 'citizens-academy', 'Cora Academy')
    sign_in(page, hub, 'moving@slmpd.org')
    page.get_by_role('heading', name='Sign-ups').wait_for()
    settle_hub(page)
    assert page.get_by_text('Cora Academy').count() == 0
    with psycopg.connect(database) as conn:
        conn.execute("INSERT INTO user_programs (email, program) VALUES ('moving@slmpd.org', 'citizens-academy')")
    page.get_by_role('button', name='Show').click()
    page.get_by_text('Cora Academy').wait_for()
    with psycopg.connect(database) as conn:
        conn.execute("DELETE FROM user_programs WHERE email = 'moving@slmpd.org'")
    page.get_by_role('button', name='Show').click()
    page.get_by_text('0 sign-ups').wait_for()
    assert page.get_by_text('Cora Academy').count() == 0


def test_an_untouched_tab_is_signed_out_after_the_idle_minutes(page, hub):
    """The page's timer only looks: it must not keep the session alive (it did, renewing it every minute)."""
    sign_in(page, hub, 'chief@slmpd.org')
    page.get_by_role('heading', name='Sign-ups').wait_for()
    signed_in = time.monotonic()
    # Expired after IDLE_MINUTES; the timer, once a minute, notices within one more minute.
    page.wait_for_url('**/login?idle=1', timeout=(IDLE_MINUTES + 1.5) * 60_000)
    assert time.monotonic() - signed_in >= IDLE_MINUTES * 60 - 5
    page.get_by_text('Your session ended').wait_for()
    page.goto(hub.url + '/signups')
    page.wait_for_url('**/login')


def test_older_and_newer_walk_the_pages_of_a_search_and_back(page, hub, database):  # noqa: F811
    for number in range(1, 56):
        insert(database, 'paging-lobby', 'outreach', f'Pager {number:02d}', minutes_ago=100 + number)
    sign_in(page, hub, 'chief@slmpd.org')
    page.wait_for_url('**/signups')
    settle_hub(page)
    page.get_by_label('Name or phone').fill('Pager')
    page.get_by_role('button', name='Show').click()
    page.get_by_text('55 sign-ups · page 1 of 2').wait_for()
    assert page.get_by_role('row', name='Pager 01').count() == 1
    page.get_by_role('button', name='Older →').click()
    page.get_by_text('55 sign-ups · page 2 of 2').wait_for()
    assert [page.get_by_role('row', name=f'Pager {n}').count() for n in (50, 51, 55)] == [0, 1, 1]
    assert page.get_by_role('button', name='Older →').is_disabled()
    page.get_by_role('button', name='← Newer').click()
    page.get_by_text('55 sign-ups · page 1 of 2').wait_for()
    assert [page.get_by_role('row', name=f'Pager {n}').count() for n in ('01', 50, 51)] == [1, 1, 0]
    assert page.get_by_role('button', name='← Newer').is_disabled()


def test_a_one_time_password_must_be_changed_at_the_first_sign_in(page, hub, database):  # noqa: F811
    added = hub_command(database, 'add-user', 'new.desk@slmpd.org', '--role', 'coordinator', '--program', 'pal')
    one_time = added.stdout.strip().splitlines()[-1]
    sign_in(page, hub, 'new.desk@slmpd.org', one_time)
    page.wait_for_url('**/password')
    page.get_by_role('heading', name='Choose a new password').wait_for()
    page.goto(hub.url + '/signups')  # nothing else before the new password
    page.wait_for_url('**/password')
    page.get_by_label('New password', exact=True).fill('short')
    page.get_by_label('New password again').fill('short')
    page.get_by_role('button', name='Save the new password').click()
    page.get_by_text('at least 12 characters').wait_for()
    page.get_by_label('New password', exact=True).fill(PASSWORD + ' of mine')
    page.get_by_label('New password again').fill(PASSWORD + ' of mine')
    page.get_by_role('button', name='Save the new password').click()
    page.wait_for_url('**/signups')
    page.get_by_role('heading', name='Sign-ups').wait_for()
    page.get_by_role('button', name='Sign out').click()
    page.get_by_text('You are signed out.').wait_for()
    sign_in(page, hub, 'new.desk@slmpd.org', one_time)
    page.get_by_text('Wrong email or password.').wait_for()
    sign_in(page, hub, 'new.desk@slmpd.org', PASSWORD + ' of mine')
    page.wait_for_url('**/signups')


def test_an_admin_sees_a_conflict_side_by_side_and_resolves_it(page, hub, database):  # noqa: F811
    record_id = insert(database, 'lobby-c', 'pal', 'Marta Stored')
    with psycopg.connect(database) as conn:
        (body,) = conn.execute('SELECT body FROM signups WHERE id = %s', (record_id,)).fetchone()
        conn.execute("INSERT INTO signup_conflicts (signup_id, kiosk, body) VALUES (%s, 'lobby-c', %s)",
                     (record_id, psycopg.types.json.Jsonb({**body, 'name': 'Marta Incoming'})))
    sign_in(page, hub, 'pal@slmpd.org')
    page.wait_for_url('**/signups')
    assert page.get_by_role('link', name='Conflicts').count() == 0, 'admins only'
    page.get_by_role('button', name='Sign out').click()
    sign_in(page, hub, 'chief@slmpd.org')
    page.wait_for_url('**/signups')
    page.get_by_role('link', name='Conflicts').click()
    page.wait_for_url('**/conflicts')
    card = page.locator('.q-card', has_text=record_id)
    name_row = card.locator('tr', has_text='Marta Stored')
    name_row.wait_for()
    assert 'Marta Incoming' in name_row.inner_text() and 'yes' in name_row.inner_text()  # aligned on one row
    assert 'lobby-c' in card.inner_text()
    settle_hub(page)
    assert serious_accessibility_problems(page, '/conflicts') == []
    card.get_by_role('button', name='Keep the stored one').click()
    page.locator('.q-card', has_text=record_id).wait_for(state='detached')
    with psycopg.connect(database) as conn:
        (resolution,) = conn.execute("SELECT detail->>'resolution' FROM audit_log WHERE action = 'conflict_resolved' "
                                     "AND actor = 'chief@slmpd.org' AND detail->>'signup' = %s",
                                     (record_id,)).fetchone()
    assert resolution == 'kept_stored'
