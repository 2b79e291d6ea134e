import re
import string
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import kiosk
from kiosk.i18n import catalog, meeting_when

KEY_IN_CODE = re.compile(r"""\bt\(\s*'([a-z_]+)'""")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_english_and_spanish_have_the_same_keys_and_placeholders():
    english, spanish = catalog('en'), catalog('es')
    assert sorted(english) == sorted(spanish)
    for key in english:
        assert _placeholders(english[key]) == _placeholders(spanish[key]), key


def test_every_key_the_code_uses_is_in_both_catalogs():
    source = Path(kiosk.__file__).parent
    used = {key for path in source.rglob('*.py') for key in KEY_IN_CODE.findall(path.read_text())}
    used |= {'scan_to_apply', 'scan_to_info'}  # chosen by the program's url_purpose
    assert used, 'the scan found no keys: the pattern is stale'
    for language in ('en', 'es'):
        assert used - set(catalog(language)) == set(), language


def test_meeting_dates_read_naturally_in_each_language():
    start = datetime(2026, 12, 10, 19, tzinfo=ZoneInfo('America/Chicago'))
    assert meeting_when(start, 'en').replace('\u202f', ' ') == 'Thursday, December 10, 2026 at 7:00 PM'
    assert meeting_when(start, 'es') == 'jueves, 10 de diciembre de 2026, a las 19:00'
