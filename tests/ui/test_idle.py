import asyncio

import pytest
from nicegui import ui
from nicegui.testing import User


def _dialog_open(user: User) -> bool:
    return user.find(kind=ui.dialog, marker='idle-dialog').elements.pop().value


@pytest.fixture(autouse=True)
def quick_idle(monkeypatch):
    monkeypatch.setenv('KIOSK_IDLE_SECONDS', '2')
    monkeypatch.setenv('KIOSK_IDLE_COUNTDOWN_SECONDS', '30')


async def test_idle_visitor_is_asked_in_their_language_and_can_stay(user: User):
    await user.open('/home')
    user.find(marker='language-es').click()
    await user.should_see('Programas comunitarios')
    await user.should_see('¿Sigue ahí?', retries=40)
    await user.should_see('Sigo aquí')
    assert _dialog_open(user)
    user.find(marker='still-here').click()
    assert not _dialog_open(user)
    await user.should_see('Programas comunitarios')


async def test_attract_screen_never_asks(user: User):
    await user.open('/')
    await asyncio.sleep(3)
    assert not _dialog_open(user)
