import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from nicegui import ui
from nicegui.testing import User

from kiosk.audit import AuditLog
from kiosk.pin import StaffPin
from kiosk.storage.store import SignupStore
from tests.support.tools import mounted

PIN = '4821'


@pytest.fixture
def staff_pin(isolated_settings) -> StaffPin:
    pin = StaffPin(isolated_settings)
    pin.set(PIN)
    return pin


def add_signup(data_dir, **fields) -> dict:
    record = {'id': str(uuid.uuid4()), 'created_at': datetime.now(UTC).isoformat(timespec='seconds'),
              'program': 'pal', 'name': 'Rosa Private', 'participant_name': 'Ana', 'phone': '+13145550177',
              'email': 'rosa@private.example', 'contact_method': 'phone', 'age': 9, 'note': 'after 5',
              'language': 'en', 'consent': True, 'kiosk_id': 'test-kiosk', 'status': 'queued', 'attempts': 0,
              'last_error': None, 'synced_at': None, 'pulled_at': None, **fields}
    SignupStore(data_dir).add(record)
    return record


async def enter_pin(user: User, pin: str) -> None:
    for digit in pin:
        user.find(marker=f'pin-{digit}').click()
    user.find(marker='pin-enter').click()
    await asyncio.sleep(0.05)  # the Unlock handler takes the digits before the next finger comes down


def table_rows(user: User, marker: str = 'signups') -> list[dict]:
    return user.find(kind=ui.table, marker=marker).elements.pop().rows


async def test_without_a_pin_the_console_says_how_to_set_one_and_shows_no_data(user: User, isolated_settings):
    add_signup(isolated_settings)
    await user.open('/staff')
    await user.should_see('No staff PIN is set: run `sudo kiosk set-pin`', retries=30)
    await user.should_not_see(marker='pin-enter')
    await user.should_not_see('Rosa Private')


async def test_the_right_pin_opens_the_console_with_counts_and_the_queued_list(user: User, staff_pin,
                                                                              isolated_settings):
    add_signup(isolated_settings)
    add_signup(isolated_settings, name='Sam Sent', status='synced')
    await user.open('/staff')
    await user.should_not_see('Rosa Private')
    await enter_pin(user, '0000')
    await user.should_see('That PIN is not right. Please try again.', retries=20)
    await enter_pin(user, PIN)
    await user.should_see(marker='count-queued', retries=20)
    await user.should_see('Sync is off (no KIOSK_SYNC_URL).')
    await user.should_see(marker='signups', retries=20)
    rows = table_rows(user)
    assert [(row['name'], row['participant'], row['contact'], row['age']) for row in rows] == \
        [('Rosa Private', 'Ana', '(314) 555-0177 · rosa@private.example · Phone call', 9)]
    assert [entry['action'] for entry in AuditLog(isolated_settings).last()] == ['unlock', 'pin_failed']


async def test_lockout_refuses_even_the_right_pin_and_survives_a_new_page_load(user: User, staff_pin):
    await user.open('/staff')
    for _ in range(5):
        await enter_pin(user, '1111')
    await user.should_see('Too many wrong PINs. The console is locked; try again in 5 minutes.', retries=50)
    await enter_pin(user, PIN)
    await asyncio.sleep(0.3)
    await user.should_see('Too many wrong PINs. The console is locked; try again in 5 minutes.')
    await user.should_not_see(marker='count-queued')
    await user.open('/staff')  # a reload, as after a power cut
    await user.should_see('Too many wrong PINs. The console is locked; try again in 5 minutes.')


async def test_taps_on_an_empty_or_short_pad_are_not_wrong_pins_and_never_lock_staff_out(user: User, staff_pin,
                                                                                        isolated_settings):
    await user.open('/staff')
    for entry in ['', '', '', '', '', '7', '7', '7', '7', '7', '123']:
        await enter_pin(user, entry)
    await user.should_see('A staff PIN has 4 to 8 digits. Please try again.', retries=20)
    await user.should_not_see('Too many wrong PINs', retries=1)
    assert AuditLog(isolated_settings).last() == [], 'nothing was a try at the PIN'
    await enter_pin(user, PIN)
    await user.should_see(marker='count-queued', retries=20)


