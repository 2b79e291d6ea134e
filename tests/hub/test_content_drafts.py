"""The Content page's domain on a real PostgreSQL: the one draft (saved, replaced, audited), its checks (the kiosk's
model, https), the diff against the published version, publishing from the draft, and the publisher role, which
reads no sign-up whatever rows a mistake leaves behind."""

from __future__ import annotations

import json
import tomllib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.bundle import programs_of
from kiosk.content import ContentError
from kiosk.hub import content, db
from kiosk.hub.auth import token_digest
from kiosk.hub.db import SignupFilter
from tests.support.flood import one_record
from tests.support.processes import hub_command


def factory() -> dict:
    return tomllib.loads(content.FACTORY_PROGRAMS.read_text())


def with_https(data: dict) -> dict:
    for program in data['program']:
        if 'url' in program:
            program['url'] = program['url'].replace('http://', 'https://')
    return data


async def test_before_any_draft_the_page_starts_from_the_factory_content_with_no_change(conn):
    draft = await content.current_draft(conn)
    assert draft.published_version == 0 and draft.saved_by is None
    assert draft.data == factory()
    assert content.draft_diff(draft) == ''


async def test_a_saved_draft_is_the_one_draft_with_who_and_when_and_is_audited(conn):
    data = factory()
    data['program'][0]['es']['title'] = 'Academia de Ciudadanos'
    await content.save_draft(conn, data, 'editor@slmpd.org')
    data['program'][0]['es']['title'] = 'Academia Ciudadana 2027'
    await content.save_draft(conn, data, 'other@slmpd.org')
    rows = await (await conn.execute('SELECT saved_by FROM content_draft')).fetchall()
    assert rows == [{'saved_by': 'other@slmpd.org'}]
    draft = await content.current_draft(conn)
    assert draft.data['program'][0]['es']['title'] == 'Academia Ciudadana 2027' and draft.saved_at is not None
    assert '-title = "Academia Ciudadana"\n+title = "Academia Ciudadana 2027"' in content.draft_diff(draft)
    audited = await (await conn.execute("SELECT actor FROM audit_log WHERE action = 'content_draft_saved' "
                                        'ORDER BY seq')).fetchall()
    assert [row['actor'] for row in audited] == ['editor@slmpd.org', 'other@slmpd.org']


async def test_problems_are_found_field_by_field_phone_and_https_included(conn):
    data = with_https(factory())
    assert content.draft_problems(data) == {}
    data['program'][1]['es']['title'] = '  '
    data['program'][1]['phone'] = '314-555'
    data['program'][0]['url'] = 'http://www.slmpd.org/citizens_academy.shtml'
    assert content.draft_problems(data) == {
        ('program', 1, 'es', 'title'): ['must not be empty'],
        ('program', 1, 'phone'): ['not a phone number'],
        ('program', 0, 'url'): ['must start with https://'],
    }


async def test_a_place_or_link_too_long_for_a_qr_code_a_phone_reads_is_a_problem_at_its_field_and_never_published(
        conn):
    """Nothing limited their length: a long meeting place made a calendar code no phone could read from the screen
    (or none at all), found only by the kiosk after it had the version."""
    data = with_https(factory())
    outreach = next(index for index, program in enumerate(data['program']) if 'meetings' in program)
    data['program'][outreach]['meetings']['location'] = 'Room 12, ' * 100
    data['program'][0]['url'] = 'https://www.slmpd.org/' + 'a' * 1500
    problems = content.draft_problems(data)
    assert problems.keys() == {('program', outreach, 'meetings', 'location'), ('program', 0, 'url')}
    assert problems[('program', outreach, 'meetings', 'location')] == [
        f'too long for a QR code a phone can read from the screen: the calendar event ({language}); shorten the '
        'place or the name' for language in ('en', 'es')]
    assert problems[('program', 0, 'url')] == [
        'too long for a QR code a phone can read from the screen: the link'], 'one code in both languages: once'
    with pytest.raises(ContentError, match=r'program 1 \(citizens-academy\): too long for a QR code'):
        await content.publish(conn, Ed25519PrivateKey.generate(), content.programs_toml(data).encode(),
                              note='long', published_by='editor@slmpd.org')
    assert await db.lock_content_versions(conn) == 0


async def test_a_draft_with_problems_or_without_a_note_is_not_published(conn):
    key = Ed25519PrivateKey.generate()
    await content.save_draft(conn, factory(), 'editor@slmpd.org')  # the factory's URLs are http
    with pytest.raises(content.PublishError, match='problem'):
        await content.publish_draft(conn, key, note='first', published_by='editor@slmpd.org', soak_minutes=0)
    await content.save_draft(conn, with_https(factory()), 'editor@slmpd.org')
    with pytest.raises(content.PublishError, match='release note is required'):
        await content.publish_draft(conn, key, note='  ', published_by='editor@slmpd.org', soak_minutes=0)
    assert await db.lock_content_versions(conn) == 0


