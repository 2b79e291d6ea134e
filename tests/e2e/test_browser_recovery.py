"""The screen never ends on Chromium's own error page: it comes back by itself after any server outage."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page

from tests.support.ports import hold
from tests.support.processes import KioskProcess, kiosk_processes
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


def down_on_a_controlled_page(page, kiosk: KioskProcess) -> float:
    """The kiosk's page, under its service worker, and then the server killed; returns when (monotonic)."""
    open_screen(page, kiosk.url + '/home')
    controlled_by_the_service_worker(page)
    mark_the_old_page(page)
    kiosk.kill()
    return time.monotonic()


def up_again_after(page, kiosk: KioskProcess, went_down: float, down_seconds: float) -> None:
    page.wait_for_timeout(max(0.0, went_down + down_seconds - time.monotonic()) * 1000)
    kiosk.start()
    back_on_a_working_screen(page)
    page.get_by_role('heading', name='Community programs').wait_for(timeout=30_000)


@dataclass
class Outage:
    kiosk: KioskProcess
    page: Page
    went_down: float
    port: socket.socket


@pytest.fixture(scope='module', autouse=True)
def minute_long_outage(browser, tmp_path_factory) -> Iterator[Outage]:
    """A kiosk whose server goes down as the module starts: its minute passes while the other tests run, and the
    module's last test brings it back. Its port is held meanwhile, so that no other server is given it."""
    with kiosk_processes(tmp_path_factory) as make:
        kiosk = make()
        context = browser.new_context(viewport={'width': 1280, 'height': 800})
        page = context.new_page()
        went_down = down_on_a_controlled_page(page, kiosk)
        outage = Outage(kiosk, page, went_down, hold(kiosk.port))
        yield outage
        outage.port.close()
        context.close()


def test_the_page_returns_by_itself_after_the_server_was_down_for_five_seconds(page, kiosk_factory):
    kiosk = kiosk_factory()
    up_again_after(page, kiosk, down_on_a_controlled_page(page, kiosk), 5)


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


def test_the_page_returns_by_itself_after_the_server_was_down_for_a_minute(minute_long_outage):
    """A minute of failed tries (the outage began as the module started), longer than Chromium lets a service
    worker idle (30 s)."""
    outage = minute_long_outage
    outage.port.close()
    up_again_after(outage.page, outage.kiosk, outage.went_down, 60)