async def test_a_three_second_press_on_the_logo_opens_the_staff_screen(user: User, staff_pin):
    await user.open('/home')
    user.find(marker='logo').trigger('pointerdown')  # the browser only emits this after a 3 s hold
    await user.should_see('Enter the staff PIN.', retries=30)


@pytest.fixture
def quick_staff_idle(monkeypatch):
    """Settings are read when the `user` fixture starts the app, so this must come before it."""
    monkeypatch.setenv('KIOSK_STAFF_IDLE_SECONDS', '2')


@pytest.fixture
def stick_in(usb_stick, monkeypatch):
    """A USB stick mounted where the console exports (a real tmpfs), before the app starts."""
    monkeypatch.setenv('KIOSK_EXPORT_DIR', str(usb_stick))
    return usb_stick


@pytest.fixture
def left_on_the_sd_card(tmp_path) -> list:
    """CSV files a browser download left in the export folder while no stick was mounted, before the app starts."""
    folder = tmp_path / 'kiosk-export'
    left = [folder / 'signups-20261101-101010.csv', folder / 'signups-20261101-101010 (1).csv']
    for path in left:
        path.write_text('id,name\r\na1,Rosa Private\r\n')
    return left


async def test_staff_idle_asks_then_ends_the_session(quick_staff_idle, user: User, staff_pin):
    await user.open('/staff')
    await enter_pin(user, PIN)
    await user.should_see(marker='count-queued', retries=20)
    await user.should_see('Are you still there?', retries=60)


async def test_lock_ends_the_session_and_is_audited(user: User, staff_pin, isolated_settings):
    await user.open('/staff')
    await enter_pin(user, PIN)
    await user.should_see(marker='lock', retries=20)
    user.find(marker='lock').click()
    assert AuditLog(isolated_settings).last()[0]['action'] == 'lock'


async def test_filters_mark_as_pulled_and_retry_rejected(user: User, staff_pin, isolated_settings):
    first = add_signup(isolated_settings, name='Ann One')
    add_signup(isolated_settings, name='Ben Two', program='outreach', participant_name='', age=None)
    add_signup(isolated_settings, name='Cy Rejected', status='rejected', last_error='HTTP 422')
    await user.open('/staff')
    await enter_pin(user, PIN)
    await user.should_see(marker='signups', retries=20)
    assert {row['name'] for row in table_rows(user)} == {'Ann One', 'Ben Two'}
    user.find(marker='filter-program').elements.pop().set_value('outreach')
    await user.should_see('1–1 of 1', retries=30)
    user.find(marker='filter-program').elements.pop().set_value('all')
    await user.should_see('1–2 of 2', retries=30)
    rows = [row for row in table_rows(user) if row['id'] == first['id']]
    user.find(kind=ui.table, marker='signups').trigger('selection', {'added': True, 'rows': rows, 'keys': []})
    user.find(marker='mark-selected').click()
    await user.should_see('1–1 of 1', retries=30)
    assert next(r for r in SignupStore(isolated_settings).records() if r['id'] == first['id'])['pulled_at']
    user.find(marker='retry-rejected').click()
    await user.should_see('1–2 of 2', retries=30)
    assert SignupStore(isolated_settings).counts() == {'queued': 3, 'synced': 0, 'rejected': 0}
    assert [entry['action'] for entry in AuditLog(isolated_settings).last(2)] == ['retry_rejected', 'mark_pulled']


