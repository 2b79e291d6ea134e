"""Driving the kiosk's screens in Debian's Chromium with Playwright: waiting for NiceGUI, walking every visitor
screen, tapping the on-screen keyboard, and the accessibility and touch-target checks several browser tests make."""

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

CHROMIUM = Path('/usr/bin/chromium')
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']

SLUGS = ['citizens-academy', 'police-explorers', 'hmca', 'pal', 'outreach']
SCREENSHOTS = Path(__file__).resolve().parents[2] / 'docs' / 'screenshots'


def settle(page) -> None:
    """NiceGUI renders over a websocket: wait until the UI is connected and idle."""
    page.wait_for_load_state('networkidle')
    page.wait_for_function('window.did_handshake === true')
    page.wait_for_timeout(300)


def open_screen(page, url: str) -> None:
    page.goto(url)
    settle(page)


def tap_keys(page, keys: str) -> None:
    """Type on the kiosk's own keyboard, one touch per key."""
    for key in keys:
        page.locator(f'[data-key="{"space" if key == " " else key.lower()}"]').click()


def each_visitor_screen(page, base_url: str):
    """Walk every visitor screen the way a visitor does (no reloads), in English and then in Spanish."""
    open_screen(page, base_url + '/')
    yield 'attract'
    for language, button, home_title in (('en', 'Touch to begin', 'Community programs'),
                                         ('es', 'Toque para comenzar', 'Programas comunitarios')):
        open_screen(page, base_url + '/')
        page.get_by_role('button', name=button).click()
        page.get_by_role('heading', name=home_title).wait_for()
        settle(page)
        yield f'home ({language})'
        for index, slug in enumerate(SLUGS):
            page.locator('.program-card').nth(index).click()
            page.wait_for_url(f'**/program/{slug}')
            page.locator('.qr-card').first.wait_for()
            settle(page)
            yield f'{slug} ({language})'
            if slug == 'pal':  # the sign-up form, its keyboard, and the problems it explains
                page.locator('.screen .primary-action').first.click()
                page.locator('.keyboard').wait_for()
                page.locator('input').first.click()
                page.locator('[data-key="a"]').wait_for()
                settle(page)
                yield f'sign-up form ({language})'
                page.locator('.signup-form .primary-action').click()
                page.locator('.q-field--error').first.wait_for()
                yield f'sign-up form with problems ({language})'
                page.locator('.secondary-action').first.click()
                page.wait_for_url(f'**/program/{slug}')
            page.locator('.secondary-action').first.click()
            page.get_by_role('heading', name=home_title).wait_for()


# Deprecated in axe (and so off by default), but HTML_CodeSniffer still flags them: ids must be unique per page.
DUPLICATE_ID_RULES = {'duplicate-id': {'enabled': True}, 'duplicate-id-active': {'enabled': True}}
DUPLICATE_IDS = '''() => Object.entries([...document.querySelectorAll('[id]')]
  .reduce((seen, el) => ({...seen, [el.id]: (seen[el.id] || 0) + 1}), {}))
  .filter(([, count]) => count > 1).map(([id, count]) => `${id} (${count} times)`)'''


def serious_accessibility_problems(page, screen: str) -> list[str]:
    violations = Axe().run(page, options={'rules': DUPLICATE_ID_RULES}).response['violations']
    return [f'{screen}: {v["id"]} ({v["impact"]}): {v["nodes"][0]["target"]}'
            for v in violations if v['impact'] in ('serious', 'critical') or v['id'] in DUPLICATE_ID_RULES]


SMALL_TARGETS = '''() => [...document.querySelectorAll('button, a[href], input, select, textarea, [role=button]')]
  .filter(el => el.offsetParent !== null)
  .map(el => [el.innerText.trim() || el.getAttribute('aria-label'), el.getBoundingClientRect()])
  .filter(([, r]) => r.width < 48 || r.height < 48)
  .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)'''
