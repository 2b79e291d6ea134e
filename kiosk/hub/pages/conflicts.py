"""Conflicts, for admins: a record that came again with other content, beside the one kept, to be resolved."""

from __future__ import annotations

import json
from collections.abc import Callable
from zoneinfo import ZoneInfo

from nicegui import ui

from kiosk.hub import db
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import Session, screen

FIELDS = ('created_at', 'program', 'name', 'participant_name', 'phone', 'email', 'contact_method', 'age', 'note',
          'language', 'consent', 'kiosk_id')


def register(hub: Hub) -> None:
    async def conflicts(session: Session) -> None:
        @ui.refreshable  # this page's own: a resolve redraws this tab, never another admin's
        async def listing() -> None:
            await _conflicts(hub, session, listing.refresh)
        await listing()

    screen(hub, '/conflicts')(conflicts)


def _shown(value: object) -> str:
    return '' if value is None else value if isinstance(value, str) else json.dumps(value)


async def _conflicts(hub: Hub, session: Session, refresh: Callable[[], object]) -> None:
    zone = ZoneInfo(hub.settings.timezone)
    async with hub.pool.connection() as conn:
        rows = await db.open_conflicts(conn)
    if not rows:
        ui.label('No conflicts to review.').mark('no-conflicts')
        return

    async def resolve(seq: int, resolution: str) -> None:
        if not await session.renew() or not session.viewer.sees_all:
            return
        async with hub.pool.connection() as conn:
            closed = await db.resolve_conflict(conn, seq, session.viewer.email, resolution)
        ui.notify('Resolved.' if closed else 'Another desk resolved it first.')
        refresh()

    for row in rows:
        stored, incoming = row['stored'] or {}, row['incoming']
        received = row['received_at'].astimezone(zone).strftime('%Y-%m-%d %H:%M:%S')
        with ui.card().classes('w-full').props('flat bordered').mark('conflict'):
            ui.html(f'<h2>Sign-up {row["signup_id"]}</h2>')
            ui.label(f'Sent again by kiosk {row["kiosk"]} at {received}, with other content'
                     + ('' if row['stored'] else ' (the stored record is gone)') + '.')
            columns = [{'name': key, 'label': label, 'field': key, 'align': 'left'}
                       for key, label in (('field', 'Field'), ('stored', 'Stored'), ('incoming', 'Incoming'),
                                          ('differs', 'Differs'))]
            ui.table(columns=columns, row_key='field', rows=[
                {'field': name, 'stored': _shown(stored.get(name)), 'incoming': _shown(incoming.get(name)),
                 'differs': 'yes' if stored.get(name) != incoming.get(name) else ''} for name in FIELDS],
                pagination={'rowsPerPage': 0}).props('hide-bottom flat dense').classes('w-full hub-table')
            with ui.row().classes('gap-4'):
                ui.button('Keep the stored one', on_click=lambda seq=row['seq']: resolve(seq, 'kept_stored'),
                          color=None).props('no-caps').classes('hub-primary')
                ui.button('Mark reviewed', on_click=lambda seq=row['seq']: resolve(seq, 'reviewed'),
                          color=None).props('no-caps').classes('hub-secondary')
