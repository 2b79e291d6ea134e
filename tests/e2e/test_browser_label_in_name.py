"""WCAG 2.5.3 Label in Name: every control's accessible name contains the text it shows, on every screen."""

from __future__ import annotations

import pytest

from kiosk.pin import StaffPin
from tests.support.screens import each_visitor_screen, open_screen, settle

pytestmark = pytest.mark.browser

# Controls named by aria-label whose name does not contain what they show (case and spacing aside).
NAME_HIDES_TEXT = '''() => {
  const plain = text => (text || '').toLowerCase().replace(/\\s+/g, ' ').trim();
  return [...document.querySelectorAll(
      'button, a[href], [role=button], [role=checkbox], [role=switch], [role=tab], [role=option], [role=link]')]
    .filter(el => el.offsetParent !== null && el.hasAttribute('aria-label') && plain(el.innerText))
    .filter(el => !plain(el.getAttribute('aria-label')).includes(plain(el.innerText)))
    .map(el => `"${el.innerText.trim()}" is named "${el.getAttribute('aria-label')}"`);
}'''


def test_every_visitor_control_is_named_with_what_it_shows(page, kiosk_server):
    problems = []
    for screen in each_visitor_screen(page, kiosk_server.url):
        problems += [f'{screen}: {problem}' for problem in page.evaluate(NAME_HIDES_TEXT)]
    assert problems == []
    open_screen(page, kiosk_server.url + '/program/pal')
    page.get_by_role('button', name='A++').click()  # a voice-control user says what they see
    page.wait_for_function("getComputedStyle(document.querySelector('.kiosk')).fontSize === '33px'")


def test_every_staff_control_is_named_with_what_it_shows(page, kiosk_factory, tmp_path):
    StaffPin(tmp_path / 'var').set('4821')
    kiosk = kiosk_factory(data_dir=tmp_path / 'var')
    open_screen(page, kiosk.url + '/staff')
    problems = [f'PIN pad: {problem}' for problem in page.evaluate(NAME_HIDES_TEXT)]
    for digit in '4821':
        page.locator(f'.pin-pad [data-key="{digit}"]').click()
    page.get_by_role('button', name='Unlock').click()
    page.get_by_role('button', name='Sync now').wait_for()
    settle(page)
    problems += [f'console: {problem}' for problem in page.evaluate(NAME_HIDES_TEXT)]
    assert problems == []
