"""The appliance as a visitor and IT see it: the closed-for-the-night screen, and logs free of personal data."""

from __future__ import annotations

import time

import pytest

from ..sync_receiver import Receiver
from .test_browser_screens import SMALL_TARGETS, open_screen, serious_accessibility_problems
from .test_browser_signup import tap_keys

pytestmark = pytest.mark.browser


def test_at_night_the_kiosk_is_dark_and_a_touch_wakes_it_for_one_visit(page, kiosk_factory):
    kiosk = kiosk_factory(clock='2026-11-27 23:30:00', sleep='22:00-06:00', idle_seconds='3',
                          idle_countdown_seconds='3')
    open_screen(page, kiosk.url + '/')
    page.get_by_role('heading', name="We're closed for the night").wait_for()
    page.get_by_role('heading', name='Estamos cerrados por la noche').wait_for()
    assert page.get_by_text('(314) 231-1212').is_visible()
    assert page.get_by_text('Next community meeting: Thursday, December 10').is_visible()
    background = page.evaluate("getComputedStyle(document.querySelector('.night')).backgroundColor")
    assert sum(int(part) for part in background[4:-1].split(',')) < 3 * 40, f'not dark: {background}'
    assert serious_accessibility_problems(page, 'night screen') == []
    assert page.evaluate(SMALL_TARGETS) == []

    page.get_by_role('button', name='Toque para ver los programas').click()
    page.get_by_role('heading', name='Community programs').wait_for()
    page.get_by_text('Are you still there?').wait_for(timeout=10_000)
    page.get_by_role('heading', name="We're closed for the night").wait_for(timeout=15_000)


@pytest.mark.parametrize(('clock', 'before', 'after'), [
    ('2026-11-27 21:59:50', 'Touch to begin', "We're closed for the night"),
    ('2026-11-28 05:59:50', "We're closed for the night", 'Touch to begin'),
], ids=['22:00', '06:00'])
def test_the_screen_follows_the_clock_at_both_ends_of_the_night(page, kiosk_factory, clock, before, after):
    """Nobody touches the screen at 22:00 or 06:00: it changes by itself."""
    kiosk = kiosk_factory(clock=clock, sleep='22:00-06:00')
    open_screen(page, kiosk.url + '/')
    page.get_by_text(before).first.wait_for()
    page.get_by_text(after).first.wait_for(timeout=60_000)
    assert page.get_by_text(before).count() == 0


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
