"""The screen never ends on Chromium's own error page: it comes back by itself after any server outage."""

from __future__ import annotations

import time

import pytest

from tests.support.screens import open_screen, serious_accessibility_problems, settle

pytestmark = pytest.mark.browser

ONE_MOMENT = 'One moment…'


def controlled_by_the_service_worker(page) -> None:
    page.wait_for_function('navigator.serviceWorker && navigator.serviceWorker.controller !== null', timeout=15_000)


def mark_the_old_page(page) -> None:
    """So that waiting for a working screen cannot be fooled by the page from before the outage."""
    page.evaluate('window.fromBeforeTheOutage = true')


def back_on_a_working_screen(page, timeout: float = 60_000) -> None:
    page.wait_for_function('!window.fromBeforeTheOutage && window.did_handshake === true '
                           '&& !!document.querySelector(".kiosk")', timeout=timeout)
    page.wait_for_load_state('load')
    assert not page.url.startswith('chrome-error://')
    assert 'Traceback' not in page.content()


@pytest.mark.parametrize('down_seconds', [5, 60])
def test_the_page_returns_by_itself_after_the_server_was_down(page, kiosk_factory, down_seconds):
    kiosk = kiosk_factory()
    open_screen(page, kiosk.url + '/home')
    controlled_by_the_service_worker(page)
    mark_the_old_page(page)
    kiosk.kill()
    page.wait_for_timeout(down_seconds * 1000)
    kiosk.start()
    back_on_a_working_screen(page)
    page.get_by_role('heading', name='Community programs').wait_for(timeout=30_000)


def test_a_reload_that_meets_a_dead_server_gets_the_one_moment_page_then_comes_back(page, kiosk_factory):
    kiosk = kiosk_factory()
    open_screen(page, kiosk.url + '/home')
    controlled_by_the_service_worker(page)
    mark_the_old_page(page)
    kiosk.kill()
    page.get_by_text('Connection lost').wait_for(timeout=10_000)

    # Back up, and killed again the moment NiceGUI's reload asks for the page: the reload meets a dead server.
    # A route holds the request until the server is dead, so the browser cannot win the race.
    killed = []

    def kill_on_the_reload(route) -> None:
        if route.request.service_worker and not killed:  # the worker fetches only whole pages
            kiosk.kill()
            killed.append(route.request.url)
        route.fallback()

    page.context.route('**/*', kill_on_the_reload)
    kiosk.start()
    page.get_by_text(ONE_MOMENT).wait_for(timeout=30_000)
    assert killed
    assert not page.url.startswith('chrome-error://')
    page.get_by_text('Un momento…').wait_for()
    assert serious_accessibility_problems(page, 'one moment page') == []

    page.wait_for_timeout(3_000)  # it keeps waiting calmly while the server stays down
    assert page.get_by_text(ONE_MOMENT).is_visible()
    page.context.unroute('**/*', kill_on_the_reload)
    kiosk.start()
    page.get_by_role('button', name='Touch to begin').wait_for(timeout=30_000)  # a fresh visit, by itself
    back_on_a_working_screen(page)


def test_a_navigation_while_the_server_is_down_shows_the_one_moment_page(page, kiosk_factory):
    kiosk = kiosk_factory()
    open_screen(page, kiosk.url + '/')
    controlled_by_the_service_worker(page)
    kiosk.kill()
    started = time.monotonic()
    page.evaluate('location.reload()')
    page.get_by_text(ONE_MOMENT).wait_for(timeout=15_000)
    assert time.monotonic() - started < 15
    kiosk.start()
    page.get_by_role('button', name='Touch to begin').wait_for(timeout=30_000)
    settle(page)
