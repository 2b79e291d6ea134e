"""The whole sign-up in a real browser, in both languages, and what the next visitor can (not) see."""

import pytest

from kiosk.storage.store import SignupStore
from tests.support.screens import SMALL_TARGETS, open_screen, serious_accessibility_problems, settle, tap_keys

pytestmark = pytest.mark.browser


def assert_form_is_empty(page) -> None:
    typed = page.locator('input:not([type=checkbox])').evaluate_all('els => els.map(e => e.value)')
    assert typed and all(value == '' for value in typed)
    assert page.locator('input[type=checkbox]:checked').count() == 0


def test_grandparent_signs_up_a_child_for_pal_with_the_on_screen_keyboard(page, kiosk_factory):
    kiosk = kiosk_factory()
    open_screen(page, kiosk.url + '/')
    page.get_by_role('button', name='Touch to begin').click()
    page.locator('.program-card').nth(3).click()
    page.get_by_role('button', name='Sign me up').click()
    page.get_by_label("Child's first name").click()
    tap_keys(page, 'ana')
    page.get_by_label("Child's age (5 to 18)").click()
    tap_keys(page, '9')
    page.get_by_label('Your name (the adult we will contact)').click()
    tap_keys(page, 'rosa diaz')
    page.get_by_label('Phone number').click()
    tap_keys(page, '3145550134')
    page.get_by_role('button', name='Phone call').click()
    page.get_by_role('checkbox').click()
    page.get_by_role('button', name='Send').click()
    page.get_by_role('heading', name='Thank you, Rosa!').wait_for()
    assert serious_accessibility_problems(page, 'thank-you') == []
    assert page.evaluate(SMALL_TARGETS) == []

    (saved,) = SignupStore(kiosk.data_dir).records()
    assert (saved['participant_name'], saved['age'], saved['name'], saved['phone']) == \
        ('Ana', 9, 'Rosa Diaz', '+13145550134')

    page.get_by_role('button', name='Done').click()
    page.get_by_role('button', name='Touch to begin').wait_for()
    assert 'Rosa' not in page.content()
    page.go_back()
    settle(page)
    assert 'Rosa' not in page.content() and 'Thank you' not in page.content()
    assert_form_is_empty(page)


def test_spanish_visitor_signs_up_for_explorers_with_a_physical_keyboard(page, kiosk_factory):
    kiosk = kiosk_factory()
    open_screen(page, kiosk.url + '/')
    page.get_by_role('button', name='Toque para comenzar').click()
    page.locator('.program-card').nth(1).click()
    page.get_by_role('button', name='Quiero inscribirme').click()
    page.get_by_label('Su nombre').fill('José Ñúñez')
    page.get_by_label('Su edad (14 a 20)').fill('25')
    page.get_by_label('Correo electrónico (si tiene)').fill('jose@example.com')
    page.get_by_role('button', name='Correo electrónico', exact=True).click()
    page.get_by_role('checkbox').click()
    page.get_by_role('button', name='Enviar').click()
    page.get_by_text('Lo sentimos, este programa es para edades de 14 a 20 años.').wait_for()
    assert SignupStore(kiosk.data_dir).records() == []

    page.get_by_label('Su edad (14 a 20)').fill('16')
    page.get_by_role('button', name='Enviar').click()
    page.get_by_role('heading', name='¡Gracias, José!').wait_for()
    (saved,) = SignupStore(kiosk.data_dir).records()
    assert (saved['name'], saved['age'], saved['language'], saved['contact_method']) == \
        ('José Ñúñez', 16, 'es', 'email')


def test_after_the_idle_reset_no_input_shows_any_trace_of_the_last_visitor(page, kiosk_factory):
    kiosk = kiosk_factory(idle_seconds='3', idle_countdown_seconds='2')
    open_screen(page, kiosk.url + '/program/outreach/signup')
    page.get_by_label('Your name').fill('Walter Private')
    page.get_by_label('Phone number').fill('3145550199')
    page.get_by_role('button', name='Touch to begin').wait_for(timeout=20_000)
    assert 'Walter' not in page.content()
    page.go_back()
    settle(page)
    page.get_by_label('Your name').wait_for()
    assert_form_is_empty(page)
    page.get_by_label('Your name').click()
    page.keyboard.press('ArrowDown')  # where Chromium would open its autofill list
    assert 'Walter' not in page.content()
    assert SignupStore(kiosk.data_dir).records() == []
