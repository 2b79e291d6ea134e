"""Sign-ups as CSV (for Excel and LibreOffice) or JSON, as `kiosk export` and the staff console write them;
and the export folder, which only ever holds them while a USB stick is mounted on it.

The browser's downloads land in the export folder (Chromium's DownloadDirectory) whatever is mounted
there. Without a stick that is the SD card, where a full list of names and phone numbers would stay
for anyone who takes the card out; so the console offers no CSV then, and what was left is deleted.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import stat
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.phone import friendly

log = logging.getLogger('kiosk.export')

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
    return formula_safe(str(value))


def formula_safe(text: str) -> str:
    """The text a spreadsheet shows as it is: one that would start a formula gets a leading apostrophe (OWASP).

    The hub's XLSX export uses it too, so every spreadsheet the project writes is safe by the same rule.
    """
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def usb_stick_mounted(folder: Path) -> bool:
    """A file system of its own is mounted at `folder`, and it is not the root one (the SD card).

    By device numbers: a mount point's differs from its parent's (as in os.path.ismount), and a bind
    mount of a folder on the SD card, a mount point too, still has the root's.
    """
    try:
        here, parent, root = folder.lstat(), (folder / '..').stat(), Path('/').stat()
    except OSError:
        return False
    return stat.S_ISDIR(here.st_mode) and here.st_dev != parent.st_dev and here.st_dev != root.st_dev


def clear_leftovers(folder: Path) -> int:
    """Delete everything in `folder` unless a USB stick is mounted there; returns how many entries went.

    The folder is opened first and checked through that handle, so a stick mounted a moment later is never
    what gets emptied: the deletions all happen in the folder underneath it.
    """
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return 0  # no folder, nothing left
    removed = 0
    try:
        here, parent, root = os.fstat(handle), (folder / '..').stat(), Path('/').stat()
        if here.st_dev != parent.st_dev and here.st_dev != root.st_dev:
            return 0
        for entry in os.scandir(handle):
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.name, dir_fd=handle)
                else:
                    os.unlink(entry.name, dir_fd=handle)
                removed += 1
            except OSError as error:
                log.error('could not delete a file left in the export folder: %s', error.strerror or error)
    except OSError as error:
        log.error('could not empty the export folder %s: %s', folder, error.strerror or error)
    finally:
        os.close(handle)
    if removed:
        log.warning('deleted %d file(s) left in %s while no USB stick was mounted there', removed, folder)
    return removed
