"""The Content page in NiceGUI's user simulation of the real hub app on a real PostgreSQL: who may open it, a field
error in Spanish as it is typed, the meeting rule's next four dates, saving, and publishing (refused without a note
or with a problem)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from nicegui.testing.user_simulation import user_simulation

from kiosk.hub.auth import SESSION_COOKIE
from kiosk.hub.content import write_signing_key
from kiosk.i18n import meeting_when
from kiosk.meetings import MeetingRule
from tests.support.simulation import open_sessions

HUB_MAIN = Path(__file__).with_name('hub_main.py')


@pytest.fixture
async def sessions(database, conn, monkeypatch, tmp_path):
    """Signed-in sessions by role, a signing key, and the env the simulated hub reads."""
    tokens = await open_sessions(database, conn, monkeypatch, 'content_draft, content_versions',
                             (('chief@slmpd.org', 'admin', []), ('words@slmpd.org', 'publisher', []),
                              ('pal@slmpd.org', 'coordinator', ['pal'])))
    key_file = tmp_path / 'hub-signing.key'
    write_signing_key(key_file)
    monkeypatch.setenv('KIOSK_HUB_SIGNING_KEY_FILE', str(key_file))
    return tokens


def signed_in(user, token: str) -> None:
    user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={token}'


async def open_content(user) -> None:
    await user.open('/content')
    await user.should_see(marker='publish', retries=100)  # the whole form is drawn


def field(user, marker: str):
    return user.find(marker=marker).elements.pop()


def make_https(user) -> None:
    for index in range(5):
        found = user.find(marker=f'url-{index}').elements
        if found and (found_url := next(iter(found)).value):
            user.find(marker=f'url-{index}').clear().type(found_url.replace('http://', 'https://'))


async def test_publishers_and_admins_open_the_content_page_coordinators_do_not(sessions):
    async with user_simulation(main_file=HUB_MAIN) as user:
        signed_in(user, sessions['publisher'])
        for path in ('/signups', '/kiosks', '/activity', '/audit'):  # no sign-up, no fleet: sent to Content
            assert (await user.http_client.get(path)).headers['location'] == '/content'
        await user.open('/content')
        await user.should_see('No draft saved yet: this is the factory content')
        await user.should_not_see('Sign-ups')
        await user.should_see('My account')
        signed_in(user, sessions['coordinator'])
        assert (await user.http_client.get('/content')).headers['location'] == '/signups'
        assert (await user.http_client.get('/preview')).headers['location'] == '/signups'
        signed_in(user, sessions['admin'])
        await user.open('/content')
        await user.should_see('No draft saved yet')


async def test_a_spanish_field_shows_its_error_as_it_is_typed_and_the_count_at_the_top(sessions):
    async with user_simulation(main_file=HUB_MAIN) as user:
        signed_in(user, sessions['publisher'])
        await open_content(user)
        make_https(user)
        assert field(user, 'problems').text == ''
        user.find(marker='es-title-1').clear()
        assert field(user, 'es-title-1').error == 'must not be empty'
        assert field(user, 'en-title-1').error is None
        assert field(user, 'problems').text == '1 problem(s) to fix before this draft can be published.'
        user.find(marker='es-title-1').type('Exploradores')
        assert field(user, 'es-title-1').error is None
        user.find(marker='phone-1').clear().type('314-555')
        assert field(user, 'phone-1').error == 'not a phone number'
        user.find(marker='url-0').clear().type('http://www.slmpd.org/citizens_academy.shtml')
        assert field(user, 'url-0').error == 'must start with https://'


async def test_the_meeting_rule_shows_its_next_four_dates_and_follows_an_edit(sessions):
    async with user_simulation(main_file=HUB_MAIN) as user:
        signed_in(user, sessions['publisher'])
        await open_content(user)
        with_meetings = 4  # the outreach program, the factory content's only one with meetings
        rule = MeetingRule(months='3,6,9,12', day='2nd thu', hour=19, summary_en='x', summary_es='x', location='x')
        dates = '; '.join(meeting_when(start, 'en') for start in rule.next_meetings(datetime.now(UTC), 4))
        assert field(user, f'meeting-dates-{with_meetings}').text == f'Next four: {dates}'
        user.find(marker=f'day-{with_meetings}').clear().type('1st mon')
        moved = rule.model_copy(update={'day': '1st mon'})
        moved.__dict__.pop('trigger', None)  # the cached trigger belongs to the copied rule
        dates = '; '.join(meeting_when(start, 'en') for start in moved.next_meetings(datetime.now(UTC), 4))
        assert field(user, f'meeting-dates-{with_meetings}').text == f'Next four: {dates}'
        user.find(marker=f'day-{with_meetings}').clear().type('every blue moon')
        assert field(user, f'day-{with_meetings}').error is None, 'the rule as a whole is wrong, shown at the group'
        assert field(user, f'meeting-dates-{with_meetings}').text == \
            'The next four dates show once the rule is complete.'


async def test_publishing_is_refused_with_a_problem_or_without_a_note_and_then_audited(sessions, database):
    async with user_simulation(main_file=HUB_MAIN) as user:
        signed_in(user, sessions['publisher'])
        await open_content(user)
        user.find(marker='es-title-0').clear().type('Academia Ciudadana de St. Louis')
        user.find(marker='publish').click()
        await user.should_see('Not published: the draft has problems (shown under their fields).')
        make_https(user)
        assert '+title = "Academia Ciudadana de St. Louis"' in field(user, 'diff').text
        user.find(marker='publish').click()
        await user.should_see('Not published: a release note is required.')
        user.find(marker='note').type('Spanish title of the Citizens Academy')
        user.find(marker='publish').click()
        await user.should_see('Published as version 1: the kiosks take it at their next poll.')
        assert field(user, 'diff').text == 'No change from the published version.'
    with psycopg.connect(database) as conn:
        assert conn.execute('SELECT version, published_by, note FROM content_versions').fetchall() == \
            [(1, 'words@slmpd.org', 'Spanish title of the Citizens Academy')]
        actions = [row[0] for row in conn.execute("SELECT action FROM audit_log WHERE actor = 'words@slmpd.org' "
                                                  'ORDER BY seq').fetchall()]
        assert actions == ['content_draft_saved', 'content_published', 'rollout_started']  # the same path as the CLI


async def test_a_saved_draft_says_who_saved_it_and_comes_back_on_the_next_visit(sessions):
    async with user_simulation(main_file=HUB_MAIN) as user:
        signed_in(user, sessions['publisher'])
        await open_content(user)
        user.find(marker='es-summary-2').clear().type('Nuevo resumen')
        await user.should_see('You have unsaved changes.')
        user.find(marker='save-draft').click()
        await user.should_see('Draft saved by words@slmpd.org')
        signed_in(user, sessions['admin'])
        await open_content(user)
        await user.should_see('Draft saved by words@slmpd.org')
        assert field(user, 'es-summary-2').value == 'Nuevo resumen'
