"""Closed for the night: a dark, quiet screen in both languages. A touch wakes the kiosk for one visit."""

from datetime import UTC, datetime

from nicegui import ui

from kiosk.config import LANGUAGES
from kiosk.i18n import meeting_when, t
from kiosk.kiosk import Kiosk
from kiosk.pages.components.heading import Heading
from kiosk.phone import friendly
from kiosk.visit import Visit


def screen(kiosk: Kiosk, visit: Visit) -> None:
    catalog = kiosk.catalog
    next_meeting = catalog.outreach.meetings.next_meetings(datetime.now(UTC), 1) if catalog.outreach else []
    # The idle reset brings the visitor back to `/`, which is this screen again while the night lasts.
    with ui.column().classes('night w-full items-center justify-center text-center') \
            .on('click', lambda: ui.navigate.to('/home')).mark('night'):
        for language in LANGUAGES:
            Heading(t('night_title', language)).props(f'lang={language}')
        if catalog.department:
            with ui.column().classes('items-center gap-1'):
                for language in LANGUAGES:
                    ui.label(t('night_call', language)).props(f'lang={language}')
                ui.label(friendly(catalog.department.phone)).classes('night-phone').mark('night-phone')
        if next_meeting:
            with ui.column().classes('items-center gap-1'):
                for language in LANGUAGES:
                    ui.label(t('next_meeting', language, when=meeting_when(next_meeting[0], language))) \
                        .props(f'lang={language}')
        with ui.row().classes('gap-8 justify-center'):
            for language in LANGUAGES:
                ui.button(t('night_wake', language), on_click=lambda: ui.navigate.to('/home'), color=None) \
                    .classes('wake').props(f'no-caps lang={language}').mark(f'wake-{language}')
