"""What only a real browser shows: QR codes that scan, lang, accessibility, target sizes, no off-machine traffic."""

import io
import os
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image

from kiosk.config import load_settings
from kiosk.content import load_catalog
from kiosk.slip import compose, preview
from tests.support.calendar import strictly_parsed
from tests.support.screens import (
    DUPLICATE_IDS,
    SCREENSHOTS,
    SMALL_TARGETS,
    each_visitor_screen,
    open_screen,
    serious_accessibility_problems,
)

pytestmark = pytest.mark.browser

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


def test_no_serious_accessibility_violation_nor_duplicate_id_on_any_screen_in_either_language(page, kiosk_server):
    problems = []
    for screen in each_visitor_screen(page, kiosk_server.url):
        problems += serious_accessibility_problems(page, screen)
        problems += [f'{screen}: duplicate id {duplicate}' for duplicate in page.evaluate(DUPLICATE_IDS)]
    open_screen(page, kiosk_server.url + '/staff')
    problems += serious_accessibility_problems(page, 'staff')
    problems += [f'staff: duplicate id {duplicate}' for duplicate in page.evaluate(DUPLICATE_IDS)]
    assert problems == []


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
