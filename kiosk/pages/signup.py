"""Sign-up: a short form with the kiosk's own keyboard, then a thank-you that clears itself.

Everything typed lives in this function's locals, so the full page load that ends the visit leaves
nothing behind for the next visitor.
"""

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from nicegui import ui

from kiosk.i18n import t
from kiosk.kiosk import Kiosk
from kiosk.pages.components.heading import Heading
from kiosk.pages.components.keyboard import OnScreenKeyboard
from kiosk.pages.components.qr_card import qr_card
from kiosk.qr import qr_actions
from kiosk.signups import CONTACT_METHODS, SignupInvalid, check_form, new_record
from kiosk.storage.store import StoreUnavailable
from kiosk.visit import Visit

THANKS_SECONDS = 15


def screen(kiosk: Kiosk, visit: Visit, slug: str) -> None:
    program = kiosk.catalog.by_slug.get(slug)
    if program is None or not program.signup:
        ui.navigate.to('/home')
        return
    language = visit.language
    title = program.words(language).title
    child = program.age is not None and program.age.participant == 'child'
    chosen_method: dict[str, str | None] = {'value': None}

    def end_visit() -> None:
        ui.context.client.open('/')  # a full load: nothing of this visitor survives

    def text_field(label_key: str, mark: str, **values) -> ui.input:
        field = ui.input(t(label_key, language, **values)).props('outlined autocomplete=off spellcheck=false') \
            .classes('w-full').mark(mark)
        field.props(f'name="{mark}-{id(field)}"')  # an unfamiliar name keeps the browser from offering autofill
        return field

    page = ui.column().classes('screen w-full with-keyboard')  # room to scroll every field above the keyboard
    with page:
        ui.button('← ' + t('back_to_program', language), color=None,
                  on_click=lambda: ui.navigate.to(f'/program/{slug}')).classes('secondary-action').props('no-caps')
        Heading(t('signup_title', language, program=title))
        ui.label(t('signup_intro', language))
        with ui.column().classes('signup-form'):
            fields: dict[str, ui.input] = {}
            if child:
                fields['participant_name'] = text_field('child_first_name', 'participant_name')
                fields['age'] = text_field('child_age', 'age', min=program.age.min, max=program.age.max)
                fields['name'] = text_field('grown_up_name', 'name')
            else:
                fields['name'] = text_field('your_name', 'name')
                if program.age:
                    fields['age'] = text_field('your_age', 'age', min=program.age.min, max=program.age.max)
            fields['phone'] = text_field('phone', 'phone')
            fields['email'] = text_field('email', 'email')
            ui.label(t('contact_how', language)).classes('text-weight-bold')
            with ui.row().classes('gap-4'):
                method_buttons = {
                    method: ui.button(t(f'method_{method}', language), color=None,
                                      on_click=lambda method=method: choose_method(method))
                    .classes('choice').props('no-caps aria-pressed=false').mark(f'method-{method}')
                    for method in CONTACT_METHODS}
            method_error = ui.label().classes('field-error').props('role=alert')
            fields['note'] = text_field('note', 'note')
            with ui.row().classes('consent items-center no-wrap'):
                consent = ui.checkbox().props(f'aria-label="{t("consent", language, program=title)}"') \
                    .mark('consent')
                ui.label(t('consent', language, program=title)) \
                    .on('click', lambda: consent.set_value(not consent.value))
            consent_error = ui.label().classes('field-error').props('role=alert')
            with ui.row().classes('gap-4'):
                send = ui.button(t('send', language), on_click=lambda: submit(), color=None) \
                    .classes('primary-action').props('no-caps').mark('send')
                ui.button(t('cancel', language), on_click=lambda: ui.navigate.to(f'/program/{slug}'), color=None) \
                    .classes('secondary-action').props('no-caps')
    keyboard = OnScreenKeyboard(language)
    for name, field in fields.items():
        keyboard.attach(field, 'digits' if name in ('age', 'phone') else 'email' if name == 'email'
                        else 'text' if name == 'note' else 'name')

    def choose_method(method: str) -> None:
        chosen_method['value'] = method
        for name, button in method_buttons.items():
            button.props(f'aria-pressed={str(name == method).lower()}')

    def show_problems(problems: dict) -> None:
        for name, field in fields.items():
            field.error = t(problems[name][0], language, **problems[name][1]) if name in problems else None
        method_error.text = t(problems['contact_method'][0], language) if 'contact_method' in problems else ''
        consent_error.text = t(problems['consent'][0], language) if 'consent' in problems else ''

    async def submit() -> None:
        form = {name: field.value or '' for name, field in fields.items()}
        form.update(contact_method=chosen_method['value'], consent=bool(consent.value))
        try:
            details = check_form(program, form)
        except SignupInvalid as invalid:
            show_problems(invalid.problems)
            return
        show_problems({})
        record = new_record(details, program, language, kiosk.settings.kiosk_id,
                            datetime.now(ZoneInfo(kiosk.settings.timezone)))
        send.disable()
        try:
            await asyncio.to_thread(kiosk.store.add, record)
        except StoreUnavailable:
            could_not_save()
            return
        thank(details.name.split()[0], details.contact_method)

    def thank(first_name: str, method: str) -> None:
        replace_form()
        with page, ui.column().classes('thanks w-full'):
            Heading(t('thanks_title', language, name=first_name)).mark('thanks')
            ui.label(t(f'thanks_next_{method}', language, program=title)).classes('text-h5')
            ui.label(t('thanks_return', language, seconds=THANKS_SECONDS)).classes('muted')
            ui.button(t('done', language), on_click=end_visit, color=None).classes('primary-action').mark('done')
            ui.timer(THANKS_SECONDS, end_visit, once=True)

    def could_not_save() -> None:
        replace_form()
        with page, ui.column().classes('calm-message w-full').props('role=alert'):
            Heading(t('save_failed_title', language), 2).mark('save-failed')
            ui.label(t('save_failed_body', language))
            upcoming = program.meetings.next_meetings(datetime.now(ZoneInfo(kiosk.settings.timezone)), 1) \
                if program.meetings else []
            with ui.row().classes('gap-6'):
                for action in qr_actions(program, language, upcoming):
                    qr_card(action.payload, action.caption, big_text=action.big_text, mark=action.mark)
            ui.button(t('done', language), on_click=end_visit, color=None).classes('primary-action')

    def replace_form() -> None:
        """Drop the form and keyboard; what replaces them must be built inside `page`, not the deleted button."""
        keyboard.box.delete()
        page.clear()
        page.classes(remove='with-keyboard')
