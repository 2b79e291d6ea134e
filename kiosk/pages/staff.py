"""The staff console: behind a PIN, what is waiting, how the kiosk is, and the few things staff do.

Unlocking lives in the Visit of this page load only; locking, staff idle and the kiosk's idle reset
all end with a full page load, so no staff data is ever left in a page a visitor could see.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal
from nicegui import ui

from kiosk.export import clear_leftovers, to_csv, usb_stick_mounted
from kiosk.i18n import t
from kiosk.kiosk import Kiosk
from kiosk.pages.components.heading import Heading
from kiosk.pages.components.pin_pad import pin_pad
from kiosk.phone import friendly
from kiosk.reports import signups_per_week, views_per_program, week_starts
from kiosk.signups import STATUSES
from kiosk.storage.atomic import write_atomically
from kiosk.storage.store import Page, Selection
from kiosk.visit import Visit

ALL = 'all'
PAGE_SIZE = 25


async def screen(kiosk: Kiosk, visit: Visit) -> None:
    language = visit.language
    with ui.column().classes('screen w-full'):
        Heading(t('staff_title', language))
        if not kiosk.pin.is_set:
            ui.label(t('staff_no_pin', language)).classes('text-h6').mark('no-pin')
        elif not visit.staff_unlocked:
            _unlock(kiosk, visit)
        else:
            await _console(kiosk, visit)


def _unlock(kiosk: Kiosk, visit: Visit) -> None:
    language = visit.language

    async def try_pin(pin: str) -> None:
        attempt = await asyncio.to_thread(kiosk.pin.check, pin)
        if attempt.ok:
            kiosk.audit.record('unlock')
            visit.staff_unlocked = True
            visit.touch()
            await ui.context.client.sub_pages_router.refresh()
            return
        if attempt.locked_for and not attempt.just_locked:
            message.text = t('staff_locked', language, minutes=math.ceil(attempt.locked_for / 60))
            return
        if attempt.not_a_pin:
            message.text = t('staff_not_a_pin', language)
            return
        kiosk.audit.record('pin_failed')
        if attempt.just_locked:
            kiosk.audit.record('lockout')
            message.text = t('staff_locked', language, minutes=math.ceil(attempt.locked_for / 60))
        else:
            message.text = t('staff_wrong_pin', language)

    ui.label(t('staff_enter_pin', language))
    message = pin_pad(language, try_pin)
    if locked_for := kiosk.pin.locked_for():
        message.text = t('staff_locked', language, minutes=math.ceil(locked_for / 60))


async def _console(kiosk: Kiosk, visit: Visit) -> None:
    language = visit.language
    settings = kiosk.settings
    zone = ZoneInfo(settings.timezone)
    titles = {program.slug: program.words(language).title for program in kiosk.catalog.program}
    filters = {'program': ALL, 'status': 'queued', 'show_pulled': False}
    paging = {'offset': 0}  # where the page on screen starts among the selected records
    exported: set[str] = set()

    def lock() -> None:
        kiosk.audit.record('lock')
        ui.context.client.open('/')  # a full load: nothing of the console stays in the page

    @ui.refreshable
    async def overview() -> None:
        report = await asyncio.to_thread(kiosk.report)
        with ui.row().classes('gap-4 items-stretch'):
            for status in STATUSES:
                with ui.column().classes('staff-tile gap-0').mark(f'count-{status}'):
                    ui.label(t(f'status_{status}', language))
                    ui.label(str(report[status])).classes('number')
            with ui.column().classes('staff-tile gap-0'):
                ui.label(t('staff_sync', language))
                if not kiosk.syncer.configured:
                    ui.label(t('staff_sync_off', language)).mark('sync-off')
                else:
                    ui.label(t('staff_last_attempt', language, when=_local(report['last_sync_attempt'], zone)))
                    ui.label(t('staff_last_success', language, when=_local(report['last_sync_success'], zone)))
                    if report['last_sync_error']:
                        ui.label(t('staff_last_error', language, error=report['last_sync_error']))
            with ui.column().classes('staff-tile gap-0'):
                ui.label(t('staff_disk_free', language))
                ui.label(f'{report["disk_free_mb"]:,} MB').classes('number')
            if report['printer']:
                with ui.column().classes('staff-tile gap-0').mark('printer-state'):
                    ui.label(t('staff_printer', language))
                    ui.label(t(f'printer_{report["printer"]}', language)).classes('number')
        for warning in report['warnings']:
            if warning != 'sync_off':
                ui.label(t(f'warning_{warning}', language)).classes('staff-warning').mark(f'warning-{warning}')

    async def sync_now() -> None:
        kiosk.audit.record('sync_now')
        kiosk.jobs.sync_now()
        ui.notify(t('staff_sync_started', language))

    async def retry_rejected() -> None:
        retried = await asyncio.to_thread(kiosk.store.retry_rejected)
        kiosk.audit.record('retry_rejected', retried)
        kiosk.jobs.sync_now()
        await refresh_all()

    def selection() -> Selection:
        return Selection(program=None if filters['program'] == ALL else filters['program'],
                         status=None if filters['status'] == ALL else filters['status'],
                         include_pulled=filters['show_pulled'])

    async def choose(**change) -> None:
        """A new filter starts at its first page."""
        filters.update(change)
        paging['offset'] = 0
        await show_page()

    async def turn(pages: int) -> None:
        paging['offset'] = max(0, paging['offset'] + pages * PAGE_SIZE)
        await show_page()

    async def load_page() -> Page:
        """One page of the selection, read through the store's index: fast with tens of thousands stored."""
        return await asyncio.to_thread(kiosk.store.listing, selection(), paging['offset'], PAGE_SIZE)

    async def show_page() -> None:
        draw(await load_page())

    def draw(page: Page) -> None:
        """The table on screen changes its rows in place, which the browser redraws far quicker than a new table."""
        paging['offset'] = page.offset  # the store keeps it inside the list, after marking shortened it
        range_label.text = t('staff_range', language, first=_number(page.offset + 1, language),
                             last=_number(page.offset + len(page.records), language),
                             total=_number(page.total, language)) if page.total else t('staff_none_listed', language)
        previous.set_enabled(page.offset > 0)
        following.set_enabled(page.offset + len(page.records) < page.total)
        table.selected = []
        table.rows = [_row(record, titles, zone, language) for record in page.records]

    @ui.refreshable
    async def export_offer() -> None:
        """CSVs only onto a mounted USB stick; without one, what downloads left on the SD card is deleted first."""
        await asyncio.to_thread(clear_leftovers, settings.export_dir)
        if await asyncio.to_thread(usb_stick_mounted, settings.export_dir):
            ui.button(t('staff_download', language), on_click=download, color=None).classes('secondary-action') \
                .props('no-caps').mark('download')
            ui.button(t('staff_save_usb', language), on_click=save_to_usb, color=None) \
                .classes('secondary-action').props('no-caps').mark('save-usb')
        else:
            ui.label(t('staff_no_usb', language)).classes('staff-warning').mark('no-usb')
            ui.button(t('staff_check_usb', language), on_click=export_offer.refresh, color=None) \
                .classes('secondary-action').props('no-caps').mark('check-usb')

    async def stick_still_in() -> bool:
        """Checked again at the tap: a stick pulled out since the console opened must not send a CSV to the SD card."""
        if await asyncio.to_thread(usb_stick_mounted, settings.export_dir):
            return True
        await export_offer.refresh()
        return False

    async def download() -> None:
        if not await stick_still_in():
            return
        shown = (await asyncio.to_thread(kiosk.store.listing, selection())).records  # every page of the selection
        ui.download.content(to_csv(shown, settings.timezone).encode(), _filename(), 'text/csv')
        exported.clear()
        exported.update(record['id'] for record in shown)
        kiosk.audit.record('export_download', len(shown))
        mark_exported.text = t('staff_mark_exported', language, count=len(exported))
        mark_exported.set_visibility(bool(exported))

    async def save_to_usb() -> None:
        if not await stick_still_in():
            return
        target = settings.export_dir / _filename()
        shown = (await asyncio.to_thread(kiosk.store.listing, selection())).records
        try:
            await asyncio.to_thread(write_atomically, target, to_csv(shown, settings.timezone).encode())
        except OSError as error:
            ui.notify(t('staff_usb_failed', language, error=error.strerror or error), type='negative')
            return
        exported.clear()
        exported.update(record['id'] for record in shown)
        kiosk.audit.record('export_usb', len(shown))
        ui.notify(t('staff_usb_saved', language, file=target.name, count=len(shown)), type='positive')
        mark_exported.text = t('staff_mark_exported', language, count=len(exported))
        mark_exported.set_visibility(bool(exported))

    async def mark_pulled(ids: set[str]) -> None:
        changed = await asyncio.to_thread(kiosk.store.mark_pulled, ids, datetime.now(zone))
        kiosk.audit.record('mark_pulled', changed)
        exported.clear()
        mark_exported.set_visibility(False)
        await refresh_all()

    async def refresh_all() -> None:
        await overview.refresh()
        await show_page()
        audit_view.refresh()

    with ui.row().classes('gap-4'):
        ui.button(t('staff_sync_now', language), on_click=sync_now, color=None).classes('primary-action') \
            .props('no-caps').mark('sync-now')
        ui.button(t('staff_retry_rejected', language), on_click=retry_rejected, color=None) \
            .classes('secondary-action').props('no-caps').mark('retry-rejected')
        ui.button(t('staff_lock', language), on_click=lock, color=None).classes('secondary-action') \
            .props('no-caps').mark('lock')
    ui.label(t('staff_rejected_lifetime', language, days=settings.rejected_retention_days)).mark('rejected-lifetime')
    await overview()

    Heading(t('staff_signups', language), 2)
    with ui.row().classes('gap-4 items-center'):
        ui.select({ALL: t('staff_all_programs', language), **titles}, value=ALL, label=t('column_program', language),
                  on_change=lambda e: choose(program=e.value)) \
            .classes('min-w-[18rem]').props('outlined').mark('filter-program')
        ui.select({ALL: t('staff_all_statuses', language), **{s: t(f'status_{s}', language) for s in STATUSES}},
                  value='queued', label=t('column_status', language),
                  on_change=lambda e: choose(status=e.value)) \
            .classes('min-w-[14rem]').props('outlined').mark('filter-status')
        ui.switch(t('staff_show_pulled', language),
                  on_change=lambda e: choose(show_pulled=e.value)).mark('show-pulled')
    first_page = await load_page()  # before the list is drawn: it never shows empty while its records load
    with ui.row().classes('gap-4 items-center'):
        previous = ui.button(t('staff_previous_page', language), icon='chevron_left', on_click=lambda: turn(-1),
                             color=None).classes('secondary-action').props('no-caps') \
            .mark('page-previous')
        range_label = ui.label().classes('text-h6').props('role=status').mark('listed')  # read out as it changes
        following = ui.button(t('staff_next_page', language), icon='chevron_right', on_click=lambda: turn(1),
                              color=None).classes('secondary-action').props('no-caps icon-right') \
            .mark('page-next')
    columns = [{'name': key, 'label': t(f'column_{key}', language), 'field': key, 'align': 'left'}
               for key in ('time', 'program', 'name', 'participant', 'contact', 'age', 'note', 'status')]
    table = ui.table(columns=columns, rows=[], row_key='id', selection='multiple').classes('staff-table') \
        .mark('signups')
    draw(first_page)
    with ui.row().classes('gap-4 items-center'):
        await export_offer()
        ui.button(t('staff_mark_selected', language), color=None,
                  on_click=lambda: mark_pulled({row['id'] for row in table.selected})) \
            .classes('secondary-action').props('no-caps').mark('mark-selected')
        mark_exported = ui.button(color=None, on_click=lambda: mark_pulled(set(exported))) \
            .classes('secondary-action').props('no-caps').mark('mark-exported')
        mark_exported.set_visibility(False)

    Heading(t('staff_charts', language), 2)
    ui.timer(0, lambda: _charts(kiosk, language, titles, chart_box), once=True)
    chart_box = ui.column().classes('w-full')

    Heading(t('staff_audit', language), 2)

    @ui.refreshable
    def audit_view() -> None:
        ui.table(columns=[{'name': key, 'label': t(f'column_{key}', language), 'field': key, 'align': 'left'}
                          for key in ('time', 'action', 'count')],
                 rows=[{'time': _local(entry['time'], zone), 'action': t(f'audit_{entry["action"]}', language),
                        'count': '' if entry['count'] is None else entry['count']}
                       for entry in kiosk.audit.last(50)]).classes('staff-table').mark('audit')

    audit_view()


