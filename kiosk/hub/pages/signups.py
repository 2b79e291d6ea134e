"""Sign-ups, newest first, a page at a time from PostgreSQL, only for the programs the viewer runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from nicegui import ui

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
    # `since`: where the page shown starts, {'older_than': (created_at, id)} or 'newer_than'; {} for the newest.
    state = {'filter': SignupFilter(), 'page': 0, 'since': {}, 'rows': []}

    def chosen(value: str) -> str | None:
        return value or None

    def status_filter(value: str) -> dict:
        """Overdue is `new` and made before the cut-off, taken when the filter is applied."""
        if value == OVERDUE:
            return {'status': 'new', 'overdue_before': follow_up.overdue_before(datetime.now(UTC))}
        return {'status': chosen(value)}

    def day_start(text: str, days_after: int = 0) -> datetime | None:
        return datetime.combine(date.fromisoformat(text), time(), zone) + timedelta(days=days_after) if text else None

    async def apply_filters() -> None:
        state['filter'] = SignupFilter(program=chosen(program.value), kiosk=chosen(kiosk.value),
                                       **status_filter(status.value), since=day_start(since.value or ''),
                                       until=day_start(until.value or '', 1), search=search.value or None)
        state.update(page=0, since={})
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
                                             'status': chosen_filter.status, 'searched': bool(chosen_filter.search),
                                             'overdue': chosen_filter.overdue_before is not None,
                                             'page': state['page'], 'shown': len(rows)})
        state['rows'] = rows
        overdue_before = follow_up.overdue_before(datetime.now(UTC))
        table.rows = [{**_row(row, programs, zone, overdue_before), **_marks(marks.get(row['id']))} for row in rows]
        table.selected = []
        summary.text = _summary(shown, state['page'])
        previous.set_enabled(shown.newer)
        following.set_enabled(shown.older)
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
        editor.set_visibility(bool(table.selected))
        if table.selected:
            picked = table.selected[0]
            editing.text = f'Change the status of {picked["name"]} ({picked["program"]}), now {picked["status"]}:'
            # Closing as a duplicate names the original: that is on the sign-up's own page, beside its duplicates.
            next_statuses = [name for name in NEXT_STATUSES[picked['status']] if name != 'duplicate']
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

    async def download(kind: str = 'csv') -> None:
        """The filtered view as CSV or XLSX; do-not-contact sign-ups only when the box says so."""
        if not await session.renew():
            return
        async with hub.pool.connection() as conn:
            rows = await db.signups_export(conn, session.viewer, state['filter'], EXPORT_LIMIT,
                                           include_do_not_contact=with_do_not_contact.value)
        await session.audit('export', {'rows': len(rows), 'program': state['filter'].program, 'format': kind,
                                       'do_not_contact': with_do_not_contact.value})
        name = f'signups-{datetime.now(zone).strftime("%Y%m%d-%H%M")}.{kind}'
        if kind == 'xlsx':
            ui.download.content(to_xlsx(rows, hub.settings.timezone, EXPORT_COLUMNS), name, XLSX_TYPE)
        else:
            ui.download.content(to_csv(rows, hub.settings.timezone, EXPORT_COLUMNS).encode(), name, 'text/csv')

    with ui.row().classes('items-end gap-4 wrap'):
        program = ui.select({ANY: 'All my programs' if not viewer.sees_all else 'All programs', **programs},
                            value=ANY, label='Program').classes('min-w-[14rem]').mark('filter-program')
        kiosk = ui.select({ANY: 'All kiosks', **{name: name for name in kiosks}}, value=ANY, label='Kiosk') \
            .classes('min-w-[12rem]').mark('filter-kiosk')
        statuses = {'new': 'New', OVERDUE: f'Overdue (new after {follow_up.days} business days)',
                    **{name: name.capitalize() for name in STATUSES}}
        status = ui.select({ANY: 'Any status', **statuses}, value=ANY, label='Status') \
            .classes('min-w-[10rem]').mark('filter-status')
        since = ui.input('From').props('type=date stack-label').mark('filter-since')
        until = ui.input('To').props('type=date stack-label').mark('filter-until')
        search = ui.input('Name or phone').props('clearable').mark('search')
        search.on('keydown.enter', apply_filters)
        ui.button('Show', on_click=apply_filters, color=None).classes('hub-primary').props('no-caps').mark('apply')
        ui.button('Download CSV', on_click=download, color=None).classes('hub-secondary').props('no-caps') \
            .mark('download')
        ui.button('Download XLSX', on_click=lambda: download('xlsx'), color=None).classes('hub-secondary') \
            .props('no-caps').mark('download-xlsx')
        with_do_not_contact = ui.checkbox('Include do-not-contact').mark('include-do-not-contact')

    columns = [{'name': key, 'label': label, 'field': key, 'align': 'left'} for key, label in (
        ('created', 'Made'), ('program', 'Program'), ('name', 'Name'), ('participant', 'Child'), ('age', 'Age'),
        ('contact', 'Contact'), ('note', 'Note'), ('kiosk', 'Kiosk'), ('status', 'Status'), ('open', 'Sign-up'))]
    table = ui.table(columns=columns, rows=[], row_key='id', selection='single',
                     pagination={'rowsPerPage': 0}, on_select=lambda _: show_selection()) \
        .props('hide-bottom flat bordered').classes('w-full hub-table').mark('signups')
    # Overdue: a red row, and the word itself beside the status, for those who cannot tell red.
    table.props(''':table-row-class-fn="row => row.overdue ? 'hub-overdue' : ''"''')
    table.add_slot('body-cell-status', '''
        <q-td :props="props">{{ props.value }}
            <q-badge v-if="props.row.overdue" class="hub-overdue-badge" label="Overdue" /></q-td>''')
    table.add_slot('body-selection', '''
        <q-checkbox v-model="props.selected" :aria-label="'Select ' + props.row.name" />''')
    table.add_slot('body-cell-open', OPEN_CELL)
    with ui.row().classes('items-center gap-4'):
        previous = ui.button('← Newer', on_click=lambda: turn(-1), color=None).classes('hub-secondary') \
            .props('no-caps').mark('newer')
        summary = ui.label().mark('summary')
        following = ui.button('Older →', on_click=lambda: turn(1), color=None).classes('hub-secondary') \
            .props('no-caps').mark('older')
    with ui.card().classes('hub-editor') as editor:
        editing = ui.label()
        with ui.row().classes('items-end gap-4'):
            new_status = ui.select({}, label='New status') \
                .classes('min-w-[10rem]').mark('new-status')
            note = ui.input('Note (optional)').classes('min-w-[20rem]').mark('status-note')
            ui.button('Save status', on_click=save_status, color=None).classes('hub-primary').props('no-caps') \
                .mark('save-status')
    editor.set_visibility(False)
    await load()


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
            'program': programs.get(row['program'], row['program']), 'name': row['name'],
            'participant': row['participant_name'], 'age': '' if row['age'] is None else row['age'],
            'contact': contact, 'note': row['note'], 'kiosk': row['kiosk'], 'status': row['status'],
            'overdue': row['status'] == 'new' and row['created_at'] < overdue_before}


def _marks(mark: dict | None) -> dict:
    """A row's marks in the list: the do-not-contact badge's text ('' for none), how many possible duplicates."""
    if mark is None:
        return {'do_not_contact': '', 'duplicates': 0}
    flag = ('Do not contact' if mark['do_not_contact'] else
            'Do not contact (same phone or email)' if mark['do_not_contact_elsewhere'] else '')
    return {'do_not_contact': flag, 'duplicates': mark['duplicates']}
