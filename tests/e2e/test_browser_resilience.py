"""The idle reset, a server restart, and freeing a visit, seen from a real browser."""

import time

import httpx
import pytest

from tests.support.screens import SMALL_TARGETS, open_screen, serious_accessibility_problems, settle

pytestmark = pytest.mark.browser


def test_idle_reset_returns_to_a_fresh_attract_screen(page, kiosk_factory):
    kiosk = kiosk_factory(idle_seconds='3', idle_countdown_seconds='3')
    open_screen(page, kiosk.url + '/')
    page.get_by_role('button', name='Toque para comenzar').click()
    page.get_by_role('heading', name='Programas comunitarios').wait_for()
    page.get_by_role('button', name='Tamaño del texto 150%').click()
    page.locator('.program-card').nth(3).click()
    page.wait_for_url('**/program/pal')

    page.get_by_text('¿Sigue ahí?').wait_for(timeout=10_000)
    page.wait_for_timeout(600)  # let the dialog finish fading in: axe measures colours as they are drawn
    assert serious_accessibility_problems(page, 'still-there dialog') == []
    assert page.evaluate(SMALL_TARGETS) == []
    page.get_by_role('button', name='Sigo aquí').click()
    page.get_by_text('¿Sigue ahí?').wait_for(state='hidden')
    assert page.url.endswith('/program/pal')

    page.get_by_text('¿Sigue ahí?').wait_for(timeout=10_000)
    page.wait_for_url(kiosk.url + '/', timeout=15_000)
    settle(page)
    page.get_by_role('button', name='Touch to begin').wait_for()
    assert page.evaluate('document.documentElement.lang') == 'en'
    page.get_by_role('button', name='Touch to begin').click()
    page.get_by_role('heading', name='Community programs').wait_for()
    font_size = page.evaluate("getComputedStyle(document.querySelector('.kiosk')).fontSize")
    assert font_size == '22px', 'text size must be back to normal for the next visitor'


def test_open_page_comes_back_by_itself_after_a_server_restart(page, kiosk_factory):
    kiosk = kiosk_factory()
    open_screen(page, kiosk.url + '/home')
    kiosk.kill()
    page.get_by_text('Connection lost').wait_for(timeout=10_000)
    kiosk.start()
    page.get_by_text('Connection lost').wait_for(state='hidden', timeout=30_000)
    page.get_by_role('heading', name='Community programs').wait_for(timeout=30_000)
    assert 'Traceback' not in page.content()


def test_a_visits_page_and_elements_are_freed_once_the_browser_leaves(browser, kiosk_factory):
    """Memory stays flat for months only if nothing holds on to old visits (timers, refreshables, callbacks)."""
    kiosk = kiosk_factory(ready_path='/healthz')  # no page of its own: every page is the visit's
    context = browser.new_context(viewport={'width': 1280, 'height': 800})
    page = context.new_page()
    open_screen(page, kiosk.url + '/')
    page.get_by_role('button', name='Touch to begin').click()
    page.locator('.program-card').nth(3).click()
    page.locator('.qr-card').first.wait_for()
    page.get_by_role('button', name='Sign me up').click()
    page.locator('.keyboard').wait_for()
    page.locator('input').first.fill('Rosa')
    during = httpx.get(kiosk.url + '/healthz').json()
    assert during['clients'] >= 1 and during['elements'] > 50
    context.close()
    # A visit's page goes `reconnect_timeout` (10 s) after its browser leaves.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        report = httpx.get(kiosk.url + '/healthz').json()
        if (report['clients'], report['elements']) == (0, 0):
            return
        time.sleep(1)
    raise AssertionError(f'still live after the browser left: {report["clients"]} clients, '
                         f'{report["elements"]} elements')
