"""The stranded screen: a kiosk page pushed into a background tab raises `screen_hidden` until it is back in front.

Playwright's own launch turns on focus emulation for every page it opens, which keeps each page
"visible" whatever happens to its tab. So this module starts Chromium itself, headless as in the other
browser tests, and attaches over CDP with `no_defaults`: its tabs go to the background as the kiosk's do.
"""

import subprocess
import time

import pytest

from tests.support.processes import healthz
from tests.support.screens import CHROMIUM, CHROMIUM_ARGS, settle
from tests.support.tools import require_tool
from tests.support.waiting import eventually

from .test_browser_screen_guard import warned

pytestmark = pytest.mark.browser


@pytest.fixture(scope='module')
def tabs(tmp_path_factory):
    """The default context of a Chromium whose background tabs are hidden, as under `kiosk browser`."""
    require_tool(str(CHROMIUM), 'chromium chromium-driver', 'KIOSK_REQUIRE_BROWSER')
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp('chromium-profile')
    process = subprocess.Popen([str(CHROMIUM), '--headless', *CHROMIUM_ARGS, '--remote-debugging-address=127.0.0.1',
                                '--remote-debugging-port=0', f'--user-data-dir={profile}', 'about:blank'],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port = eventually(lambda: (profile / 'DevToolsActivePort').is_file()
                          and (profile / 'DevToolsActivePort').read_text().split('\n')[0], 30, 'Chromium to listen')
        with sync_playwright() as playwright:
            browser = playwright.chromium.connect_over_cdp(f'http://127.0.0.1:{port}', no_defaults=True)
            yield browser.contexts[0]
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=15)


def assert_hidden_raises_the_warning_until_back_in_front(kiosk, kiosk_page, cover) -> None:
    cover_tab = cover()
    kiosk_page.wait_for_function("document.visibilityState === 'hidden'", timeout=5_000)
    hidden_at = time.monotonic()
    report = eventually(lambda: warned(kiosk, 'screen_hidden'), 20, 'screen_hidden while the kiosk is behind a tab')
    assert time.monotonic() - hidden_at >= 4, 'a moment in the background (a reload, a dialog) is no alarm'
    assert report['status'] == 'warning'

    cover_tab.close()
    kiosk_page.bring_to_front()
    kiosk_page.wait_for_function("document.visibilityState === 'visible'", timeout=5_000)
    eventually(lambda: 'screen_hidden' not in healthz(kiosk)['warnings'], 10, 'the warning to clear')


def test_a_tab_over_the_kiosk_raises_screen_hidden_until_the_kiosk_is_in_front_again(tabs, kiosk_server):
    kiosk_page = tabs.new_page()
    kiosk_page.goto(kiosk_server.url + '/home')
    settle(kiosk_page)
    assert 'screen_hidden' not in healthz(kiosk_server)['warnings']

    def open_image_in_new_tab():
        """What the long-press menu does: the browser opens a tab in front of the kiosk's."""
        tab = tabs.new_page()
        tab.goto(kiosk_server.url + '/static/logo.svg')
        return tab

    def window_open():
        """A new window from the page itself: Chromium hides the opener without a visibilitychange event."""
        with tabs.expect_page() as opened:
            kiosk_page.evaluate("window.open('/static/logo.svg')")
        return opened.value

    for cover in (open_image_in_new_tab, window_open):
        assert_hidden_raises_the_warning_until_back_in_front(kiosk_server, kiosk_page, cover)
    kiosk_page.close()
