"""Home: the program cards, readable from a metre away. One touch opens a program."""

from nicegui import ui

from kiosk.i18n import t
from kiosk.kiosk import Kiosk
from kiosk.pages.components.heading import Heading
from kiosk.pages.components.more_below import more_below
from kiosk.pages.components.speaker import Speaker
from kiosk.speech import home_text
from kiosk.visit import Visit


def screen(kiosk: Kiosk, visit: Visit, speaker: Speaker) -> None:
    with ui.row().classes('screen home-intro w-full items-center'):  # one band, so the cards start high
        with ui.column().classes('gap-2'):
            Heading(t('home_title', visit.language))
            ui.label(t('home_hint', visit.language)).classes('muted')
        speaker.button(lambda: home_text(kiosk.catalog, visit.language))
    with ui.element('div').classes('program-grid w-full'):
        for program in kiosk.catalog.program:
            words = program.words(visit.language)
            with ui.button(on_click=lambda slug=program.slug: ui.navigate.to(f'/program/{slug}')) \
                    .classes('program-card').props('no-caps unelevated').mark(f'card-{program.slug}'):
                ui.label(words.title).classes('card-title')
                ui.label(words.summary)
                ui.label(t('learn_more', visit.language) + ' →').classes('text-weight-bold')
    more_below(visit.language)
