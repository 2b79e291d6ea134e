import errno

from nicegui import app, ui
from nicegui.app.app import State
from nicegui.testing import User

from kiosk.storage import atomic
from kiosk.storage.store import SignupStore


def field(user: User, mark: str) -> ui.input:
    return user.find(marker=mark).elements.pop()


async def fill_pal_form(user: User) -> None:
    await user.open('/program/pal/signup')
    user.find(marker='participant_name').type('Ana')
    user.find(marker='age').type('9')
    user.find(marker='name').type('Maria Gonzalez')
    user.find(marker='phone').type('314 555 0134')
    user.find(marker='method-phone').click()
    user.find(marker='consent').click()


async def test_program_screen_offers_sign_up_and_hmca_offers_it_second(user: User):
    await user.open('/program/pal')
    user.find(marker='sign-me-up').click()
    await user.should_see("Child's first name")
    await user.open('/program/hmca')
    await user.should_see('Ask someone to contact me')


async def test_a_grandparent_signs_up_a_child_and_is_thanked_by_first_name(user: User, isolated_settings):
    await fill_pal_form(user)
    user.find(marker='send').click()
    await user.should_see('Thank you, Maria!')
    await user.should_see('Someone from Police Athletic League (PAL) will call you soon.')
    (saved,) = SignupStore(isolated_settings).records()
    assert (saved['name'], saved['participant_name'], saved['age'], saved['phone']) == \
        ('Maria Gonzalez', 'Ana', 9, '+13145550134')
    assert (saved['program'], saved['status'], saved['language'], saved['kiosk_id']) == \
        ('pal', 'queued', 'en', 'test-kiosk')


async def test_a_sign_up_sent_as_the_service_stops_is_stored_before_the_thank_you(user: User, isolated_settings,
                                                                                    monkeypatch):
    """NiceGUI's run.io_bound skips its function once the app is stopping and returns None, so a visitor who sent
    the form as the service stopped was thanked for a sign-up never written. The save now always runs first."""
    await fill_pal_form(user)
    monkeypatch.setattr(app, '_state', State.STOPPING)  # `systemctl stop kiosk` has begun; the page is still up
    user.find(marker='send').click()
    await user.should_see('Thank you, Maria!')
    monkeypatch.undo()
    assert [saved['name'] for saved in SignupStore(isolated_settings).records()] == ['Maria Gonzalez']


async def test_problems_show_at_each_field_and_nothing_is_stored(user: User, isolated_settings):
    await user.open('/program/pal/signup')
    user.find(marker='age').type('4')
    user.find(marker='phone').type('555-01')
    user.find(marker='send').click()
    await user.should_see('Please tick the box so we may contact you.')
    assert field(user, 'age').error == 'Sorry, this program is for ages 5 to 18.'
    assert field(user, 'phone').error == 'Please write a 10-digit phone number, like 314-444-5371.'
    assert field(user, 'participant_name').error == "Please write the child's first name."
    assert SignupStore(isolated_settings).records() == []


async def test_problems_are_explained_in_spanish_for_a_spanish_visitor(user: User):
    await user.open('/program/police-explorers')
    user.find(marker='language-es').click()
    user.find(marker='sign-me-up').click()
    await user.should_see('Su edad (14 a 20)')
    user.find(marker='age').type('30')
    user.find(marker='send').click()
    await user.should_see('Por favor marque la casilla para que podamos contactarlo.')
    assert field(user, 'age').error == 'Lo sentimos, este programa es para edades de 14 a 20 años.'
    assert field(user, 'name').error == 'Por favor escriba su nombre.'


async def test_on_screen_keyboard_types_capitals_for_names_and_digits_for_phones(user: User):
    await user.open('/program/outreach/signup')
    await user.should_see('Touch a box above, then type here.')
    await user.should_see(marker='key-a')  # whole from the start: nothing grows under a finger
    user.find(marker='name').trigger('focus')
    for key in ('a', 'n', 'a', 'space', 'r', 'u', 'i', 'z'):
        await user.should_see(marker=f'key-{key}')
        user.find(marker=f'key-{key}').click()
    assert field(user, 'name').value == 'Ana Ruiz'
    user.find(marker='phone').trigger('focus')
    await user.should_not_see(marker='key-q')
    for key in '3145550134':
        user.find(marker=f'key-{key}').click()
    user.find(marker='key-backspace').click()
    assert field(user, 'phone').value == '314555013'
    user.find(marker='email').trigger('focus')
    await user.should_see(marker='key-@')
    for key in ('a', 'n', 'a', '@', 'x', '.com'):
        user.find(marker=f'key-{key}').click()
    assert field(user, 'email').value == 'ana@x.com'


async def test_visitor_input_is_shown_as_text_never_as_html(user: User, isolated_settings):
    await user.open('/program/outreach/signup')
    user.find(marker='name').type('<img src=x onerror=alert(1)> Bob')
    user.find(marker='phone').type('3145550134')
    user.find(marker='method-text').click()
    user.find(marker='consent').click()
    user.find(marker='send').click()
    await user.should_see('Thank you, <img!')
    raw_html = [element.content for element in user.client.layout.descendants() if isinstance(element, ui.html)]
    assert not any('<img' in content for content in raw_html)
    assert SignupStore(isolated_settings).records()[0]['name'] == '<img src=x onerror=alert(1)> Bob'


async def test_when_the_disk_is_full_the_visitor_gets_the_phone_and_old_records_stay(user: User, isolated_settings,
                                                                                    monkeypatch, caplog):
    await fill_pal_form(user)
    store = SignupStore(isolated_settings)
    before = store.records()

    def disk_full(_fd):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(atomic.os, 'fsync', disk_full)
    user.find(marker='send').click()
    await user.should_see('Sorry, we could not save your request just now.')
    await user.should_see('(314) 444-5967')
    await user.should_see(marker='qr-phone')
    monkeypatch.undo()
    assert store.records() == before
    assert 'could not write sign-ups: No space left on device' in caplog.text
    caplog.clear()  # the error log is expected here; the fixture fails tests on unexpected ones
