"""The audit log, for admins: who signed in, looked, exported, changed a status or a token, and when."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from kiosk.hub import db
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import TITLES, frame, open_screen

PER_PAGE = 100


def register(hub: Hub) -> None:
    @ui.page('/audit')
    async def audit(request: Request, page: int = 0) -> RedirectResponse | None:
        session = await open_screen(hub, request, '/audit')
        if isinstance(session, RedirectResponse):
            return session
        with frame(session, TITLES['/audit'], '/audit'):
            await _screen(hub, max(0, page))
        return None


async def _screen(hub: Hub, page: int) -> None:
    zone = ZoneInfo(hub.settings.timezone)
    async with hub.pool.connection() as conn:
        rows, total = await db.audit_page(conn, page=page, per_page=PER_PAGE)
    columns = [{'name': key, 'label': label, 'field': key, 'align': 'left'}
               for key, label in (('at', 'When'), ('actor', 'Who'), ('action', 'What'), ('detail', 'Detail'))]
    ui.table(columns=columns, rows=[{'at': row['at'].astimezone(zone).strftime('%Y-%m-%d %H:%M:%S'),
                                     'actor': row['actor'], 'action': row['action'],
                                     'detail': json.dumps(row['detail'], sort_keys=True)} for row in rows],
             pagination={'rowsPerPage': 0}).props('hide-bottom flat bordered').classes('w-full hub-table').mark('audit')
    with ui.row().classes('items-center gap-4'):
        if page > 0:
            ui.link('← Newer', f'/audit?page={page - 1}')
        ui.label(f'{total:,} entries · page {page + 1} of {max(1, -(-total // PER_PAGE))}')
        if (page + 1) * PER_PAGE < total:
            ui.link('Older →', f'/audit?page={page + 1}')
