"""The attract screen: what a passer-by sees. Calm, bilingual, one touch to begin; at night, the closed screen."""

from datetime import UTC, datetime

from nicegui import ui

from kiosk.config import LANGUAGES, Language
from kiosk.i18n import meeting_when, t
from kiosk.kiosk import Kiosk
from kiosk.night import asleep, seconds_until_change
from kiosk.pages import night
from kiosk.pages.components.heading import Heading
from kiosk.visit import Visit

CLOCK_CHECK_SECONDS = 30
"""The longest the screen goes without looking at the clock, so a clock set by hand is followed too; between
checks it wakes at the minute the night starts or ends, and changes on that minute."""


def screen(kiosk: Kiosk, visit: Visit) -> None:
    settings = kiosk.settings
    sleeping = asleep(settings.sleep_window, settings.timezone)
    if settings.sleep_window:
        async def follow_the_clock() -> None:
            if asleep(settings.sleep_window, settings.timezone) != sleeping:
                await router.refresh()
            else:  # just past the minute: `asleep` reads whole minutes
                clock.interval = min(CLOCK_CHECK_SECONDS,
                                     seconds_until_change(settings.sleep_window, settings.timezone) + 0.5)

        router = ui.context.client.sub_pages_router
        clock = ui.timer(CLOCK_CHECK_SECONDS, follow_the_clock)
    if sleeping:
        night.screen(kiosk, visit)
        return

    def begin(language: Language) -> None:
        visit.language = language
        ui.navigate.to('/home')  # the frame follows the path, and the language with it

    catalog = kiosk.catalog
    next_meeting = catalog.outreach.meetings.next_meetings(datetime.now(UTC), 1) if catalog.outreach else []
    with ui.column().classes('attract w-full items-center justify-center text-center') \
            .on('click', lambda: begin(visit.language)):
        ui.element('img').classes('attract-logo').props('src=/static/logo.svg alt=SLMPD')
        for language in LANGUAGES:
            Heading(t('attract_title', language)).props(f'lang={language}')
        with ui.row().classes('gap-8 justify-center'):
            for language in LANGUAGES:
                ui.button(t('touch_to_begin', language), on_click=lambda lang=language: begin(lang), color=None) \
                    .classes('begin').props(f'no-caps lang={language}').mark(f'begin-{language}')
        with ui.column().classes('program-names items-center gap-1'):
            for program in catalog.program:
                ui.label(f'{program.en.title} · {program.es.title}' if program.en.title != program.es.title
                         else program.en.title)
        if next_meeting:
            with ui.column().classes('meeting items-center gap-1'):
                for language in LANGUAGES:
                    ui.label(t('next_meeting', language, when=meeting_when(next_meeting[0], language))) \
                        .props(f'lang={language}')
