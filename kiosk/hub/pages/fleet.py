"""The fleet: one line per kiosk, and the ones that went quiet stand out in red; what content each runs, from its own
heartbeat; for admins, the canary switches and the content rollout's panel (pause, resume, abort)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from nicegui import ui

from kiosk.hub import db, rollout
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import Session, screen
from kiosk.hub.pages.table import cell, figures_table

HEADINGS = ('Kiosk', 'Last seen', 'Queued', 'Rejected', 'Warnings', 'Version', 'Content', 'Canary',
            'Last sync success', 'Sign-ups today', 'This week')


def register(hub: Hub) -> None:
    screen(hub, '/kiosks')(lambda session: _screen(hub, session))


async def _screen(hub: Hub, session: Session) -> None:
    viewer = session.viewer
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

        @ui.refreshable  # this page's own: a refresh redraws this tab's panel, never another admin's
        async def rollout_panel() -> None:
            await _rollout_panel(hub, session, rollout_panel.refresh)
        await rollout_panel()
    with figures_table(HEADINGS, 'hub-fleet', 'fleet'):
        for row in rows:
            quiet = row['stale'] and not row['revoked']
            with ui.element('tr').classes('stale' if quiet else '').mark(f'kiosk-{row["name"]}'):
                cell(row['name'] + (' (revoked)' if row['revoked'] else ''))
                cell(_seen(row['last_seen'], zone) + (' — silent' if quiet else ''))
                for value in (row['queued'], row['rejected'], ', '.join(row['warnings']) or '—',
                              row['version'] or '—', content_state(row)):
                    cell('—' if value is None else str(value))
                _canary_cell(hub, session, row)
                for value in (_seen(datetime.fromisoformat(row['last_sync_success']), zone)
                              if row['last_sync_success'] else '—', row['today'], row['this_week']):
                    cell('—' if value is None else str(value))


def content_state(row: dict) -> str:
    """What the kiosk's own last heartbeat says it runs: current, staged, behind by N (the versions published for it
    since; and whether the rollout holds it back), or failed with the kiosk's reason."""
    if row['content_version'] is None:
        return 'not reported'
    runs, newest = int(row['content_version']), row['content_newest'] or 0
    text = f'version {runs}'
    if row['content_error']:
        return f'{text}; failed: {row["content_error"]}'
    if row['content_staged'] is not None:
        return f'{text}; version {int(row["content_staged"])} staged'
    if runs >= newest:
        return f'{text}, current'
    held = (row['content_served'] or 0) <= runs
    return f'{text}, behind by {row["content_behind"]}' + (' (the rollout has not reached it)' if held else '')


def _canary_cell(hub: Hub, session: Session, row: dict) -> None:
    with ui.element('td'):
        if not session.viewer.sees_all or row['revoked']:
            ui.label('canary' if row['canary'] else '—')
            return
        name = row['name']

        async def toggle(event) -> None:
            if not await session.renew() or not session.viewer.sees_all:
                return
            async with hub.pool.connection() as conn:
                changed = await db.set_canary(conn, name, event.value)
                if changed:
                    await db.audit(conn, session.viewer.email, 'kiosk_canary', {'kiosk': name, 'canary': event.value})
            ui.notify(f'{name} is {"a canary: it gets new content first" if event.value else "no longer a canary"}.'
                      if changed else f'{name} was revoked meanwhile.')

        ui.switch('canary', value=row['canary'], on_change=toggle).props(f'aria-label="{name} is a canary"') \
            .mark(f'canary-{name}')


async def _rollout_panel(hub: Hub, session: Session, refresh: Callable[[], object]) -> None:
    """For admins: the newest content version's rollout, and the buttons that hold it or stop it."""
    async with hub.pool.connection() as conn:
        status = await rollout.status(conn, hub.settings.rollout_soak_minutes, hub.settings.stale_minutes)
    if status is None:
        return

    async def step(action) -> None:
        if not await session.renew() or not session.viewer.sees_all:
            return
        async with hub.pool.connection() as conn:
            try:
                version = await action(conn, session.viewer.email)
            except rollout.RolloutError as error:
                ui.notify(f'{str(error).capitalize()}.')
            else:
                ui.notify(f'Version {version}: done.')
        refresh()

    with ui.column().classes('gap-1').mark('rollout'):
        ui.html('<h2>Content rollout</h2>')
        for line in status.lines():
            ui.label(line.strip())
        with ui.row().classes('gap-4'):
            if status.stage in ('canary', 'all'):
                ui.button('Pause the rollout', on_click=lambda: step(rollout.pause), color=None) \
                    .props('no-caps').classes('hub-secondary')
            if status.stage == 'paused':
                ui.button('Resume the rollout', on_click=lambda: step(rollout.resume), color=None) \
                    .props('no-caps').classes('hub-primary')
            if status.stage != 'aborted':
                ui.button('Abort the rollout…', on_click=lambda: confirm.set_visibility(True), color=None) \
                    .props('no-caps').classes('hub-secondary')
        if status.stage != 'aborted':  # asked in the page, not in a dialog: nothing floats over the fleet
            with ui.row().classes('hub-message items-center gap-4') as confirm:
                ui.label(f'Abort the rollout of version {status.version}? No other kiosk will get it; the kiosks '
                         'that have it keep it until a new version is published.')
                ui.button('Abort the rollout', on_click=lambda: step(rollout.abort), color=None).props('no-caps') \
                    .classes('hub-primary')
                ui.button('Keep it going', on_click=lambda: confirm.set_visibility(False), color=None) \
                    .props('no-caps').classes('hub-secondary')
            confirm.set_visibility(False)


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