async def test_the_console_says_when_rejected_sign_ups_are_deleted_and_a_retry_restarts_their_time(
        user: User, staff_pin, isolated_settings):
    add_signup(isolated_settings, name='Hal Rejected', status='rejected', last_error='HTTP 422',
               rejected_at='2026-11-01T09:15:00+00:00')
    await user.open('/staff')
    await enter_pin(user, PIN)
    await user.should_see('Rejected sign-ups are deleted after 90 days.', retries=20)
    user.find(marker='retry-rejected').click()
    await user.should_see(marker='signups', retries=20)
    for _ in range(50):
        (record,) = SignupStore(isolated_settings).records()
        if record['status'] == 'queued':
            break
        await asyncio.sleep(0.05)
    assert record['status'] == 'queued' and record['rejected_at'] is None
    user.find(marker='language-es').click()
    await user.should_see('Las inscripciones rechazadas se borran después de 90 días.', retries=20)


@pytest.fixture
def sixty_queued(isolated_settings) -> list[str]:
    """Sixty queued sign-ups a minute apart, newest last, written before the app starts; returns names, newest first."""
    start = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    records = [add_signup(isolated_settings, name=f'Person {n:02}',
                          created_at=(start + timedelta(minutes=n)).isoformat()) for n in range(60)]
    return [record['name'] for record in reversed(records)]


async def test_the_list_shows_one_page_at_a_time_and_pages_both_ways(sixty_queued, user: User, staff_pin):
    await user.open('/staff')
    await enter_pin(user, PIN)
    await user.should_see('1–25 of 60', retries=20)
    assert [row['name'] for row in table_rows(user)] == sixty_queued[:25]
    user.find(marker='page-next').click()
    await user.should_see('26–50 of 60', retries=20)
    assert [row['name'] for row in table_rows(user)] == sixty_queued[25:50]
    user.find(marker='page-next').click()
    await user.should_see('51–60 of 60', retries=20)
    assert [row['name'] for row in table_rows(user)] == sixty_queued[50:]
    assert user.find(marker='page-next').elements.pop().props.get('disable')
    user.find(marker='page-previous').click()
    await user.should_see('26–50 of 60', retries=20)
    user.find(marker='filter-program').elements.pop().set_value('outreach')  # a new filter starts at its first page
    await user.should_see('No sign-ups listed.', retries=20)
    user.find(marker='filter-program').elements.pop().set_value('all')
    await user.should_see('1–25 of 60', retries=20)
    assert user.find(marker='page-previous').elements.pop().props.get('disable')
    user.find(marker='language-es').click()
    await user.should_see('1–25 de 60', retries=20)


async def test_download_gives_the_filtered_csv_and_offers_to_mark_it(stick_in, user: User, staff_pin,
                                                                     isolated_settings):
    add_signup(isolated_settings, name='Dee Export')
    await user.open('/staff')
    await enter_pin(user, PIN)
    await user.should_see(marker='download', retries=20)
    user.find(marker='download').click()
    response = await user.download.next()
    text = response.content.decode('utf-8-sig')
    assert text.startswith('id,created_at,program,name') and 'Dee Export' in text and '(314) 555-0177' in text
    await user.should_see('Mark the 1 exported as handled', retries=30)
    assert AuditLog(isolated_settings).last()[0] == {**AuditLog(isolated_settings).last()[0],
                                                    'action': 'export_download', 'count': 1}


async def test_save_to_usb_writes_the_csv_there(stick_in, user: User, staff_pin, isolated_settings):
    add_signup(isolated_settings, name='Eve Usb')
    await user.open('/staff')
    await enter_pin(user, PIN)
    await user.should_see(marker='save-usb', retries=20)
    user.find(marker='save-usb').click()
    await user.should_see('Saved 1 sign-up(s) to', retries=30)
    (saved,) = stick_in.glob('signups-*.csv')
    assert 'Eve Usb' in saved.read_text(encoding='utf-8-sig')


