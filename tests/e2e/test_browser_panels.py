"""The common touch panels, from the 7-inch 800x480 to Full HD: nothing clipped, something to touch at once.

Each size gets its own browser context, so the page loads at that size the way the panel shows it, and a
visitor's walk (both languages, each text size; home, a program, the sign-up form) runs in it.
"""

from __future__ import annotations

import os

import pytest

from tests.support.screens import SCREENSHOTS, open_screen, settle

pytestmark = pytest.mark.browser

PANELS = {'800x480': (800, 480), '720x1280': (720, 1280), '1280x800': (1280, 800), '1920x1080': (1920, 1080)}
SCALES = ('100%', '125%', '150%')
LANGUAGES = (('en', 'English', 'Community programs'), ('es', 'Español', 'Programas comunitarios'))
# Enough of a card in view that a visitor sees there is something to touch (its title), not a sliver.
IN_VIEW = 96

CLIPPED = '''() => [...document.querySelectorAll('button, a[href], input, .qr-card, .kiosk-header *')]
  .filter(el => el.checkVisibility())
  .map(el => [el.innerText?.trim().split('\\n')[0] || el.getAttribute('aria-label') || el.className,
              el.getBoundingClientRect()])
  .filter(([, r]) => r.left < -0.5 || r.right > innerWidth + 0.5)
  .map(([name, r]) => `${name}: ${Math.round(r.left)}..${Math.round(r.right)}`)'''
TOP_OF = "selector => document.querySelector(selector).getBoundingClientRect().top"
CUE_SHOWN = "() => document.querySelector('.more-below-cue')?.checkVisibility() ?? false"
MORE_BELOW = '() => document.documentElement.scrollHeight - innerHeight - scrollY > 2'


@pytest.fixture
def panel(browser, request):
    width, height = PANELS[request.param]
    context = browser.new_context(viewport={'width': width, 'height': height})
    yield context.new_page()
    context.close()


def assert_nothing_clipped(page, screen: str) -> None:
    assert page.evaluate(CLIPPED) == [], f'{screen}: controls past the edge of the screen'
    assert page.evaluate('document.documentElement.scrollWidth <= innerWidth'), f'{screen}: scrolls sideways'


def assert_more_below_is_told(page, screen: str) -> None:
    """What does not fit has a cue on screen, and the cue goes when the visitor reaches the end."""
    if not page.evaluate(MORE_BELOW):
        assert not page.evaluate(CUE_SHOWN), f'{screen}: "more below" shown with nothing below'
        return
    assert page.evaluate(CUE_SHOWN), f'{screen}: more below the fold, and nothing says so'
    page.evaluate('window.scrollTo(0, document.documentElement.scrollHeight)')
    page.wait_for_function(f'!({CUE_SHOWN})()', timeout=2_000)
    page.evaluate('window.scrollTo(0, 0)')
    page.wait_for_function(CUE_SHOWN, timeout=2_000)


def check_home(page, screen: str) -> None:
    assert_nothing_clipped(page, screen)
    height = page.evaluate('innerHeight')
    title_bottom = page.evaluate("document.querySelector('.program-card .card-title')?.getBoundingClientRect()"
                                 ".bottom ?? document.querySelector('.program-card').getBoundingClientRect().top"
                                 f" + {IN_VIEW}")
    assert title_bottom <= height, f'{screen}: the first program card is below the fold'
    assert_more_below_is_told(page, screen)


def check_program(page, screen: str) -> None:
    assert_nothing_clipped(page, screen)
    assert page.evaluate(TOP_OF, '.qr-card') + IN_VIEW <= page.evaluate('innerHeight'), \
        f'{screen}: the first QR code is below the fold'
    assert_more_below_is_told(page, screen)


