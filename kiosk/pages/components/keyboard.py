"""The kiosk's own keyboard: a touchscreen has none. Large keys, three layouts, typed into the focused field.

A physical keyboard keeps working because the fields are ordinary inputs.
"""

from __future__ import annotations

from typing import Literal

from nicegui import ui

from kiosk.config import Language
from kiosk.i18n import t

Layout = Literal['name', 'text', 'digits', 'email']

LETTER_ROWS = ('qwertyuiop', 'asdfghjklñ', "zxcvbnm'-")
EMAIL_EXTRAS = ('@', '.', '_', '-', '.com')
DIGIT_ROWS = ('123', '456', '789')


class OnScreenKeyboard:
    """Types into whichever attached field the visitor last touched."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self.target: ui.input | None = None
        self.layout: Layout = 'name'
        self.shift = False
        with ui.element('div').classes('keyboard').props(f'role=group aria-label="{t("keyboard", language)}"') \
                as self.box:
            self._keys()

    def attach(self, field: ui.input, layout: Layout) -> ui.input:
        field.on('focus', lambda: self._focus(field, layout))
        return field

    def _focus(self, field: ui.input, layout: Layout) -> None:
        self.target, self.layout = field, layout
        self._auto_shift()
        self._keys.refresh()

    def _auto_shift(self) -> None:
        """Names start each word with a capital letter, as a senior would write it by hand."""
        text = str(self.target.value or '') if self.target else ''
        self.shift = self.layout == 'name' and (not text or text.endswith(' '))

    def _type(self, text: str) -> None:
        if self.target is None:
            return
        self.target.value = str(self.target.value or '') + (text.upper() if self.shift else text)
        shifted = self.shift
        self._auto_shift()
        if shifted != self.shift:
            self._keys.refresh()

    def _backspace(self) -> None:
        if self.target is not None:
            self.target.value = str(self.target.value or '')[:-1]
            self._auto_shift()
            self._keys.refresh()

    def _toggle_shift(self) -> None:
        self.shift = not self.shift
        self._keys.refresh()

    @ui.refreshable_method
    def _keys(self) -> None:
        if self.target is None:
            ui.label(t('keyboard_hint', self.language)).classes('keyboard-hint')
            return
        rows = DIGIT_ROWS if self.layout == 'digits' else LETTER_ROWS
        if self.layout == 'email':
            rows = ('1234567890', *rows)
        for row in rows:
            with ui.row().classes('keyboard-row'):
                for char in row:
                    label = char.upper() if self.shift else char
                    ui.button(label, on_click=lambda char=char: self._type(char), color=None) \
                        .classes('kb-key').props('no-caps').mark(f'key-{char}')
        with ui.row().classes('keyboard-row'):
            if self.layout == 'digits':
                ui.button('0', on_click=lambda: self._type('0'), color=None).classes('kb-key').mark('key-0')
            else:
                ui.button('⇧ ' + t('key_shift', self.language), on_click=self._toggle_shift, color=None) \
                    .classes('kb-key kb-wide').props(f'no-caps aria-pressed={str(self.shift).lower()}') \
                    .mark('key-shift')
                if self.layout == 'email':
                    for extra in EMAIL_EXTRAS:
                        ui.button(extra, on_click=lambda extra=extra: self._type(extra), color=None) \
                            .classes('kb-key').props('no-caps').mark(f'key-{extra}')
                else:
                    ui.button(t('key_space', self.language), on_click=lambda: self._type(' '), color=None) \
                        .classes('kb-key kb-space').props('no-caps').mark('key-space')
            ui.button('⌫ ' + t('key_delete', self.language), on_click=self._backspace, color=None) \
                .classes('kb-key kb-wide').props('no-caps').mark('key-backspace')
