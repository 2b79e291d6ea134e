"""The baseline app: NiceGUI's hello world with five cards, served the same way as the kiosk."""

import sys

from nicegui import ui


def root() -> None:
    ui.label('Hello, world')
    with ui.row():
        for number in range(1, 6):
            with ui.card():
                ui.label(f'Card {number}')
                ui.button('Open')


if __name__ in {'__main__', '__mp_main__'}:
    ui.run(root, host='127.0.0.1', port=int(sys.argv[1]), reload=False, show=False, show_welcome_message=False)
