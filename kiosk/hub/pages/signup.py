"""One sign-up (/signups/{id}): its details and history, its possible duplicates, do-not-contact, its next step,
and, for an admin, anonymize.

A sign-up outside the viewer's programs is "not found", word for word as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from nicegui import ui
from psycopg import AsyncConnection

from kiosk.hub import db
from kiosk.hub.db import DUPLICATE_DAYS, NEXT_STATUSES
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import Session, screen
from kiosk.phone import friendly

NOT_FOUND = 'Not found: there is no such sign-up in your programs.'


def register(hub: Hub) -> None:
    screen(hub, '/signups/{signup_id}', 'Sign-up')(
        lambda session, signup_id: _screen(hub, session, signup_id))


async def _screen(hub: Hub, session: Session, signup_id: str) -> None:
    zone = ZoneInfo(hub.settings.timezone)
    ui.link('← Sign-ups', '/signups').mark('back')
    content = ui.column().classes('w-full gap-4')

    def when(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime('%Y-%m-%d %H:%M') if moment else ''

    def program_name(slug: str) -> str:
        return hub.programs.get(slug, slug)

    async def draw() -> bool:
        """Shows the sign-up as the database has it now; False when it is not found."""
        async with hub.pool.connection() as conn:
            viewer = session.viewer
            row = await db.signup(conn, viewer, signup_id)
            duplicates = await db.possible_duplicates(conn, viewer, signup_id)
            flagged_elsewhere = await db.do_not_contact_elsewhere(conn, viewer, signup_id)
            history = await db.status_history(conn, viewer, signup_id)
        content.clear()
        with content:
            if row is None:
                ui.label(NOT_FOUND).mark('not-found')
                return False
            if row['do_not_contact_at']:
                with ui.element('div').classes('hub-dnc').mark('dnc-banner'):
                    ui.label('Do not contact').classes('hub-dnc-title')
                    ui.label(f'{row["do_not_contact_reason"]} (marked by {row["do_not_contact_by"]}, '
                             f'{when(row["do_not_contact_at"])})')
            for other in flagged_elsewhere:
                with ui.element('div').classes('hub-dnc').mark('dnc-elsewhere'):
                    ui.label('Do not contact: another sign-up with the same phone or email is marked') \
                        .classes('hub-dnc-title')
                    with ui.row().classes('items-center gap-2'):
                        ui.link(f'{other["name"]} ({program_name(other["program"])})', f'/signups/{other["id"]}')
                        ui.label(f'{other["do_not_contact_reason"]} (marked by {other["do_not_contact_by"]}, '
                                 f'{when(other["do_not_contact_at"])})')
            ui.html('<h2>Details</h2>')
            _details(row, program_name, when)
            if duplicates:
                _duplicates(duplicates, program_name, when)
            next_step(row, duplicates)
            do_not_contact(row)
            if viewer.sees_all and not row['anonymized_at']:
                anonymize_card()
            _history(history, when)
        return True

    def next_step(row: dict, duplicates: list[dict]) -> None:
        originals = [other for other in duplicates if other['status'] != 'duplicate']  # as STATUS_RULES says
        choices = [status for status in NEXT_STATUSES[row['status']]
                   if not (status == 'duplicate' and not originals)
                   and not (status == 'contacted' and row['do_not_contact_at'])]
        with ui.card().classes('hub-editor').mark('next-step'):
            ui.label(f'Status: {row["status"].capitalize()}')
            if row['do_not_contact_at'] and 'contacted' in NEXT_STATUSES[row['status']]:
                ui.label('It cannot move to Contacted while it is marked do not contact.')
            if not choices:
                return
            with ui.row().classes('items-end gap-4'):
                new_status = ui.select({name: name.capitalize() for name in choices}, value=choices[0],
                                       label='New status').classes('min-w-[10rem]').mark('new-status')
                original = ui.select({other['id']: f'{other["name"]}, {when(other["created_at"])}, '
                                                   f'{program_name(other["program"])}' for other in originals},
                                     value=originals[0]['id'] if originals else None, label='Duplicate of') \
                    .classes('min-w-[20rem]').mark('duplicate-of')
                original.bind_visibility_from(new_status, 'value', value='duplicate')
                note = ui.input('Note (optional)').classes('min-w-[20rem]').mark('status-note')
                ui.button('Save status', on_click=lambda: save_status(new_status.value, note.value or '',
                                                                      original.value), color=None) \
                    .classes('hub-primary').props('no-caps').mark('save-status')

    def do_not_contact(row: dict) -> None:
        with ui.card().classes('hub-editor').mark('dnc-editor'):
            if row['do_not_contact_at']:
                ui.button('Lift do not contact', on_click=lift, color=None).classes('hub-secondary') \
                    .props('no-caps').mark('dnc-clear')
                return
            ui.label('Do not contact: the person asked not to be called, or must not be. It blocks Contacted and '
                     'leaves the sign-up out of downloads unless they are asked to include it.')
            with ui.row().classes('items-end gap-4'):
                reason = ui.input('Reason').classes('min-w-[20rem]').mark('dnc-reason')
                ui.button('Mark do not contact', on_click=lambda: mark(reason.value or ''), color=None) \
                    .classes('hub-primary').props('no-caps').mark('dnc-set')

    def anonymize_card() -> None:
        """For admins, as on the list (a person asked to be forgotten); asked in the page, not in a dialog."""
        with ui.card().classes('hub-editor').mark('anonymize-editor'):
            ask = ui.button('Anonymize…', on_click=lambda: confirm.set_visibility(True), color=None) \
                .classes('hub-secondary').props('no-caps').mark('anonymize')
            with ui.row().classes('hub-message items-center gap-4') as confirm:
                ui.label("Anonymize this sign-up? Its name, child's name, phone, email and note are replaced for "
                         'good; its program, kiosk, dates and status stay for the statistics.')
                ui.button('Anonymize', on_click=anonymize, color=None).classes('hub-primary').props('no-caps') \
                    .mark('anonymize-confirm')
                ui.button('Keep it', on_click=lambda: confirm.set_visibility(False), color=None) \
                    .classes('hub-secondary').props('no-caps')
            confirm.set_visibility(False)
            ask.bind_visibility_from(confirm, 'visible', backward=lambda shown: not shown)

    async def change(apply: Callable[[AsyncConnection], Awaitable[bool]], done: str, not_done: str) -> None:
        """One change to this sign-up by the viewer (scoped in its SQL), said, then the page as it is now."""
        if not await session.renew():
            return
        async with hub.pool.connection() as conn:
            changed = await apply(conn)
        ui.notify(done if changed else not_done, type='positive' if changed else 'negative')
        await draw()

    async def anonymize() -> None:
        await change(lambda conn: db.anonymize(conn, session.viewer, signup_id), 'Anonymized.',
                     'Not anonymized: admins only, and only once.')

    async def save_status(status: str, note: str, original: str | None) -> None:
        await change(lambda conn: db.change_status(conn, session.viewer, signup_id, status, note,
                                                   original if status == 'duplicate' else None),
                     'Status saved.', 'Not saved: someone changed it first, or it is not allowed.')

    async def mark(reason: str) -> None:
        if not reason.strip():
            ui.notify('Give a reason.', type='negative')
            return
        await change(lambda conn: db.set_do_not_contact(conn, session.viewer, signup_id, reason),
                     'Marked do not contact.', 'Not saved: someone marked it first.')

    async def lift() -> None:
        await change(lambda conn: db.clear_do_not_contact(conn, session.viewer, signup_id),
                     'Do not contact lifted.', 'Not saved: someone lifted it first.')

    found = await draw()
    # The id only when it is one this viewer may see: the log says who opened whom, and who probed ids.
    await session.audit('view_signup', {'signup': signup_id if found else None, 'found': found})


Text = Callable[..., str]


def _details(row: dict, program_name: Text, when: Text) -> None:
    status = row['status'].capitalize()
    name = f'(anonymized {when(row["anonymized_at"])})' if row['anonymized_at'] else row['name']
    fields = [('Name', name), ('Program', program_name(row['program'])), ('Status', status),
              ('Assigned to', row['assigned_to'] or 'nobody'),
              ('Made', when(row['created_at'])), ('Received', when(row['received_at'])), ('Kiosk', row['kiosk']),
              ('Child', row['participant_name']), ('Age', '' if row['age'] is None else str(row['age'])),
              ('Phone', friendly(row['phone']) if row['phone'] else ''), ('Email', row['email']),
              ('Contact by', row['contact_method']), ('Language', row['language']), ('Note', row['note'])]
    with ui.element('dl').classes('hub-details').mark('details'):
        for label, value in fields:
            with ui.element('dt'):
                ui.label(label)
            with ui.element('dd'):
                ui.label(value)
                if label == 'Status' and row['duplicate_of']:
                    ui.link('duplicate of this sign-up', f'/signups/{row["duplicate_of"]}').mark('duplicate-of-link')


def _duplicates(duplicates: list[dict], program_name: Text, when: Text) -> None:
    with ui.column().classes('gap-2').props('id=duplicates').mark('duplicates'):
        with ui.row().classes('items-center gap-2'):
            ui.html('<h2>Possible duplicates</h2>')
            ui.badge('Possible duplicate', color=None).classes('hub-badge-duplicate').mark('duplicate-badge')
        ui.label(f'The same phone or email in this program within {DUPLICATE_DAYS} days. A household may share a '
                 'phone: check before closing one as a duplicate. Nothing is merged.')
        with ui.element('ul'):
            for other in duplicates:
                same = ' and '.join(kind for kind, yes in (('phone', other['same_phone']),
                                                          ('email', other['same_email'])) if yes)
                with ui.element('li'), ui.row().classes('items-center gap-2'):
                    ui.link(other['name'], f'/signups/{other["id"]}')
                    ui.label(f'{program_name(other["program"])} · {when(other["created_at"])} · '
                             f'{other["status"].capitalize()} · same {same}')


def _history(history: list[dict], when: Text) -> None:
    ui.html('<h2>History</h2>')
    with ui.element('ul').mark('history'):
        with ui.element('li'):
            ui.label('Received as New')
        for change in history:
            with ui.element('li'):
                ui.label(f'{when(change["changed_at"])}: {change["status"].capitalize()} by {change["changed_by"]}'
                         + (f': {change["note"]}' if change['note'] else ''))
