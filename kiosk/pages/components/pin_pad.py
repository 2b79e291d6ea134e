"""A large on-screen number pad for the staff PIN; digits show as dots, never as numbers."""

from collections.abc import Awaitable, Callable

from nicegui import ui

from kiosk.config import Language
from kiosk.i18n import t

MAX_DIGITS = 8


def pin_pad(language: Language, on_enter: Callable[[str], Awaitable[None]]) -> ui.label:
    """Returns the message label, so the caller can say what happened after a try."""
    typed: list[str] = []

    def press(digit: str) -> None:
        if len(typed) < MAX_DIGITS:
            typed.append(digit)
        dots.text = '●' * len(typed)

    def delete() -> None:
        if typed:
            typed.pop()
        dots.text = '●' * len(typed)

    async def enter() -> None:
        pin = ''.join(typed)
        typed.clear()
        dots.text = ''
        await on_enter(pin)

    with ui.column().classes('pin-pad items-center gap-4'):
        dots = ui.label('').classes('pin-dots').props('aria-live=polite').mark('pin-dots')
        message = ui.label('').classes('field-error text-center').props('role=alert').mark('pin-message')
        with ui.grid(columns=3).classes('gap-3'):
            for digit in '123456789':
                ui.button(digit, on_click=lambda digit=digit: press(digit), color=None) \
                    .classes('pin-key').props(f'data-key="{digit}"').mark(f'pin-{digit}')
            ui.button('⌫ ' + t('key_delete', language), on_click=delete, color=None).classes('pin-key') \
                .props('no-caps').mark('pin-delete')
            ui.button('0', on_click=lambda: press('0'), color=None).classes('pin-key') \
                .props('data-key="0"').mark('pin-0')
            ui.button(t('pin_enter', language), on_click=enter, color=None).classes('pin-key pin-ok') \
                .props('no-caps').mark('pin-enter')
    return message