def check_signup(page, screen: str) -> None:
    """The field that has the focus shows whole above the keyboard, and the keyboard fits the width."""
    assert_nothing_clipped(page, screen)
    field, keyboard_top = page.evaluate('''() => [document.activeElement.closest('.q-field').getBoundingClientRect(),
        document.querySelector('.keyboard').getBoundingClientRect().top]''')
    assert field['top'] >= 0 and field['bottom'] <= keyboard_top, \
        f'{screen}: the field being typed into is hidden ({field["top"]:.0f}..{field["bottom"]:.0f}, ' \
        f'keyboard from {keyboard_top:.0f})'
    page.locator('input[name^="email-"]').focus()  # the widest layout
    page.locator('[data-key="@"]').wait_for()
    assert_nothing_clipped(page, f'{screen}, email keyboard')


@pytest.mark.parametrize('panel', list(PANELS), indirect=True)
def test_every_screen_fits_the_panel_in_both_languages_and_each_text_size(panel, kiosk_server):
    page = panel
    open_screen(page, kiosk_server.url + '/home')
    for language, language_button, home_title in LANGUAGES:
        page.get_by_role('button', name=language_button, exact=True).click()
        page.get_by_role('heading', name=home_title).wait_for()
        for scale in SCALES:
            page.locator(f'[aria-label$="{scale}"]').click()
            page.locator(f'[aria-label$="{scale}"][aria-pressed="true"]').wait_for()
            settle(page)
            check_home(page, f'home ({language}, {scale})')
            page.locator('.program-card').nth(3).click()  # PAL: two QR codes and a sign-up form
            page.wait_for_url('**/program/pal')
            page.locator('.qr-card').first.wait_for()
            settle(page)
            check_program(page, f'PAL ({language}, {scale})')
            page.locator('.screen .primary-action').first.click()
            page.locator('[data-key="a"]').wait_for()
            settle(page)
            check_signup(page, f'sign-up ({language}, {scale})')
            page.locator('.secondary-action').first.click()
            page.wait_for_url('**/program/pal')
            page.locator('.secondary-action').first.click()
            page.get_by_role('heading', name=home_title).wait_for()


def assert_whole_screen_in_view(page, screen: str) -> None:
    """The attract and night screens are posters: everything on them in view, nothing to scroll."""
    assert_nothing_clipped(page, screen)
    assert not page.evaluate(MORE_BELOW), f'{screen}: part of it is below the fold'
    for button in page.get_by_role('button').all():
        box = button.bounding_box()
        assert box['y'] >= 0 and box['y'] + box['height'] <= page.evaluate('innerHeight'), f'{screen}: {button}'


@pytest.mark.parametrize('panel', list(PANELS), indirect=True)
def test_the_attract_screen_fits_the_panel(panel, kiosk_server):
    open_screen(panel, kiosk_server.url + '/')
    assert_whole_screen_in_view(panel, 'attract')


@pytest.fixture(scope='module')
def kiosk_at_night(shared_kiosk_factory):
    return shared_kiosk_factory(clock='2026-11-27 23:30:00', sleep='22:00-06:00')


@pytest.mark.parametrize('panel', list(PANELS), indirect=True)
def test_the_night_screen_fits_the_panel(panel, kiosk_at_night):
    open_screen(panel, kiosk_at_night.url + '/')
    panel.locator('.night').wait_for()
    assert_whole_screen_in_view(panel, 'night')


@pytest.mark.parametrize('panel', list(PANELS), indirect=True)
def test_screenshots_at_each_panel_size(panel, kiosk_server, tmp_path, request):
    """`make screenshots` keeps these in docs/screenshots/panels/ for docs/accessibility.md and for review."""
    size = request.node.callspec.params['panel']
    folder = SCREENSHOTS / 'panels' if os.environ.get('KIOSK_UPDATE_SCREENSHOTS') else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in (('attract', '/'), ('home', '/home'), ('program', '/program/pal'),
                       ('signup', '/program/pal/signup')):
        open_screen(panel, kiosk_server.url + path)
        panel.screenshot(path=folder / f'{size}-{name}.png')
        assert (folder / f'{size}-{name}.png').stat().st_size > 5_000
