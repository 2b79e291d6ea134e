"""Sign-ups, newest first, a page at a time from PostgreSQL, only for the programs the viewer runs, and worked from
here: assigned, changed one or many at a time, anonymized by an admin. The filter lives in the URL's query."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from nicegui import ui
from nicegui.events import ValueChangeEventArguments

from kiosk.export import to_csv
from kiosk.hub import db
from kiosk.hub.db import NEXT_STATUSES, STATUSES, SignupFilter
from kiosk.hub.follow_up import FollowUp
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import Session, screen
from kiosk.hub.workbook import to_xlsx
from kiosk.phone import friendly

PER_PAGE = 50
EXPORT_LIMIT = 100_000
XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
# The way to one sign-up, with its marks: do-not-contact (its own, or another sign-up's with the same phone or
# email) and possible duplicates (the badge leads to them on the sign-up's page).
OPEN_CELL = '''
    <q-td :props="props">
      <a :href="'/signups/' + props.row.id" :aria-label="'Open the sign-up of ' + props.row.name">Open</a>
      <q-badge v-if="props.row.do_not_contact" class="hub-badge-dnc q-ml-sm" :label="props.row.do_not_contact" />
      <a v-if="props.row.duplicates" :href="'/signups/' + props.row.id + '#duplicates'" class="q-ml-sm">
        <q-badge class="hub-badge-duplicate" :label="'Possible duplicate (' + props.row.duplicates + ')'" />
      </a>
    </q-td>'''
EXPORT_COLUMNS = ('id', 'created_at', 'received_at', 'program', 'name', 'participant_name', 'age', 'phone', 'email',
                  'contact_method', 'note', 'language', 'kiosk', 'status', 'status_changed_at')
ANY = ''
OVERDUE = 'overdue'  # a choice of the status filter: new, and past the follow-up window (follow_up.py)
ASSIGNED = {ANY: 'Anyone', 'me': 'Mine', 'nobody': 'Unassigned'}
# Nothing moves back to new, and closing as a duplicate names the original: one at a time, on the sign-up's page.
BULK_STATUSES = tuple(status for status in STATUSES if status not in ('new', 'duplicate'))
NOBODY = ''  # the assignee choice that unassigns


def register(hub: Hub) -> None:
    screen(hub, '/signups')(lambda session: _screen(hub, session))


async def _screen(hub: Hub, session: Session) -> None:
    """Every action reads `session.viewer` afresh after `renew()`, so a changed role or programs apply at once."""
    viewer = session.viewer
    zone = ZoneInfo(hub.settings.timezone)
    follow_up = FollowUp.from_settings(hub.settings)
    programs = {slug: title for slug, title in hub.programs.items() if viewer.sees_all or slug in viewer.programs}
    async with hub.pool.connection() as conn:
        kiosks = await db.kiosk_names(conn)
        assignees = await db.assignable_users(conn, viewer)
        saved_view = await db.default_view(conn, viewer.email)
    query = ui.context.client.request.query_params
    # A bare /signups opens the user's default view; any query (even ?view=all) is the view asked for.
    view = view_of(query if query else saved_view, programs, kiosks)
    # `since`: where the page shown starts, {'older_than': (created_at, id)} or 'newer_than'; {} for the newest.
    state = {'view': view, 'filter': filter_of(view, None, zone, follow_up), 'page': 0, 'since': {}, 'rows': []}

    def form_view() -> dict[str, str]:
        return view_of({'program': program.value, 'kiosk': kiosk.value, 'status': status.value,
                        'from': since.value or '', 'to': until.value or '', 'assigned': assigned.value},
                       programs, kiosks)

    async def apply_filters() -> None:
        state['view'] = form_view()
        state['filter'] = filter_of(state['view'], search.value or None, zone, follow_up)
        state.update(page=0, since={})
        ui.navigate.history.replace(url_of(state['view']))
        await load()

    async def load() -> None:
        if not await session.renew():
            return
        async with hub.pool.connection() as conn:
            shown = await db.signups_page(conn, session.viewer, state['filter'], per_page=PER_PAGE,
                                          **state['since'])
            marks = await db.signup_marks(conn, session.viewer, [row['id'] for row in shown.rows])
        rows = shown.rows
        chosen_filter = state['filter']
        await session.audit('view_signups', {'program': chosen_filter.program, 'kiosk': chosen_filter.kiosk,
                                             'status': chosen_filter.status, 'assigned': chosen_filter.assigned,
                                             'searched': bool(chosen_filter.search),
                                             'overdue': chosen_filter.overdue_before is not None,
                                             'page': state['page'], 'shown': len(rows)})
        state['rows'] = rows
        overdue_before = follow_up.overdue_before(datetime.now(UTC))
        table.rows = [{**_row(row, programs, zone, overdue_before), **_marks(marks.get(row['id']))} for row in rows]
        table.selected = []
        summary.text = _summary(shown, state['page'])
        previous.set_enabled(shown.newer)
        following.set_enabled(shown.older)
        all_matching.value = False
        all_matching.text = f'Select all {"" if shown.exact else "about "}{shown.total:,} matching this filter'
        all_matching.set_visibility(shown.total > 0)
        show_selection()

    async def turn(step: int) -> None:
        """The next page starts after the last row shown, the previous one before the first."""
        if not state['rows']:
            return
        state['page'] = max(0, state['page'] + step)
        way, row = ('older_than', state['rows'][-1]) if step > 0 else ('newer_than', state['rows'][0])
        state['since'] = {way: (row['created_at'], row['id'])} if state['page'] else {}
        await load()

    def show_selection() -> None:
        """One row picked: its own next steps (and, for an admin, anonymize). More, or all matching: the bulk ones."""
        many = all_matching.value or len(table.selected) > 1
        one = not many and len(table.selected) == 1
        editor.set_visibility(one)
        actions.set_visibility(many or one)
        bulk_status.set_visibility(many)
        anonymize_button.set_visibility(one and session.viewer.sees_all)
        picked.text = ('All sign-ups matching this filter' if all_matching.value else
                       f'{len(table.selected)} selected')
        if one:
            row = table.selected[0]
            # Closing as a duplicate names the original: that is on the sign-up's own page, beside its duplicates.
            # Do not contact rules out contacted (the database refuses it too).
            next_statuses = [name for name in NEXT_STATUSES[row['status']] if name != 'duplicate'
                             and not (name == 'contacted' and row['flagged'])]
            editing.text = (f'Change the status of {row["name"]} ({row["program"]}), now {row["status"]}:'
                            if next_statuses else f'{row["name"]} is marked do not contact: no step to take here.')
            status_step.set_visibility(bool(next_statuses))
            if next_statuses:
                new_status.set_options({name: name.capitalize() for name in next_statuses}, value=next_statuses[0])
            note.value = ''

    async def save_status() -> None:
        if not table.selected or not await session.renew():
            return
        async with hub.pool.connection() as conn:
            changed = await db.change_status(conn, session.viewer, table.selected[0]['id'], new_status.value,
                                             note.value or '')
        ui.notify('Status saved.' if changed else 'Not saved: it is not in your programs, someone changed it first, '
                  'or it is marked do not contact.',
                  type='positive' if changed else 'negative')
        await load()

    def target() -> db.Target:
        """All matching: the list's filter, run again on the server. Otherwise the ids picked on this page."""
        return state['filter'] if all_matching.value else [row['id'] for row in table.selected]

    async def confirmed(action: str, button: str) -> int:
        """How many the action is for, once the user has seen that count and said yes; 0 for no."""
        async with hub.pool.connection() as conn:
            count = await db.count_target(conn, session.viewer, target())
        if count == 0:
            ui.notify('None of these sign-ups is in your programs any more.', type='warning')
            return 0
        if count == 1 and not all_matching.value:
            return 1
        question.text = action.format(count=_plural(count, 'sign-up'))
        go.text = button.format(count=f'{count:,}')
        return count if await confirm else 0

    async def change_many() -> None:
        if not await session.renew() or not await confirmed(
                f'Change the status of {{count}} to {bulk_new_status.value.capitalize()}? Those not in a status that '
                'leads there (or marked do not contact) are skipped.', 'Change {count}'):
            return
        if not await session.renew():
            return
        async with hub.pool.connection() as conn:
            changed = await db.change_statuses(conn, session.viewer, target(), bulk_new_status.value,
                                               bulk_note.value or '')
        await load()  # first: what the notice tells is on the page when it shows
        ui.notify(f'{len(changed.ids):,} changed, {changed.skipped:,} skipped', type='positive')

    async def assign() -> None:
        whom = assignee.value or None
        if not await session.renew() or not await confirmed(
                f'Assign {{count}} to {whom}?' if whom else 'Unassign {count}?', 'Assign {count}'):
            return
        if not await session.renew():
            return
        async with hub.pool.connection() as conn:
            changed = await db.assign(conn, session.viewer, target(), whom)
        await load()  # first: what the notice tells is on the page when it shows
        ui.notify(f'{len(changed.ids):,} changed, {changed.skipped:,} skipped', type='positive')

    async def anonymize() -> None:
        if len(table.selected) != 1 or not await session.renew():
            return
        question.text = ("Anonymize this sign-up? Its name, child's name, phone, email and note are replaced for "
                         'good; its program, kiosk, dates and status stay for the statistics.')
        go.text = 'Anonymize'
        if not await confirm or not await session.renew():
            return
        async with hub.pool.connection() as conn:
            done = await db.anonymize(conn, session.viewer, table.selected[0]['id'])
        await load()
        ui.notify('Anonymized.' if done else 'Not anonymized: admins only, and only once.',
                  type='positive' if done else 'negative')

    async def save_view() -> None:
        if not await session.renew():
            return
        chosen = form_view()
        async with hub.pool.connection() as conn:
            await db.save_default_view(conn, session.viewer.email, chosen)
        ui.notify('Saved: Sign-ups opens with this view (the search is never kept).')

    async def download(kind: str = 'csv') -> None:
        """The filtered view as CSV or XLSX; do-not-contact sign-ups only when the box says so."""
        if not await session.renew():
            return
        async with hub.pool.connection() as conn:
            rows = await db.signups_export(conn, session.viewer, state['filter'], EXPORT_LIMIT,
                                           include_do_not_contact=with_do_not_contact.value)
        chosen_filter = state['filter']  # which sign-ups went out, as view_signups records it (never the search)
        await session.audit('export', {'rows': len(rows), 'program': chosen_filter.program,
                                       'kiosk': chosen_filter.kiosk, 'status': chosen_filter.status,
                                       'assigned': chosen_filter.assigned, 'searched': bool(chosen_filter.search),
                                       'overdue': chosen_filter.overdue_before is not None, 'format': kind,
                                       'do_not_contact': with_do_not_contact.value})
        name = f'signups-{datetime.now(zone).strftime("%Y%m%d-%H%M")}.{kind}'
        # With do-not-contact sign-ups in it, the file says which they are: a call list is made from it.
        columns = (*EXPORT_COLUMNS, 'do_not_contact') if with_do_not_contact.value else EXPORT_COLUMNS
        # Off the event loop: a workbook of 100,000 rows takes a minute to write, and every other page would wait.
        if kind == 'xlsx':
            content = await asyncio.to_thread(to_xlsx, rows, hub.settings.timezone, columns)
            ui.download.content(content, name, XLSX_TYPE)
        else:
            text = await asyncio.to_thread(to_csv, rows, hub.settings.timezone, columns)
            ui.download.content(text.encode(), name, 'text/csv')

    # `display: contents`: a wrapper for the layout's sake only, so the screen behind a question can be made inert.
    with ui.element('div').style('display: contents') as screen_behind:
        with ui.row().classes('items-end gap-4 wrap'):
            program = ui.select({ANY: 'All my programs' if not viewer.sees_all else 'All programs', **programs},
                                value=view.get('program', ANY), label='Program').classes('min-w-[14rem]') \
                .mark('filter-program')
            kiosk = ui.select({ANY: 'All kiosks', **{name: name for name in kiosks}}, value=view.get('kiosk', ANY),
                              label='Kiosk').classes('min-w-[12rem]').mark('filter-kiosk')
            statuses = {'new': 'New', OVERDUE: f'Overdue (new after {follow_up.window_text()})',
                        **{name: name.capitalize() for name in STATUSES}}
            status = ui.select({ANY: 'Any status', **statuses}, value=view.get('status', ANY), label='Status') \
                .classes('min-w-[10rem]').mark('filter-status')
            assigned = ui.select(ASSIGNED, value=view.get('assigned', ANY), label='Assigned') \
                .classes('min-w-[10rem]').mark('filter-assigned')
            since = ui.input('From', value=view.get('from', '')).props('type=date stack-label').mark('filter-since')
            until = ui.input('To', value=view.get('to', '')).props('type=date stack-label').mark('filter-until')
            search = ui.input('Name or phone').props('clearable').mark('search')
            search.on('keydown.enter', apply_filters)
            ui.button('Show', on_click=apply_filters, color=None).classes('hub-primary').props('no-caps').mark('apply')
            ui.button('Download CSV', on_click=download, color=None).classes('hub-secondary').props('no-caps') \
                .mark('download')
            ui.button('Download XLSX', on_click=lambda: download('xlsx'), color=None).classes('hub-secondary') \
                .props('no-caps').mark('download-xlsx')
            with_do_not_contact = ui.checkbox('Include do-not-contact').mark('include-do-not-contact')
            ui.button('Make this my default view', on_click=save_view, color=None).classes('hub-secondary') \
                .props('no-caps').mark('save-view')

        columns = [{'name': key, 'label': label, 'field': key, 'align': 'left'} for key, label in (
            ('created', 'Made'), ('program', 'Program'), ('name', 'Name'), ('participant', 'Child'), ('age', 'Age'),
            ('contact', 'Contact'), ('note', 'Note'), ('kiosk', 'Kiosk'), ('status', 'Status'),
            ('assigned', 'Assigned to'), ('open', 'Sign-up'))]
        all_matching = ui.checkbox('', on_change=lambda _: show_selection()).mark('all-matching')
        table = ui.table(columns=columns, rows=[], row_key='id', selection='multiple',
                         pagination={'rowsPerPage': 0}, on_select=lambda _: show_selection()) \
            .props('hide-bottom flat bordered').classes('w-full hub-table').mark('signups')
        # Overdue: a red row, and the word itself beside the status, for those who cannot tell red.
        table.props(''':table-row-class-fn="row => row.overdue ? 'hub-overdue' : ''"''')
        table.add_slot('body-cell-status', '''
            <q-td :props="props">{{ props.value }}
                <q-badge v-if="props.row.overdue" class="hub-overdue-badge" label="Overdue" /></q-td>''')
        table.add_slot('body-selection', '''
            <q-checkbox v-model="props.selected" :aria-label="'Select ' + props.row.name" />''')
        table.add_slot('header-selection', '''
            <q-checkbox v-model="props.selected" aria-label="Select every row on this page" />''')
        table.add_slot('body-cell-open', OPEN_CELL)
        with ui.row().classes('items-center gap-4'):
            previous = ui.button('← Newer', on_click=lambda: turn(-1), color=None).classes('hub-secondary') \
                .props('no-caps').mark('newer')
            summary = ui.label().mark('summary')
            following = ui.button('Older →', on_click=lambda: turn(1), color=None).classes('hub-secondary') \
                .props('no-caps').mark('older')
        with ui.card().classes('hub-editor') as editor:
            editing = ui.label().mark('editing')
            with ui.row().classes('items-end gap-4') as status_step:
                new_status = ui.select({}, label='New status') \
                    .classes('min-w-[10rem]').mark('new-status')
                note = ui.input('Note (optional)').classes('min-w-[20rem]').mark('status-note')
                ui.button('Save status', on_click=save_status, color=None).classes('hub-primary').props('no-caps') \
                    .mark('save-status')
        with ui.card().classes('hub-editor') as actions:
            picked = ui.label().mark('picked')
            with ui.row().classes('items-end gap-4') as bulk_status:
                bulk_new_status = ui.select({name: name.capitalize() for name in BULK_STATUSES}, value=BULK_STATUSES[0],
                                            label='Set the status to').classes('min-w-[10rem]').mark('bulk-status')
                bulk_note = ui.input('Note for each (optional)').classes('min-w-[20rem]').mark('bulk-note')
                ui.button('Change status', on_click=change_many, color=None).classes('hub-primary').props('no-caps') \
                    .mark('change-many')
            with ui.row().classes('items-end gap-4'):
                assignee = ui.select({NOBODY: 'Nobody (unassign)', **{email: email for email in assignees}},
                                     value=viewer.email if viewer.email in assignees else NOBODY, label='Assign to') \
                    .classes('min-w-[16rem]').mark('assignee')
                ui.button('Assign', on_click=assign, color=None).classes('hub-primary').props('no-caps').mark('assign')
                anonymize_button = ui.button('Anonymize…', on_click=anonymize, color=None).classes('hub-secondary') \
                    .props('no-caps').mark('anonymize')
    with ui.dialog() as confirm, ui.card():
        question = ui.label().props('role=alert').mark('confirm-question')
        with ui.row().classes('gap-4'):
            ui.button('Cancel', on_click=lambda: confirm.submit(False), color=None).classes('hub-secondary') \
                .props('no-caps').mark('cancel')
            go = ui.button('', on_click=lambda: confirm.submit(True), color=None).classes('hub-primary') \
                .props('no-caps').mark('confirm')
    confirm.props(f'aria-labelledby=c{question.id}')

    def keep_behind_out_of_reach(event: ValueChangeEventArguments) -> None:
        """While the question is open, the screen behind it is inert, for the mouse and screen readers alike."""
        for behind in (screen_behind, ui.query('.hub-header')):
            behind.props('inert') if event.value else behind.props(remove='inert')

    confirm.on_value_change(keep_behind_out_of_reach)
    editor.set_visibility(False)
    actions.set_visibility(False)
    await load()


