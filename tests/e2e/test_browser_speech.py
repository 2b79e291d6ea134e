"""Read aloud in a real browser: the voice plays after the tap and stops when the visitor moves on."""

from __future__ import annotations

import pytest

from tests.support.screens import open_screen, settle

pytestmark = pytest.mark.browser

PLAYING = '''() => { const voice = document.getElementById("kiosk-speech");
  return !!voice && !voice.paused && voice.currentTime > 0.3; }'''
POSITION = 'document.getElementById("kiosk-speech").currentTime'
PAUSED = '() => document.getElementById("kiosk-speech").paused'


def start_reading(page) -> None:
    page.get_by_role('button', name='Read aloud').click()
    page.wait_for_function(PLAYING, timeout=15_000)
    before = page.evaluate(POSITION)
    page.wait_for_timeout(500)
    assert page.evaluate(POSITION) > before, 'the voice moves on'
    page.get_by_role('button', name='Stop reading').wait_for()


@pytest.mark.needs_tool('espeak-ng')  # without it the kiosk rightly shows no Read aloud button
def test_read_aloud_plays_and_stops_on_a_second_tap_on_leaving_and_on_a_new_language(page, kiosk_server):
    open_screen(page, kiosk_server.url + '/program/pal')
    start_reading(page)
    page.get_by_role('button', name='Stop reading').click()
    page.wait_for_function(PAUSED)
    page.get_by_role('button', name='Read aloud').wait_for()

    start_reading(page)
    page.get_by_role('button', name='← Back').click()
    page.get_by_role('heading', name='Community programs').wait_for()
    page.wait_for_function(PAUSED)

    start_reading(page)  # the home screen reads the list of programs
    page.get_by_role('button', name='Español').click()
    page.get_by_role('heading', name='Programas comunitarios').wait_for()
    page.wait_for_function(PAUSED)
    page.get_by_role('button', name='Leer en voz alta').wait_for()


def test_without_speech_there_is_no_button(page, kiosk_factory):
    kiosk = kiosk_factory(speech='false')
    open_screen(page, kiosk.url + '/program/pal')
    settle(page)
    assert page.get_by_role('button', name='Read aloud').count() == 0
    assert page.locator('#kiosk-speech').count() == 0
