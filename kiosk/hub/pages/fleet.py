"""The fleet: one line per kiosk, and the ones that went quiet stand out in red."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from nicegui import ui

from kiosk.hub import db
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import screen
from kiosk.hub.pages.table import cell, figures_table

HEADINGS = ('Kiosk', 'Last seen', 'Queued', 'Rejected', 'Warnings', 'Version', 'Content', 'Last sync success',
            'Sign-ups today', 'This week')


def register(hub: Hub) -> None:
    screen(hub, '/kiosks')(lambda session: _screen(hub, session.viewer))


async def _screen(hub: Hub, viewer: db.Viewer) -> None:
    zone = ZoneInfo(hub.settings.timezone)
    async with hub.pool.connection() as conn:
        rows = await db.fleet(conn, viewer, hub.settings.stale_minutes, hub.settings.timezone)
    stale = sum(1 for row in rows if row['stale'] and not row['revoked'])
    ui.label(f'{len(rows)} kiosk{"s" if len(rows) != 1 else ""}; '
             f'{stale} silent for more than {hub.settings.stale_minutes} minutes').mark('fleet-summary')
    if not viewer.sees_all:
        ui.label('Sign-up counts are for your programs only.')
    else:
        await _mail_status(hub, zone)
    with figures_table(HEADINGS, 'hub-fleet', 'fleet'):
        for row in rows:
            quiet = row['stale'] and not row['revoked']
            with ui.element('tr').classes('stale' if quiet else '').mark(f'kiosk-{row["name"]}'):
                cell(row['name'] + (' (revoked)' if row['revoked'] else ''))
                cell(_seen(row['last_seen'], zone) + (' — silent' if quiet else ''))
                for value in (row['queued'], row['rejected'], ', '.join(row['warnings']) or '—',
                              row['version'] or '—', (row['content_hash'] or '—')[:8],
                              _seen(datetime.fromisoformat(row['last_sync_success']), zone)
                              if row['last_sync_success'] else '—', row['today'], row['this_week']):
                    cell('—' if value is None else str(value))


async def _mail_status(hub: Hub, zone: ZoneInfo) -> None:
    """For admins: whether the hub can send mail at all, and mail that keeps failing (with why, never to whom)."""
    if not hub.settings.smtp_url:
        ui.label('Mail is off: no mail server is set (KIOSK_HUB_SMTP_URL), so nobody gets notifications.')\
            .classes('hub-message').mark('mail-status')
        return
    async with hub.pool.connection() as conn:
        outbox = await db.outbox_health(conn)
    if outbox['failing']:
        ui.label(f'Mail is failing: {outbox["failing"]} of {outbox["waiting"]} waiting mail(s) could not be sent '
                 f'({outbox["last_error"]}); the next try is at {_seen(outbox["next_attempt"], zone)}, the oldest '
                 f'has waited since {_seen(outbox["oldest_waiting"], zone)}.').classes('hub-message') \
            .props('role=alert').mark('mail-status')
    else:
        ui.label(f'Mail: {outbox["waiting"]} waiting; last sent {_seen(outbox["last_sent"], zone)}.') \
            .mark('mail-status')


def _seen(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime('%Y-%m-%d %H:%M') if moment else 'never'
