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
        self._letters: list[tuple[ui.button, str]] = []
        self._shift_key: ui.button | None = None
        with ui.element('div').classes('keyboard').props(f'role=group aria-label="{t("keyboard", language)}"') \
                as self.box:
            ui.label(t('keyboard_hint', language)).classes('keyboard-hint')
            self._keys()

    def attach(self, field: ui.input, layout: Layout) -> ui.input:
        """The first field attached starts with the focus, so the keyboard is whole from the start:
        a keyboard that grew on the first touch would move the screen under the visitor's finger."""
        field.on('focus', lambda: self._typing_into(field, layout))
        if self.target is None:
            field.props('autofocus')
            self._focus(field, layout)
        return field

    def _typing_into(self, field: ui.input, layout: Layout) -> None:
        """A touch on a field, or the first one's autofocus: its keys, and the field in view above them.

        From the server, so it runs after the screen change's own scroll to the top (sent earlier); the
        page's scroll-padding (kiosk.css) keeps the field clear of the keys, as on the short 7-inch panel.
        """
        self._focus(field, layout)
        ui.run_javascript(f'requestAnimationFrame(() => '
                          f'getHtmlElement({field.id})?.scrollIntoView({{block: "nearest"}}))')

    def _focus(self, field: ui.input, layout: Layout) -> None:
        changed = layout != self.layout or self.target is None
        self.target, self.layout = field, layout
        if changed:
            self._keys.refresh()
        self._auto_shift()

    def _auto_shift(self) -> None:
        """Names start each word with a capital letter, as a senior would write it by hand."""
        text = str(self.target.value or '') if self.target else ''
        self._set_shift(self.layout == 'name' and (not text or text.endswith(' ')))

    def _set_shift(self, shift: bool) -> None:
        """Relabel the keys in place: rebuilding them would drop a tap that is already on its way."""
        self.shift = shift
        for button, char in self._letters:
            button.text = char.upper() if shift else char
        if self._shift_key is not None:
            self._shift_key.props(f'aria-pressed={str(shift).lower()}')

    def _type(self, text: str) -> None:
        if self.target is None:
            return
        self.target.value = str(self.target.value or '') + (text.upper() if self.shift else text)
        self._auto_shift()

    def _backspace(self) -> None:
        if self.target is not None:
            self.target.value = str(self.target.value or '')[:-1]
            self._auto_shift()

    def _toggle_shift(self) -> None:
        self._set_shift(not self.shift)

    @ui.refreshable_method
    def _keys(self) -> None:
        self._letters, self._shift_key = [], None
        if self.target is None:
            return
        rows = DIGIT_ROWS if self.layout == 'digits' else LETTER_ROWS
        if self.layout == 'email':
            rows = ('1234567890', *rows)
        for row in rows:
            with ui.row().classes('keyboard-row'):
                for char in row:
                    key = self._key(char.upper() if self.shift else char, char, lambda char=char: self._type(char))
                    if char.isalpha():
                        self._letters.append((key, char))
        with ui.row().classes('keyboard-row'):
            if self.layout == 'digits':
                self._key('0', '0', lambda: self._type('0'))
            else:
                self._shift_key = self._key('⇧ ' + t('key_shift', self.language), 'shift', self._toggle_shift,
                                            'kb-wide').props(f'aria-pressed={str(self.shift).lower()}')
                if self.layout == 'email':
                    for extra in EMAIL_EXTRAS:
                        self._key(extra, extra, lambda extra=extra: self._type(extra))
                else:
                    self._key(t('key_space', self.language), 'space', lambda: self._type(' '), 'kb-space')
            self._key('⌫ ' + t('key_delete', self.language), 'backspace', self._backspace, 'kb-wide')

    @staticmethod
    def _key(label: str, name: str, action, extra_class: str = '') -> ui.button:
        """One key; `data-key` lets browser tests press it as a finger would."""
        return ui.button(label, on_click=action, color=None).classes(f'kb-key {extra_class}') \
            .props(f'no-caps data-key="{name}"').mark(f'key-{name}')
