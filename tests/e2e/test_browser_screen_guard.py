"""A long press opens no menu, selects nothing and drags nothing; /healthz knows whether a kiosk page is on screen."""

import time

import pytest

from tests.support.processes import healthz
from tests.support.screens import open_screen
from tests.support.waiting import eventually

pytestmark = pytest.mark.browser

# What a long press on a touch panel sends, as Chromium sends it: a cancelable, bubbling `contextmenu`.
MENU_PREVENTED = '''el => !el.dispatchEvent(new MouseEvent('contextmenu',
                                                         {bubbles: true, cancelable: true, composed: true}))'''
SELECT_AND_DRAG = "el => [getComputedStyle(el).userSelect, getComputedStyle(el).webkitUserDrag]"


def warned(kiosk, warning: str) -> dict | None:
    """The /healthz report if it carries `warning`, else None."""
    report = healthz(kiosk)
    return report if warning in report['warnings'] else None


def test_a_long_press_opens_no_menu_on_the_logo_a_qr_code_a_heading_or_the_body(page, kiosk_server):
    open_screen(page, kiosk_server.url + '/home')
    for what in ('.kiosk-header .logo', 'h1', 'body'):
        assert page.locator(what).first.evaluate(MENU_PREVENTED), what
    open_screen(page, kiosk_server.url + '/program/pal')
    for what in ('.qr-card .qr', '.qr-card .qr svg path', '.qr-card .caption'):
        assert page.locator(what).first.evaluate(MENU_PREVENTED), what
    open_screen(page, kiosk_server.url + '/')
    assert page.locator('.attract img').evaluate(MENU_PREVENTED), 'the attract screen logo'


def test_nothing_outside_a_form_field_can_be_selected_or_dragged(page, kiosk_server):
    open_screen(page, kiosk_server.url + '/home')
    for what in ('.kiosk-header .logo', 'h1', '.program-card'):
        assert page.locator(what).first.evaluate(SELECT_AND_DRAG) == ['none', 'none'], what
    open_screen(page, kiosk_server.url + '/program/pal/signup')
    field = page.locator('input:not([type=checkbox])').first
    assert field.evaluate('el => getComputedStyle(el).userSelect') != 'none', 'what was typed stays selectable'


def test_the_one_moment_page_opens_no_menu_either(page, kiosk_server):
    page.route('**/healthz', lambda route: route.abort())  # the server "still down": the page stays put
    page.goto(kiosk_server.url + '/static/offline.html')
    for what in ('h1', 'p', 'body'):
        assert page.locator(what).first.evaluate(MENU_PREVENTED), what
        assert page.locator(what).first.evaluate(SELECT_AND_DRAG) == ['none', 'none'], what


def test_the_staff_hold_on_the_logo_still_opens_the_console(page, kiosk_server):
    open_screen(page, kiosk_server.url + '/home')
    logo = page.locator('.kiosk-header .logo')
    logo.dispatch_event('pointerdown')
    assert logo.evaluate(MENU_PREVENTED)  # the long press Chromium reports halfway through the hold
    page.wait_for_url('**/staff', timeout=6_000)


def test_no_page_for_screen_missing_seconds_is_screen_missing_and_a_page_clears_it(page, kiosk_factory):
    kiosk = kiosk_factory(screen_missing_seconds='2')
    report = eventually(lambda: warned(kiosk, 'screen_missing'), 15, 'screen_missing with no browser connected')
    assert report['status'] == 'warning' and report['visit_active'] is False

    open_screen(page, kiosk.url + '/')
    eventually(lambda: 'screen_missing' not in healthz(kiosk)['warnings'], 10, 'the warning to clear')
    time.sleep(3)  # longer than screen_missing_seconds, with the page still connected
    report = healthz(kiosk)
    assert 'screen_missing' not in report['warnings'] and report['visit_active'] is False, report

    page.get_by_role('button', name='Touch to begin').click()
    page.get_by_role('heading', name='Community programs').wait_for()
    assert eventually(lambda: healthz(kiosk)['visit_active'], 5, 'visit_active once a visit begins')

    page.goto('about:blank')  # the browser leaves: after the period the screen is missing again
    eventually(lambda: 'screen_missing' in healthz(kiosk)['warnings'], 20, 'screen_missing after the page left')
