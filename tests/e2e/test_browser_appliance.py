"""The appliance as a visitor and IT see it: the closed-for-the-night screen, and logs free of personal data."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ..sync_receiver import Receiver
from .test_browser_screens import SMALL_TARGETS, open_screen, serious_accessibility_problems
from .test_browser_signup import tap_keys

pytestmark = pytest.mark.browser


def window_around_now(minutes_before: int, minutes_after: int) -> str:
    """A KIOSK_SLEEP window placed on the kiosk's own clock, so the test is at night whatever the hour."""
    now = datetime.now(ZoneInfo('America/Chicago'))
    start, end = now - timedelta(minutes=minutes_before), now + timedelta(minutes=minutes_after)
    return f'{start:%H:%M}-{end:%H:%M}'


def test_at_night_the_kiosk_is_dark_and_a_touch_wakes_it_for_one_visit(page, kiosk_factory):
    kiosk = kiosk_factory(sleep=window_around_now(60, 60), idle_seconds='3', idle_countdown_seconds='3')
    open_screen(page, kiosk.url + '/')
    page.get_by_role('heading', name="We're closed for the night").wait_for()
    page.get_by_role('heading', name='Estamos cerrados por la noche').wait_for()
    assert page.get_by_text('(314) 231-1212').is_visible()
    assert page.get_by_text('Next community meeting:').is_visible()
    background = page.evaluate("getComputedStyle(document.querySelector('.night')).backgroundColor")
    assert sum(int(part) for part in background[4:-1].split(',')) < 3 * 40, f'not dark: {background}'
    assert serious_accessibility_problems(page, 'night screen') == []
    assert page.evaluate(SMALL_TARGETS) == []

    page.get_by_role('button', name='Toque para ver los programas').click()
    page.get_by_role('heading', name='Community programs').wait_for()
    page.get_by_text('Are you still there?').wait_for(timeout=10_000)
    page.get_by_role('heading', name="We're closed for the night").wait_for(timeout=15_000)


def test_by_day_the_same_kiosk_invites_people_in(page, kiosk_factory):
    kiosk = kiosk_factory(sleep=window_around_now(-120, 240))  # the night starts in two hours
    open_screen(page, kiosk.url + '/')
    page.get_by_role('button', name='Touch to begin').wait_for()
    assert page.get_by_text("We're closed for the night").count() == 0


def test_a_whole_run_logs_no_name_phone_email_or_token(page, kiosk_factory):
    receiver = Receiver(token='tok-7Hq2-secret')
    try:
        kiosk = kiosk_factory(sync_url=receiver.url, sync_token=receiver.token, sync_interval_seconds='1',
                              log_level='debug')
        open_screen(page, kiosk.url + '/')
        page.get_by_role('button', name='Touch to begin').click()
        page.locator('.program-card').nth(0).click()
        page.get_by_role('button', name='Sign me up').click()
        page.get_by_label('Your name').click()
        tap_keys(page, 'zelda quixote')
        page.get_by_label('Phone number').click()
        tap_keys(page, '3145550177')
        page.get_by_label('Email').click()
        tap_keys(page, 'zq')
        page.locator('[data-key="@"]').click()
        tap_keys(page, 'mail')
        page.locator('[data-key=".com"]').click()
        page.get_by_role('button', name='Email').click()
        page.get_by_role('checkbox').click()
        page.get_by_role('button', name='Send').click()
        page.get_by_role('heading', name='Thank you, Zelda!').wait_for()
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert receiver.received, 'the sign-up reached the receiver'
        page.goto(kiosk.url + '/healthz')
        receiver.token = 'rotated'  # a refused token is logged as a pause, never quoted
        time.sleep(3)
    finally:
        receiver.stop()
    log = kiosk.log_path.read_text()
    assert 'DEBUG' in log and 'sync' in log  # the log is there and verbose
    for secret in ('Zelda', 'zelda', 'Quixote', '5550177', '555-0177', 'zq@mail.com', 'tok-7Hq2-secret'):
        assert secret not in log, secret