async def test_without_a_stick_no_csv_is_offered_and_what_was_left_is_deleted(left_on_the_sd_card, user: User,
                                                                               staff_pin, isolated_settings, tmp_path):
    add_signup(isolated_settings, name='Gil Sdcard')
    assert not any(path.exists() for path in left_on_the_sd_card)  # deleted at start-up
    late = tmp_path / 'kiosk-export' / 'signups-20261102-090000.csv'
    late.write_text('id,name\r\na2,Gil Sdcard\r\n')  # a download that landed on the SD card since
    await user.open('/staff')
    await enter_pin(user, PIN)
    await user.should_see(marker='signups', retries=20)
    await user.should_see("No USB stick is plugged in, so no CSV can be downloaded or saved: the list would stay on "
                          "the kiosk's own memory card.", retries=20)
    await user.should_not_see(marker='download')
    await user.should_not_see(marker='save-usb')
    assert not late.exists()  # deleted before the console offered anything
    with mounted(tmp_path / 'kiosk-export', '-t', 'tmpfs', 'tmpfs'):  # staff plug a stick in
        user.find(marker='check-usb').click()
        await user.should_see(marker='download', retries=20)
        await user.should_not_see(marker='no-usb')


async def test_charts_show_the_right_numbers(user: User, staff_pin, isolated_settings):
    now = datetime.now(UTC)
    for days_ago, program in ((0, 'pal'), (0, 'pal'), (0, 'outreach'), (7, 'pal'), (200, 'pal')):
        add_signup(isolated_settings, program=program, created_at=(now - timedelta(days=days_ago)).isoformat())
    await user.open('/program/pal')
    await user.open('/program/pal')
    await user.open('/program/hmca')  # HMCA opts out of view counting
    await user.open('/staff')
    await enter_pin(user, PIN)
    await user.should_see(marker='chart-signups', retries=20)
    signups = user.find(kind=ui.echart, marker='chart-signups').elements.pop().options
    per_program = {series['name']: series['data'] for series in signups['series']}
    assert len(signups['xAxis']['data']) == 12
    pal = per_program['Police Athletic League (PAL)']
    assert pal[-1] == 2 and sum(pal) == 3  # the 200-day-old one is outside the 12 weeks
    assert sum(per_program['Community Outreach Meetings']) == 1
    views = user.find(kind=ui.echart, marker='chart-views').elements.pop().options
    counted = dict(zip(views['xAxis']['data'], views['series'][0]['data'], strict=True))
    assert counted['Police Athletic League (PAL)'] == 2
    assert 'Homicide Ministers and Community Alliance (HMCA)' not in counted


async def test_visitor_screens_and_healthz_never_show_personal_data(user: User, isolated_settings):
    add_signup(isolated_settings)
    for path in ('/', '/home', '/program/pal', '/program/pal/signup', '/program/hmca', '/staff'):
        await user.open(path)
        await user.should_not_see('Rosa Private')
        await user.should_not_see('rosa@private.example')
        await user.should_not_see('(314) 555-0177')
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url='http://test') as client:
        report = (await client.get('/healthz')).text
    assert report.count('"queued":1') == 1
    for secret in ('Rosa', 'rosa@', '555-0177', '+13145550177', 'Ana'):
        assert secret not in report


async def test_healthz_warns_pin_unset_until_a_pin_is_set(user: User, isolated_settings):
    await user.open('/')
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url='http://test') as client:
        unset = (await client.get('/healthz')).json()
        StaffPin(isolated_settings).set(PIN)
        has_pin = (await client.get('/healthz')).json()
    assert 'pin_unset' in unset['warnings'] and unset['status'] == 'warning', 'nobody can open the console'
    assert 'pin_unset' not in has_pin['warnings'] and has_pin['status'] == 'ok'


def _app():
    from nicegui import app

    return app


