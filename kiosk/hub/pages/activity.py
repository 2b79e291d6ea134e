"""Sign-ups per program per week, and how soon they were first contacted per program and month, for the programs
the viewer runs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nicegui import ui

from kiosk.hub import db
from kiosk.hub.follow_up import FollowUp, days_of_recent_months, duration_text
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import Session, screen
from kiosk.hub.pages.table import cell, figures_table
from kiosk.reports import week_starts

CONTACT_MONTHS = 6


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
    await _first_contact(hub, session, programs)


async def _first_contact(hub: Hub, session: Session, programs: dict[str, str]) -> None:
    """Per month and program: the median and 90th percentile time to first contact, and the share in time."""
    follow_up = FollowUp.from_settings(hub.settings)
    now = datetime.now(UTC)
    deadlines = follow_up.deadlines(days_of_recent_months(now.astimezone(follow_up.zone).date(), CONTACT_MONTHS))
    async with hub.pool.connection() as conn:
        rows = await db.first_contact_figures(conn, session.viewer, deadlines, now, hub.settings.timezone)
    window = follow_up.window_text()
    ui.html('<h2>Time to first contact</h2>')
    ui.label(f'From a sign-up to its first change of status, for sign-ups made in each of the last {CONTACT_MONTHS} '
             f'months. The median and the 90th percentile are of those contacted so far; "in time" means within '
             f'{window} after the day it was made, out of those contacted or already past that window.')
    if not rows:
        ui.label('No sign-ups in these months.').mark('contact-empty')
        return
    headings = ('Month', 'Program', 'Sign-ups', 'Contacted', 'Median', '90th percentile', f'Within {window}')
    with figures_table(headings, 'hub-figures', 'first-contact'):
        for row in rows:
            with ui.element('tr').mark(f'contact-{row["program"]}-{row["month"]:%Y-%m}'):
                for value in (f'{row["month"]:%B %Y}', programs.get(row['program'], row['program']),
                              f'{row["signups"]:,}', f'{row["contacted"]:,}', _span(row['median']),
                              _span(row['p90']), _share(row)):
                    cell(value)


def _span(span: timedelta | None) -> str:
    return '—' if span is None else duration_text(span)


def _share(row: dict[str, Any]) -> str:
    if not row['decided']:
        return '— (none due yet)'
    return f'{row["in_time"] / row["decided"]:.0%} ({row["in_time"]} of {row["decided"]})'