async def _charts(kiosk: Kiosk, language: str, titles: dict[str, str], box: ui.column) -> None:
    """Built after the page shows: reading every record may take a moment on a kiosk with years of them."""
    today = datetime.now(ZoneInfo(kiosk.settings.timezone)).date()
    since = (week_starts(today)[0] - timedelta(days=2)).isoformat()  # a margin for time zones; the weeks are exact
    records = (await asyncio.to_thread(kiosk.store.listing, Selection(include_pulled=True, since=since))).records
    weekly = signups_per_week(records, list(titles), today, kiosk.settings.timezone)
    counted = [program.slug for program in kiosk.catalog.program if program.count_views]
    views = views_per_program(await asyncio.to_thread(kiosk.view_counts.load), counted, today)
    weeks = [_short_date(start, language) for start in week_starts(today)]
    with box:
        _chart_pair(titles, weekly, counted, views, weeks, language)


def _chart_pair(titles: dict[str, str], weekly: dict[str, list[int]], counted: list[str], views: dict[str, int],
                weeks: list[str], language: str) -> None:
    ui.echart({
        'title': {'text': t('chart_signups_per_week', language)},
        'tooltip': {'trigger': 'axis'}, 'legend': {'bottom': 0},
        'xAxis': {'type': 'category', 'data': weeks}, 'yAxis': {'type': 'value', 'minInterval': 1},
        'series': [{'name': titles[slug], 'type': 'bar', 'stack': 'signups', 'data': weekly[slug]}
                   for slug in titles],
    }).classes('w-full h-96').mark('chart-signups')
    ui.echart({
        'title': {'text': t('chart_views', language)}, 'tooltip': {},
        'xAxis': {'type': 'category', 'data': [titles[slug] for slug in counted]},
        'yAxis': {'type': 'value', 'minInterval': 1},
        'series': [{'name': t('chart_views', language), 'type': 'bar', 'data': [views[slug] for slug in counted]}],
    }).classes('w-full h-96').mark('chart-views')


def _row(record: dict, titles: dict[str, str], zone: ZoneInfo, language: str) -> dict:
    """One line of the staff list; values are plain text (Quasar's table never renders them as HTML)."""
    return {'id': record['id'], 'time': _local(record['created_at'], zone),
            'program': titles.get(record['program'], record['program']), 'name': record['name'],
            'participant': record.get('participant_name') or '', 'contact': _contact(record, language),
            'age': record.get('age') or '', 'note': record.get('note') or '',
            'status': t(f'status_{record["status"]}', language)}


def _contact(record: dict, language: str) -> str:
    parts = [friendly(record['phone']) if record.get('phone') else '', record.get('email') or '']
    method = t(f'method_{record["contact_method"]}', language) if record.get('contact_method') else ''
    return ' · '.join(part for part in (*parts, method) if part)


def _local(moment: str | None, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(moment).astimezone(zone).strftime('%Y-%m-%d %H:%M') if moment else '—'


def _number(count: int, language: str) -> str:
    return format_decimal(count, locale=language)


def _short_date(day: date, language: str) -> str:
    return format_date(day, 'd MMM', locale=language)


def _filename() -> str:
    return f'signups-{datetime.now(UTC).strftime("%Y%m%d-%H%M%S")}.csv'