@pytest.fixture
def endpoint_in_trouble(isolated_settings, monkeypatch):
    """A real receiver whose first answer is a 500, and one sign-up already waiting, before the app starts."""
    from tests.support.sync_receiver import Receiver

    receiver = Receiver()
    receiver.plan = ['500']
    monkeypatch.setenv('KIOSK_SYNC_URL', receiver.url)
    monkeypatch.setenv('KIOSK_SYNC_TOKEN', 'test-token')
    monkeypatch.setenv('KIOSK_SYNC_INTERVAL_SECONDS', '3600')
    add_signup(isolated_settings, name='Fay Waiting')
    yield receiver
    receiver.stop()


async def test_sync_now_sends_at_once_despite_the_backoff(endpoint_in_trouble, user: User, staff_pin,
                                                          isolated_settings):
    receiver = endpoint_in_trouble
    for _ in range(100):  # the scheduled pass at start-up meets the 500 and backs off for up to 2 hours
        if receiver.requests:
            break
        await asyncio.sleep(0.05)
    await user.open('/staff')
    await enter_pin(user, PIN)
    await user.should_see(marker='sync-now', retries=20)
    user.find(marker='sync-now').click()
    for _ in range(100):
        if SignupStore(isolated_settings).counts()['synced'] == 1:
            break
        await asyncio.sleep(0.05)
    assert [record['name'] for record in receiver.received.values()] == ['Fay Waiting']
    assert SignupStore(isolated_settings).counts()['synced'] == 1
    assert AuditLog(isolated_settings).last()[0]['action'] == 'sync_now'


@pytest.fixture
def hub_unreached_for_40_days(isolated_settings, monkeypatch):
    """A kiosk that polls a hub (sync endpoint and trusted key) whose last answer is stored as 40 days ago."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.bundle import public_key_text
    from tests.support.ports import free_port

    monkeypatch.setenv('KIOSK_SYNC_URL', f'http://127.0.0.1:{free_port()}/api/v1/signups')  # nobody answers
    monkeypatch.setenv('KIOSK_SYNC_TOKEN', 'token')
    monkeypatch.setenv('KIOSK_CONTENT_PUBLIC_KEY', public_key_text(Ed25519PrivateKey.generate()))
    content = isolated_settings / 'content'
    content.mkdir(parents=True, mode=0o700)
    contact = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec='seconds')
    (content / 'state.json').write_text(f'{{"last_hub_contact": "{contact}"}}')
    StaffPin(isolated_settings).set(PIN)


async def test_content_unrefreshed_for_30_days_is_a_quiet_warning_for_staff_only(hub_unreached_for_40_days,
                                                                                  user: User):
    await user.open('/')
    await user.should_see('Citizens Academy')
    await user.should_not_see('The hub has not been reached', retries=3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url='http://test') as client:
        report = (await client.get('/healthz')).json()
    assert 'content_stale' in report['warnings'] and report['status'] == 'ok', 'offline is normal'
    await user.open('/staff')
    await enter_pin(user, PIN)
    await user.should_see(marker='warning-content_stale', retries=30)
    await user.should_see('The hub has not been reached for a long time: this kiosk shows the last content it '
                          'received. Visitors are not affected.')


async def test_content_the_kiosk_could_not_use_is_a_quiet_warning_for_staff_in_their_language(
        hub_unreached_for_40_days, isolated_settings, user: User):
    """The hub's Kiosks page showed a fallback, but the kiosk's own console and /healthz said nothing of it."""
    state = isolated_settings / 'content' / 'state.json'
    state.write_text('{"last_error": "apply_failed: version 3: screen program/pal failed to render: KeyError"}')
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url='http://test') as client:
        report = (await client.get('/healthz')).json()
    assert 'content_refused' in report['warnings'] and report['status'] == 'ok', 'the visitor sees what worked'
    assert 'KeyError' not in str(report), 'the reason is for the hub, from the heartbeat'
    await user.open('/staff')
    await enter_pin(user, PIN)
    await user.should_see(marker='warning-content_refused', retries=30)
    user.find(marker='language-es').click()
    await user.should_see('Este quiosco no pudo usar el contenido más reciente del servidor central, así que muestra '
                          'el que tenía.', retries=30)
