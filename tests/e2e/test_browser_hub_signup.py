"""One sign-up's page in a real browser: reached from the list's Open link, the list's badges as Vue draws them,
the red do-not-contact banner, the possible duplicates' links, the XLSX download, and axe."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from openpyxl import load_workbook

from tests.support.postgres import database, hub_factory, postgres  # noqa: F401 (fixtures)
from tests.support.processes import hub_command
from tests.support.screens import serious_accessibility_problems

pytestmark = pytest.mark.browser
PASSWORD = 'a long enough password'


def insert(db_url: str, program: str, name: str, phone: str, days_ago: int) -> str:
    record_id = str(uuid.uuid4())
    with psycopg.connect(db_url) as conn:
        conn.execute('''INSERT INTO signups (id, kiosk, program, created_at, name, participant_name, phone, email,
                                             contact_method, age, note, language, body)
                        VALUES (%s, 'lobby-a', %s, %s, %s, '', %s, '', 'phone', NULL, '', 'en', '{}')''',
                     (record_id, program, datetime.now(UTC) - timedelta(days=days_ago), name, phone))
    return record_id


@pytest.fixture(scope='module')
def hub(hub_factory, database):  # noqa: F811
    assert hub_command(database, 'add-user', 'pal@slmpd.org', '--role', 'coordinator', '--program', 'pal')\
        .returncode == 0
    assert hub_command(database, 'set-password', 'pal@slmpd.org', stdin=PASSWORD + '\n').returncode == 0
    return hub_factory()


def sign_in(page, hub) -> None:
    page.goto(hub.url + '/login')
    page.get_by_label('Email').fill('pal@slmpd.org')
    page.get_by_label('Password').fill(PASSWORD)
    page.get_by_role('button', name='Sign in').click()
    page.wait_for_url('**/signups')


def settle(page) -> None:
    page.wait_for_load_state('networkidle')
    page.wait_for_function('window.did_handshake === true')


def test_from_the_list_to_a_flagged_sign_up_and_its_duplicate(page, hub, database):  # noqa: F811
    first = insert(database, 'pal', 'Nora First', '+13145551111', 3)
    again = insert(database, 'pal', 'Nora Again', '+13145551111', 1)
    insert(database, 'citizens-academy', 'Nora Academy', '+13145551111', 0)
    with psycopg.connect(database) as conn:
        conn.execute("UPDATE signups SET do_not_contact_reason = 'asked not to be called', "
                     "do_not_contact_by = 'pal@slmpd.org', do_not_contact_at = now() WHERE id = %s", (first,))
    sign_in(page, hub)
    settle(page)
    flagged_row = page.get_by_role('row', name='Nora First')
    flagged_row.get_by_text('Do not contact', exact=True).wait_for()
    assert flagged_row.get_by_text('Possible duplicate (1)').is_visible(), 'the Academy one is not counted'
    page.get_by_role('row', name='Nora Again').get_by_text('Do not contact (same phone or email)').wait_for()
    page.get_by_role('link', name='Open the sign-up of Nora First').click()
    page.wait_for_url(f'**/signups/{first}')
    settle(page)
    banner = page.locator('.hub-dnc').first
    banner.get_by_text('asked not to be called').wait_for()
    assert banner.evaluate('el => getComputedStyle(el).borderLeftColor') == 'rgb(160, 0, 0)'
    assert page.get_by_role('link', name='Sign-ups').first.get_attribute('aria-current') == 'page'
    assert serious_accessibility_problems(page, '/signups/{id}') == []
    page.get_by_role('link', name='Nora Again').click()
    page.wait_for_url(f'**/signups/{again}')
    page.get_by_text('Do not contact: another sign-up with the same phone or email is marked').wait_for()
    assert page.get_by_text('Nora Academy').count() == 0


def test_the_xlsx_download_holds_the_filtered_view_with_text_phones(page, hub, database):  # noqa: F811
    insert(database, 'pal', 'Olga Sheet', '+13145552222', 0)
    sign_in(page, hub)
    settle(page)
    page.get_by_text('Olga Sheet').wait_for()
    with page.expect_download() as download:
        page.get_by_role('button', name='Download XLSX').click()
    assert download.value.suggested_filename.endswith('.xlsx')
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active  # a temporary name, no .xlsx
    header = [cell.value for cell in sheet[1]]
    [olga] = [row for row in sheet.iter_rows(min_row=2) if row[header.index('name')].value == 'Olga Sheet']
    phone = olga[header.index('phone')]
    assert (phone.value, phone.data_type) == ('(314) 555-2222', 's')
    assert olga[header.index('created_at')].is_date
    assert {row[header.index('program')].value for row in sheet.iter_rows(min_row=2)} == {'pal'}