async def test_publishing_the_draft_signs_exactly_it_as_the_next_version_and_starts_again_from_it(conn):
    key = Ed25519PrivateKey.generate()
    data = with_https(factory())
    data['program'][0]['es']['title'] = 'Academia Ciudadana de St. Louis'
    await content.save_draft(conn, data, 'editor@slmpd.org')
    saved = (await content.current_draft(conn)).programs
    version, _ = await content.publish_draft(conn, key, note='Spanish title', published_by='editor@slmpd.org',
                                             soak_minutes=0)
    assert version == 1
    newest = await db.newest_content(conn)
    assert programs_of(bytes(newest['bundle'])).decode() == saved
    assert await db.content_draft(conn) is None, 'published: the draft is done with'
    again = await content.current_draft(conn)
    assert again.published_version == 1 and again.data == data and content.draft_diff(again) == ''
    audited = await (await conn.execute("SELECT actor, detail FROM audit_log WHERE action = 'content_published'"))\
        .fetchone()
    assert audited['actor'] == 'editor@slmpd.org' and audited['detail']['note'] == 'Spanish title'


async def test_a_publisher_reads_no_sign_up_even_with_a_stray_program_row(conn):
    await db.add_kiosk(conn, 'lobby', token_digest('t'))
    await db.insert_signups(conn, 'lobby', json.dumps(one_record('lobby')['signups']))
    await db.add_user(conn, 'words@slmpd.org', 'publisher', [], 'no-password')
    await conn.execute("INSERT INTO user_programs (email, program) VALUES ('words@slmpd.org', 'pal')")
    await db.add_user(conn, 'pal@slmpd.org', 'coordinator', ['pal'], 'no-password')
    publisher = await db.viewer(conn, 'words@slmpd.org')
    assert publisher.programs == () and not publisher.sees_all and publisher.publishes
    assert (await db.signups_page(conn, publisher, SignupFilter())).total == 0
    coordinator = await db.viewer(conn, 'pal@slmpd.org')
    assert (await db.signups_page(conn, coordinator, SignupFilter())).total == 1, 'coordinators are as before'
    assert not coordinator.publishes


async def test_the_role_check_takes_publisher_and_nothing_unknown(conn):
    await db.add_user(conn, 'words@slmpd.org', 'publisher', [], 'no-password')
    with pytest.raises(Exception, match='users_role_check'):
        await db.add_user(conn, 'who@slmpd.org', 'editor', [], 'no-password')


async def test_a_draft_saved_by_someone_else_meanwhile_is_not_published_in_its_place(conn):
    key = Ed25519PrivateKey.generate()
    mine = with_https(factory())
    mine['program'][0]['en']['title'] = 'Mine'
    await content.save_draft(conn, mine, 'editor@slmpd.org')
    theirs = with_https(factory())
    theirs['program'][0]['en']['title'] = 'Theirs'
    await content.save_draft(conn, theirs, 'other@slmpd.org')
    with pytest.raises(content.PublishError, match='saved another draft meanwhile'):
        await content.publish_draft(conn, key, note='mine', published_by='editor@slmpd.org', soak_minutes=0,
                                    expected=content.programs_toml(mine))
    assert await db.lock_content_versions(conn) == 0


def test_add_user_takes_the_publisher_role_and_no_programs_for_it(database):
    added = hub_command(database, 'add-user', 'words-cli@slmpd.org', '--role', 'publisher')
    assert added.returncode == 0, added.stderr
    assert 'added (publisher)' in added.stdout
    refused = hub_command(database, 'add-user', 'words2@slmpd.org', '--role', 'publisher', '--program', 'pal')
    assert refused.returncode != 0 and '--program is for coordinators: a publisher sees no sign-ups' in refused.stderr


async def test_program_names_follow_each_publish_keep_a_removed_one_and_survive_an_unreadable_version(conn):
    """One hub process's names across publishes (by any process): renamed at once, a program since removed keeps
    its name, a version that no longer reads takes nothing down, and with nothing published the factory's."""
    titles, key = content.ProgramTitles(), Ed25519PrivateKey.generate()
    await titles.refresh(conn)
    assert titles['pal'] == 'Police Athletic League (PAL)' and list(titles) == [p['slug'] for p in factory()['program']]
    data = factory()
    data['program'].append({**data['program'][0], 'slug': 'seniors',
                            'en': {**data['program'][0]['en'], 'title': 'Seniors Safety Circle'}})
    next(p for p in data['program'] if p['slug'] == 'pal')['en']['title'] = 'PAL Youth Sports'
    await content.publish(conn, key, content.programs_toml(data).encode(), note='added', published_by='cli')
    await titles.refresh(conn)
    assert (titles['pal'], titles['seniors']) == ('PAL Youth Sports', 'Seniors Safety Circle')
    data['program'] = [p for p in data['program'] if p['slug'] != 'seniors']
    await content.publish(conn, key, content.programs_toml(data).encode(), note='removed', published_by='cli')
    await titles.refresh(conn)
    assert titles['seniors'] == 'Seniors Safety Circle', 'its sign-ups and coordinators are still there'
    await conn.execute("ALTER TABLE content_versions DISABLE TRIGGER USER")  # stands in for a model grown stricter
    await conn.execute("UPDATE content_versions SET bundle = %s WHERE version = 1", (b'not a bundle',))
    await content.publish(conn, key, content.programs_toml(data).encode(), note='again', published_by='cli')
    await titles.refresh(conn)
    assert titles['pal'] == 'PAL Youth Sports' and 'seniors' not in titles, 'only the broken version had it'
    await conn.execute('TRUNCATE content_versions CASCADE')
    await titles.refresh(conn)
    assert titles['pal'] == 'Police Athletic League (PAL)'
