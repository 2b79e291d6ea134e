import re
import string
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

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
    assert meeting_when(start, 'es').replace('\u202f', ' ') == 'jueves, 10 de diciembre de 2026, a las 7:00 p.m.'


TIME = re.compile(r'\d{1,2}:\d{2}(?:\s?(?:[AP]M\b|[ap]\.\s?m\.))?')


@pytest.mark.parametrize(('language', 'time'), [('en', '7:00 PM'), ('es', '7:00 p.m.')])
def test_one_time_style_per_language_on_screen_in_speech_on_the_slip_and_in_the_calendar_title(language, time):
    from escpos.printer import Dummy

    from kiosk.content import load_catalog
    from kiosk.paths import ASSETS_DIR
    from kiosk.receipt import read_receipt, text_lines
    from kiosk.slip import compose, print_slip
    from kiosk.speech import program_text

    outreach = load_catalog(ASSETS_DIR / 'programs.toml').by_slug['outreach']
    start = datetime(2026, 12, 10, 19, tzinfo=ZoneInfo('America/Chicago'))
    words = outreach.words(language)
    printer = Dummy()
    print_slip(printer, compose(outreach, language, start, None), 48)
    calendar = outreach.meetings.calendar_event(start, language)
    places = {
        'screen: next meeting': meeting_when(start, language),
        'screen: program text': ' '.join([words.body, *words.facts]),
        'speech': program_text(outreach, language, start),
        'slip': ' '.join(line.text for line in text_lines(read_receipt(printer.output))),
        'calendar title': next(line for line in calendar.split('\r\n') if line.startswith('SUMMARY:')),
    }
    for place, text in places.items():
        assert {' '.join(found.split()) for found in TIME.findall(text)} == {time}, f'{place}: {text}'
