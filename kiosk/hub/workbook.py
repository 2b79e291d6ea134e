"""Sign-ups as an XLSX workbook (openpyxl), beside the CSV: the same columns and the same formula-safe rule.

Excel knows no time zones, so times are the hub's local time without a zone, as real dates with a number format
(they sort and filter as dates). Phone numbers are text cells, so no spreadsheet turns them into numbers.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from kiosk.export import formula_safe
from kiosk.phone import friendly

DATE_FORMAT = 'yyyy-mm-dd hh:mm'
TEXT_FORMAT = '@'


def to_xlsx(records: list[dict[str, Any]], timezone: str, columns: tuple[str, ...]) -> bytes:
    """One sheet, a header row, then a row per record; written as it goes (write-only), so 100,000 rows fit."""
    zone = ZoneInfo(timezone)
    book = Workbook(write_only=True)
    sheet = book.create_sheet('Sign-ups')
    sheet.freeze_panes = 'A2'
    sheet.append(list(columns))
    for record in records:
        sheet.append([_cell(sheet, column, record.get(column), zone) for column in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(sheet: Any, column: str, value: Any, zone: ZoneInfo) -> WriteOnlyCell | None:
    if value is None:
        return None
    cell = WriteOnlyCell(sheet)
    if isinstance(value, datetime):
        cell.value = value.astimezone(zone).replace(tzinfo=None)
        cell.number_format = DATE_FORMAT
    elif isinstance(value, bool | int | float):
        cell.value = value
    else:
        text = friendly(value) if column == 'phone' and value else str(value)
        # A control character is not allowed in the file's XML: it is dropped, as no spreadsheet could show it.
        cell.value = formula_safe(ILLEGAL_CHARACTERS_RE.sub('', text))
        cell.data_type = 's'  # text, whatever it looks like: never a formula or a number
        cell.number_format = TEXT_FORMAT
    return cell