# -- views: the filter as the URL's query ---------------------------------------------------------------
# The search box's text is never in the URL, nor in a saved view: it may be a name or a phone number, and URLs
# are kept in browser history and proxy logs, and shared. Everything else in a view names no one.

VIEW_KEYS = ('program', 'kiosk', 'status', 'assigned', 'from', 'to')


def view_of(query: Mapping[str, str], programs: Mapping[str, str], kiosks: list[str]) -> dict[str, str]:
    """The filters of a URL query (or a saved view) this viewer can pick; anything else is dropped, not refused."""
    choices = {'program': programs, 'kiosk': kiosks, 'status': (*STATUSES, OVERDUE), 'assigned': ('me', 'nobody')}
    view = {}
    for key in VIEW_KEYS:
        value = query.get(key) or ''
        if value and (_is_date(value) if key in ('from', 'to') else value in choices[key]):
            view[key] = value
    return view


def url_of(view: Mapping[str, str]) -> str:
    """?view=all when nothing is chosen: a bare /signups would open the user's default view instead."""
    return '/signups?' + urlencode(dict(view) or {'view': 'all'})


def filter_of(view: Mapping[str, str], search: str | None, zone: ZoneInfo, follow_up: FollowUp) -> SignupFilter:
    """Overdue is `new` and made before the cut-off, taken when the filter is applied."""
    overdue = view.get('status') == OVERDUE
    return SignupFilter(program=view.get('program'), kiosk=view.get('kiosk'),
                        status='new' if overdue else view.get('status'),
                        overdue_before=follow_up.overdue_before(datetime.now(UTC)) if overdue else None,
                        since=_day_start(view.get('from'), zone), until=_day_start(view.get('to'), zone, 1),
                        search=search, assigned=view.get('assigned'))


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _day_start(text: str | None, zone: ZoneInfo, days_after: int = 0) -> datetime | None:
    return datetime.combine(date.fromisoformat(text), time(), zone) + timedelta(days=days_after) if text else None


