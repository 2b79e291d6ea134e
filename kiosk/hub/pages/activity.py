"""Sign-ups per program per week across the fleet, for the programs the viewer runs."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from nicegui import ui

from kiosk.hub import db
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import Session, screen
from kiosk.reports import week_starts


def register(hub: Hub) -> None:
    screen(hub, '/activity')(lambda session: _screen(hub, session))


async def _screen(hub: Hub, session: Session) -> None:
    zone = ZoneInfo(hub.settings.timezone)
    weeks = week_starts(datetime.now(zone).date())
    async with hub.pool.connection() as conn:
        counts = await db.signups_per_week(conn, session.viewer, datetime.combine(weeks[0], time(), zone),
                                           hub.settings.timezone)
    programs = {slug: title for slug, title in hub.programs.items()
                if session.viewer.sees_all or slug in session.viewer.programs}
    per_program = {slug: [0] * len(weeks) for slug in programs}
    for row in counts:
        if row['program'] in per_program and row['week'] in weeks:
            per_program[row['program']][weeks.index(row['week'])] = row['n']
    ui.echart({
        'title': {'text': 'Sign-ups per week'}, 'tooltip': {'trigger': 'axis'}, 'legend': {'bottom': 0},
        'aria': {'enabled': True},
        'xAxis': {'type': 'category', 'data': [week.strftime('%b %d') for week in weeks]},
        'yAxis': {'type': 'value', 'minInterval': 1},
        'series': [{'name': programs[slug], 'type': 'bar', 'stack': 'signups', 'data': data}
                   for slug, data in per_program.items()],
    }).classes('w-full h-[28rem]').mark('chart')
    total = sum(sum(data) for data in per_program.values())
    ui.label(f'{total:,} sign-ups in the last {len(weeks)} weeks').mark('activity-total')
