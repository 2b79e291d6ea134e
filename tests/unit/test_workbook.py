"""The hub's XLSX export, read back with openpyxl and checked as a zip of well-formed XML: text phones, real
local dates, numbers as numbers, and no formula anywhere, whatever a visitor typed."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from xml.etree import ElementTree

from openpyxl import load_workbook

from kiosk.hub.workbook import DATE_FORMAT, to_xlsx

COLUMNS = ('id', 'created_at', 'name', 'age', 'phone', 'email', 'note', 'status_changed_at')
RECORDS = [
    {'id': 'a1', 'created_at': datetime(2026, 7, 4, 17, 30, tzinfo=UTC), 'name': '=HYPERLINK("http://x","y")',
     'age': 12, 'phone': '+13145550134', 'email': '@everyone', 'note': '+1 more\x07 bell', 'status_changed_at': None},
    {'id': 'b2', 'created_at': datetime(2026, 1, 15, 3, 0, tzinfo=UTC), 'name': 'Ana Pal', 'age': None,
     'phone': '', 'email': 'ana@example.org', 'note': '-5 degrees', 'status_changed_at': None},
]


def test_phones_are_text_dates_are_local_dates_and_nothing_is_a_formula():
    content = to_xlsx(RECORDS, 'America/Chicago', COLUMNS)
    sheet = load_workbook(io.BytesIO(content)).active
    assert [cell.value for cell in sheet[1]] == list(COLUMNS)
    first = {column: cell for column, cell in zip(COLUMNS, sheet[2], strict=True)}
    assert (first['phone'].value, first['phone'].data_type) == ('(314) 555-0134', 's')
    assert first['created_at'].is_date and first['created_at'].number_format == DATE_FORMAT
    assert first['created_at'].value == datetime(2026, 7, 4, 12, 30), 'Chicago summer time, no zone'
    assert sheet.cell(3, 2).value == datetime(2026, 1, 14, 21, 0), 'Chicago winter time'
    assert (first['age'].value, first['age'].data_type) == (12, 'n')
    assert first['name'].value == '\'=HYPERLINK("http://x","y")', 'the CSV rule: made inert'
    assert first['email'].value == "'@everyone" and first['note'].value == "'+1 more bell"
    assert sheet.cell(3, 7).value == "'-5 degrees"
    assert sheet.cell(3, 4).value is None and sheet.cell(2, 8).value is None
    assert all(cell.data_type != 'f' for row in sheet.iter_rows() for cell in row)


def test_the_file_is_a_valid_zip_of_well_formed_xml_without_formula_elements():
    content = to_xlsx(RECORDS, 'America/Chicago', COLUMNS)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert '[Content_Types].xml' in names and 'xl/workbook.xml' in names
        for name in names:
            if name.endswith(('.xml', '.rels')):
                root = ElementTree.fromstring(archive.read(name))
                assert not [element for element in root.iter() if element.tag.endswith('}f')], name
