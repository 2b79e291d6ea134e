"""A program: full text, key facts, and the QR codes a visitor scans to apply, call or save the date."""

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from nicegui import background_tasks, ui

from kiosk.content import Program
from kiosk.i18n import meeting_when, t
from kiosk.kiosk import Kiosk
from kiosk.pages.components.heading import Heading
from kiosk.pages.components.more_below import more_below
from kiosk.pages.components.qr_card import qr_card
from kiosk.pages.components.speaker import Speaker
from kiosk.qr import qr_actions
from kiosk.slip import compose
from kiosk.speech import program_text
from kiosk.visit import Visit


def screen(kiosk: Kiosk, visit: Visit, speaker: Speaker, slug: str) -> None:
    program = kiosk.catalog.by_slug.get(slug)
    if program is None:
        ui.navigate.to('/home')
        return
    # once per visit: a redraw is not a new look
    if program.count_views and visit.counts_views and slug not in visit.viewed:
        visit.viewed.add(slug)
        today = datetime.now(ZoneInfo(kiosk.settings.timezone)).date()
        background_tasks.create(asyncio.to_thread(kiosk.view_counts.count, program.slug, today), name='count view')
    language = visit.language
    words = program.words(language)
    meetings = program.meetings.next_meetings(datetime.now(UTC), 4) if program.meetings else []
    with ui.column().classes('screen w-full'):
        ui.button('← ' + t('back', language), on_click=lambda: ui.navigate.to('/home'), color=None) \
            .classes('secondary-action').props('no-caps').mark('back')
        Heading(words.title)
        with ui.row().classes('gap-4 items-center'):
            if program.signup:
                ui.button(t('contact_me' if program.call_first else 'sign_me_up', language), color=None,
                          on_click=lambda: ui.navigate.to(f'/program/{slug}/signup')) \
                    .classes('secondary-action' if program.call_first else 'primary-action') \
                    .props('no-caps').mark('sign-me-up')
            speaker.button(lambda: program_text(program, language, meetings[0] if meetings else None))
            if kiosk.printer:
                print_button(kiosk, program, language, meetings[0] if meetings else None)
        with ui.element('div').classes('program-columns w-full'):  # the codes go first where the text is narrow
            with ui.column().classes('program-text gap-4'):
                ui.label(words.body)
                if words.facts:
                    Heading(t('key_facts', language), 2)
                    with ui.element('ul').classes('facts'):
                        for fact in words.facts:
                            with ui.element('li'):
                                ui.label(fact)
                if meetings:
                    Heading(t('next_meeting_heading', language), 2)
                    ui.label(meeting_when(meetings[0], language)).classes('text-h5 text-weight-bold') \
                        .mark('next-meeting')
                    ui.label(program.meetings.location)
                    ui.label(t('later_meetings', language)).classes('text-weight-bold')
                    for start in meetings[1:]:
                        ui.label(meeting_when(start, language)).mark('later-meeting')
            with ui.column().classes('actions'):
                for action in qr_actions(program, language, meetings[:1]):
                    qr_card(action.payload, action.caption, big_text=action.big_text, mark=action.mark)
    more_below(language)


def print_button(kiosk: Kiosk, program: Program, language: str, next_meeting: datetime | None) -> None:
    """For visitors without a smartphone: the same information on paper. A failure answers calmly, at once."""
    async def print_for_me() -> None:
        button.disable()
        button.text = t('printing', language)
        outcome.text = ''
        slip = compose(program, language, next_meeting, kiosk.settings.location)
        printed = await kiosk.printer.print(slip)
        outcome.text = t('printed' if printed else 'print_failed', language)
        outcome.classes(replace='print-outcome ' + ('' if printed else 'calm-message'))
        button.text = t('print_slip', language)
        button.enable()

    button = ui.button(t('print_slip', language), on_click=print_for_me, color=None) \
        .classes('secondary-action print-slip').props('no-caps').mark('print-slip')
    outcome = ui.label().classes('print-outcome').props('role=status').mark('print-outcome')
