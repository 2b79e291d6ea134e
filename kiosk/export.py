"""Sign-ups as CSV (for Excel and LibreOffice) or JSON, as `kiosk export` and the staff console write them."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.phone import friendly

CSV_COLUMNS = ('id', 'created_at', 'program', 'name', 'participant_name', 'age', 'phone', 'email', 'contact_method',
               'note', 'language', 'consent', 'status', 'last_error', 'synced_at', 'pulled_at', 'kiosk_id')
_TIME_COLUMNS = ('created_at', 'synced_at', 'pulled_at')
# OWASP CSV injection: a spreadsheet treats cells starting with these as formulas.
_FORMULA_STARTS = ('=', '+', '-', '@', '\t', '\r')


def to_json(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, ensure_ascii=False, indent=2) + '\n'


def to_csv(records: list[dict[str, Any]], timezone: str, columns: tuple[str, ...] = CSV_COLUMNS) -> str:
    """UTF-8 with a byte-order mark so Excel reads accents; local times; friendly phone numbers.

    The hub writes its own columns through the same function, so both exports are formula-safe alike.
    """
    zone = ZoneInfo(timezone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\r\n')
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(column, record.get(column), zone) for column in columns])
    return '\ufeff' + out.getvalue()


def _cell(column: str, value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return ''
    if isinstance(value, datetime) or column in _TIME_COLUMNS:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return moment.astimezone(zone).strftime('%Y-%m-%d %H:%M')
    if column == 'phone':
        return friendly(value) if value else ''
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
