"""What only a real browser shows: QR codes that scan, lang, accessibility, target sizes, no off-machine traffic."""

import io
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import zxingcpp
from axe_playwright_python.sync_playwright import Axe
from PIL import Image

from kiosk.config import load_settings
from kiosk.content import load_catalog
from kiosk.slip import compose, preview

from ..unit.test_meetings import strictly_parsed

pytestmark = pytest.mark.browser

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


def decoded_codes(page) -> list[str]:
    texts = []
    for code in page.locator('.qr-card .qr').all():
        image = Image.open(io.BytesIO(code.screenshot()))
        results = zxingcpp.read_barcodes(image)
        assert len(results) == 1, 'each QR card must hold exactly one readable code'
        texts.append(results[0].text)
    return texts


def test_qr_codes_scan_from_the_screen(page, kiosk_server):
    expected = {
        'citizens-academy': [['http://www.slmpd.org/citizens_academy.shtml']],
        'police-explorers': [['http://slmpd.org/policeexplorers.shtml'], ['tel:+13144445463']],
        'hmca': [['tel:+13144445371']],
        'pal': [['http://www.slmpd.org/pal.shtml'], ['tel:+13144445967']],
    }
    for slug, codes in expected.items():
        open_screen(page, f'{kiosk_server.url}/program/{slug}')
        assert [[text] for text in decoded_codes(page)] == codes, slug

    open_screen(page, f'{kiosk_server.url}/program/outreach')
    (event,) = decoded_codes(page)
    lines = event.replace('\r\n', '\n').split('\n')
    assert lines[0] == 'BEGIN:VEVENT' and lines[-1] == 'END:VEVENT'
    assert any(line.startswith('DTSTART:') and line.endswith('Z') for line in lines)
    assert 'LOCATION:Five Star Senior Center\\, 2832 Arsenal St\\, St. Louis\\, MO' in lines
    assert strictly_parsed(event).dtstamp.value == strictly_parsed(event).dtstart.value


def test_qr_codes_are_big_enough_to_scan_from_40cm(page, kiosk_server):
    open_screen(page, f'{kiosk_server.url}/program/outreach')
    box = page.locator('.qr-card .qr').first.bounding_box()
    assert box['width'] >= 250 and box['height'] >= 250


def test_html_lang_follows_the_chosen_language(page, kiosk_server):
    open_screen(page, f'{kiosk_server.url}/home')
    assert page.evaluate('document.documentElement.lang') == 'en'
    page.get_by_role('button', name='Español').click()
    page.get_by_role('heading', name='Programas comunitarios').wait_for()
    assert page.locator('.kiosk').get_attribute('lang') == 'es', 'the new words arrive marked as Spanish'
    page.wait_for_function("document.documentElement.lang === 'es'", timeout=2_000)


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


def test_no_serious_accessibility_violation_nor_duplicate_id_on_any_screen_in_either_language(page, kiosk_server):
    problems = []
    for screen in each_visitor_screen(page, kiosk_server.url):
        problems += serious_accessibility_problems(page, screen)
        problems += [f'{screen}: duplicate id {duplicate}' for duplicate in page.evaluate(DUPLICATE_IDS)]
    open_screen(page, kiosk_server.url + '/staff')
    problems += serious_accessibility_problems(page, 'staff')
    problems += [f'staff: duplicate id {duplicate}' for duplicate in page.evaluate(DUPLICATE_IDS)]
    assert problems == []


SMALL_TARGETS = '''() => [...document.querySelectorAll('button, a[href], input, select, textarea, [role=button]')]
  .filter(el => el.offsetParent !== null)
  .map(el => [el.innerText.trim() || el.getAttribute('aria-label'), el.getBoundingClientRect()])
  .filter(([, r]) => r.width < 48 || r.height < 48)
  .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)'''


def test_every_touch_target_is_at_least_48px_and_text_at_least_20px(page, kiosk_server):
    for screen in each_visitor_screen(page, kiosk_server.url):
        assert page.evaluate(SMALL_TARGETS) == [], screen
        smallest = page.evaluate('''() => Math.min(...[...document.querySelectorAll('.kiosk div, .kiosk li')]
            .filter(el => el.offsetParent !== null && el.childNodes.length && [...el.childNodes]
                .some(n => n.nodeType === 3 && n.textContent.trim()))
            .map(el => parseFloat(getComputedStyle(el).fontSize)))''')
        assert smallest >= 20, f'{screen}: smallest text is {smallest}px'


def test_text_size_control_reaches_150_percent(page, kiosk_server):
    open_screen(page, f'{kiosk_server.url}/program/pal')
    base = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.kiosk')).fontSize)")
    page.get_by_role('button', name='Text size 150%').click()
    page.wait_for_function(f"parseFloat(getComputedStyle(document.querySelector('.kiosk')).fontSize) >= {base * 1.5}")
    assert page.evaluate(SMALL_TARGETS) == []


def test_no_request_ever_leaves_the_machine(page, kiosk_server):
    requested = []
    page.on('request', lambda request: requested.append(request.url))
    for _screen in each_visitor_screen(page, kiosk_server.url):
        pass
    page.locator('[aria-label$="150%"]').click()
    page.wait_for_timeout(500)
    hosts = {urlsplit(url).hostname for url in requested if not url.startswith(('data:', 'blob:'))}
    assert requested and hosts == {'127.0.0.1'}


def test_screenshots_of_home_and_a_program_for_the_readme(page, kiosk_server, tmp_path):
    folder = SCREENSHOTS if os.environ.get('KIOSK_UPDATE_SCREENSHOTS') else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in (('home', '/home'), ('program', '/program/pal'), ('attract', '/')):
        open_screen(page, kiosk_server.url + path)
        page.screenshot(path=folder / f'{name}.png')
        assert (folder / f'{name}.png').stat().st_size > 10_000
    pal = load_catalog(load_settings().content).by_slug['pal']
    preview(compose(pal, 'en', None, 'Five Star Senior Center, 2832 Arsenal St')).save(folder / 'slip.png')
    assert (folder / 'slip.png').stat().st_size > 10_000