def _plural(n: int, noun: str) -> str:
    return f'{n:,} {noun}{"" if n == 1 else "s"}'


def _summary(shown: db.SignupPage, page: int) -> str:
    """'1,234 sign-ups · page 2 of 25', or 'about 1,000,000 sign-ups · page 2' past the exact count."""
    if not shown.exact:
        about = round(shown.total, 2 - len(str(shown.total)))  # two significant digits: it is an estimate
        return f'about {about:,} sign-ups · page {page + 1}'
    pages = max(1, -(-shown.total // PER_PAGE))
    return f'{shown.total:,} sign-up{"s" if shown.total != 1 else ""} · page {page + 1} of {pages}'


def _row(row: dict, programs: dict[str, str], zone: ZoneInfo, overdue_before: datetime) -> dict:
    """Plain text for the table (Quasar never renders cell values as HTML), and whether the row is overdue."""
    contact = ' · '.join(part for part in (friendly(row['phone']) if row['phone'] else '', row['email'],
                                           row['contact_method']) if part)
    return {'id': row['id'], 'created': row['created_at'].astimezone(zone).strftime('%Y-%m-%d %H:%M'),
            'program': programs.get(row['program'], row['program']),
            'name': '(anonymized)' if row['anonymized_at'] else row['name'],
            'participant': row['participant_name'], 'age': '' if row['age'] is None else row['age'],
            'contact': contact, 'note': row['note'], 'kiosk': row['kiosk'], 'status': row['status'],
            'assigned': row['assigned_to'] or '',
            'overdue': row['status'] == 'new' and row['created_at'] < overdue_before}


def _marks(mark: dict | None) -> dict:
    """A row's marks in the list: the do-not-contact badge's text ('' for none), whether the row itself is marked,
    how many possible duplicates."""
    if mark is None:
        return {'do_not_contact': '', 'flagged': False, 'duplicates': 0}
    flag = ('Do not contact' if mark['do_not_contact'] else
            'Do not contact (same phone or email)' if mark['do_not_contact_elsewhere'] else '')
    return {'do_not_contact': flag, 'flagged': bool(mark['do_not_contact']), 'duplicates': mark['duplicates']}
