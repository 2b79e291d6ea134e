"""The optional receipt printer and Read aloud on the screen: they appear only when they can work."""

from __future__ import annotations

import pytest
from nicegui.testing import User


@pytest.fixture
def printer_device(tmp_path, monkeypatch):
    """Settings are read when the `user` fixture starts the app, so this must come before it."""
    device = tmp_path / 'lp0'
    device.touch()
    monkeypatch.setenv('KIOSK_PRINTER', f'file:{device}')
    monkeypatch.setenv('KIOSK_LOCATION', 'Five Star Senior Center')
    return device


@pytest.fixture
def unplugged_printer(tmp_path, monkeypatch):
    monkeypatch.setenv('KIOSK_PRINTER', f'file:{tmp_path}/unplugged/lp0')


async def test_without_a_printer_nothing_about_printing_appears(user: User):
    await user.open('/program/pal')
    await user.should_see('Police Athletic League (PAL)')
    await user.should_not_see(marker='print-slip')


async def test_print_this_for_me_prints_the_slip_in_the_visitors_language(printer_device, user: User):
    await user.open('/home')
    user.find('Español').click()
    await user.should_see('Programas comunitarios')
    user.find(marker='card-pal').click()
    await user.should_see('Imprimir esto para mí')
    user.find(marker='print-slip').click()
    await user.should_see('Su hoja se está imprimiendo abajo. Por favor, llévesela.', retries=50)
    printed = printer_device.read_bytes()
    assert b'Five Star Senior Center' in printed and b'(314) 444-5967' in printed and b'\x1dV' in printed


async def test_a_printer_that_fails_gets_a_calm_message_pointing_back_to_the_codes(unplugged_printer, user: User,
                                                                                   caplog):
    await user.open('/program/hmca')
    user.find(marker='print-slip').click()
    await user.should_see('The printer is not working right now. Please scan a code on this screen, '
                          'or write down the phone number.', retries=50)
    await user.should_see(marker='qr-phone')
    assert 'DeviceNotFoundError' in caplog.text
    caplog.clear()  # the error log is expected here; the fixture fails tests on unexpected ones
    user.find(marker='back').click()  # the screen never hung
    await user.should_see('Community programs')


@pytest.fixture
def speech_off(monkeypatch):
    monkeypatch.setenv('KIOSK_SPEECH', 'false')


async def test_speech_can_be_turned_off(speech_off, user: User):
    await user.open('/program/pal')
    await user.should_see('Police Athletic League (PAL)')
    await user.should_not_see(marker='read-aloud')
