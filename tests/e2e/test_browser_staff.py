"""The staff console in a real browser: unlock, see, download, mark as pulled, and locked by idleness."""

import csv
import io
import os
import uuid
from datetime import UTC, datetime

import pytest

from kiosk.audit import AuditLog
from kiosk.pin import StaffPin
from kiosk.storage.store import SignupStore
from tests.support.screens import SCREENSHOTS, open_screen, settle

pytestmark = pytest.mark.browser


def test_staff_unlock_download_mark_pulled_and_idle_lock(page, kiosk_factory, tmp_path, usb_stick):
    data_dir = tmp_path / 'var'
    StaffPin(data_dir).set('4821')
    SignupStore(data_dir).add({
        'id': str(uuid.uuid4()), 'created_at': datetime.now(UTC).isoformat(timespec='seconds'), 'program': 'pal',
        'name': 'Rosa Díaz', 'participant_name': 'Ana', 'phone': '+13145550134', 'email': '', 'age': 9,
        'contact_method': 'phone', 'note': '=1+1', 'language': 'es', 'consent': True, 'kiosk_id': 'e2e',
        'status': 'queued', 'attempts': 0, 'last_error': None, 'synced_at': None, 'pulled_at': None})
    kiosk = kiosk_factory(data_dir=data_dir, staff_idle_seconds='4', idle_countdown_seconds='2',
                          export_dir=str(usb_stick))

    open_screen(page, kiosk.url + '/home')
    logo = page.locator('.kiosk-header .logo')
    logo.dispatch_event('pointerdown')
    page.wait_for_timeout(1000)
    logo.dispatch_event('pointerup')  # a short tap does nothing
    page.wait_for_timeout(2500)
    assert page.url.endswith('/home')
    logo.dispatch_event('pointerdown')  # a 3-second press opens the staff screen
    page.wait_for_url('**/staff', timeout=6_000)
    page.get_by_text('Enter the staff PIN.').wait_for()
    assert 'Rosa' not in page.content()

    for digit in '4821':
        page.locator(f'.pin-pad [data-key="{digit}"]').click()
    page.get_by_role('button', name='Unlock').click()
    page.get_by_role('cell', name='Rosa Díaz').wait_for()
    assert page.get_by_role('cell', name='(314) 555-0134 · Phone call').is_visible()

    with page.expect_download() as download:
        page.get_by_role('button', name='Download CSV').click()
    text = download.value.path().read_bytes().decode('utf-8')
    assert text.startswith('\ufeff')
    (row,) = csv.DictReader(io.StringIO(text.lstrip('\ufeff')))
    assert (row['name'], row['participant_name'], row['phone'], row['note']) == \
        ('Rosa Díaz', 'Ana', '(314) 555-0134', "'=1+1")

    page.get_by_role('button', name='Mark the 1 exported as handled').click()
    page.get_by_text('No sign-ups listed.').wait_for()
    (record,) = SignupStore(data_dir).records()
    assert record['pulled_at'] and record['status'] == 'queued'

    page.get_by_text('Are you still there?').wait_for(timeout=15_000)
    page.wait_for_url(kiosk.url + '/', timeout=15_000)
    settle(page)
    assert 'Rosa' not in page.content() and 'Staff console' not in page.content()
    page.go_back()
    settle(page)
    page.get_by_text('Enter the staff PIN.').wait_for()  # locked again: the session ended with the page
    assert 'Rosa' not in page.content()
    actions = [entry['action'] for entry in AuditLog(data_dir).last()]
    assert actions[:3] == ['mark_pulled', 'export_download', 'unlock']


def test_screenshots_of_the_pin_pad_and_the_console_for_the_staff_page(page, kiosk_factory, tmp_path):
    """`make screenshots` keeps these in docs/screenshots/ for docs/staff.md; the sign-ups in them are made up."""
    folder = SCREENSHOTS if os.environ.get('KIOSK_UPDATE_SCREENSHOTS') else tmp_path
    data_dir = tmp_path / 'var'
    StaffPin(data_dir).set('4821')
    store = SignupStore(data_dir)
    for name, program, phone in (('Rosa Díaz', 'pal', '+13145550134'), ('James Carter', 'citizens-academy',
                                                                         '+13145550178')):
        store.add({'id': str(uuid.uuid4()), 'created_at': datetime.now(UTC).isoformat(timespec='seconds'),
                   'program': program, 'name': name, 'participant_name': 'Ana' if program == 'pal' else '',
                   'phone': phone, 'email': '', 'age': 9 if program == 'pal' else None, 'contact_method': 'phone',
                   'note': '', 'language': 'en', 'consent': True, 'kiosk_id': 'e2e', 'status': 'queued',
                   'attempts': 0, 'last_error': None, 'synced_at': None, 'pulled_at': None})
    kiosk = kiosk_factory(data_dir=data_dir)
    page.set_viewport_size({'width': 1280, 'height': 800})
    open_screen(page, kiosk.url + '/staff')
    page.get_by_text('Enter the staff PIN.').wait_for()
    page.screenshot(path=folder / 'staff-pin.png')
    for digit in '4821':
        page.locator(f'.pin-pad [data-key="{digit}"]').click()
    page.get_by_role('button', name='Unlock').click()
    page.get_by_role('cell', name='James Carter').wait_for()
    # The value sits in a span that hides its overflow: a line shorter than the type cuts off g, p and y.
    clipped = page.locator('.q-select .q-field__native span').evaluate_all(
        'els => els.filter(e => parseFloat(getComputedStyle(e).lineHeight) < parseFloat(getComputedStyle(e).fontSize))'
        '.map(e => e.textContent)')
    assert clipped == [], 'the filters show their whole value, descenders included'
    page.screenshot(path=folder / 'staff-console.png', full_page=True)
    assert all((folder / f'staff-{name}.png').stat().st_size > 10_000 for name in ('pin', 'console'))
