"""What Read aloud says: title, summary, facts, the phone number digit by digit, and the next meeting."""

from datetime import datetime
from zoneinfo import ZoneInfo

from kiosk.config import load_settings
from kiosk.content import load_catalog
from kiosk.speech import home_text, program_text, spoken_digits


def catalog():
    return load_catalog(load_settings().content)


def test_a_phone_number_is_read_digit_by_digit_in_groups():
    assert spoken_digits('+13144445371', 'en') == 'three one four, four four four, five three seven one'
    assert spoken_digits('+13144445371', 'es') == 'tres uno cuatro, cuatro cuatro cuatro, cinco tres siete uno'


def test_a_program_is_read_with_its_facts_and_number():
    pal = catalog().by_slug['pal']
    text = program_text(pal, 'en', None)
    assert text.startswith(pal.en.title + '. ' + pal.en.summary)
    assert all(fact in text for fact in pal.en.facts)
    assert 'To call, the number is three one four, four four four, five nine six seven.' in text
    spanish = program_text(pal, 'es', None)
    assert spanish.startswith(pal.es.title) and 'tres uno cuatro, cuatro cuatro cuatro' in spanish


def test_the_outreach_meetings_are_read_with_the_next_date_and_place():
    outreach = catalog().by_slug['outreach']
    when = datetime(2026, 12, 10, 19, 0, tzinfo=ZoneInfo('America/Chicago'))
    text = program_text(outreach, 'en', when)
    assert 'The next meeting is Thursday, December 10, 2026 at 7:00' in text
    assert outreach.meetings.location in text
    assert 'La próxima reunión es el jueves, 10 de diciembre de 2026' in program_text(outreach, 'es', when)


def test_the_home_screen_reads_the_list_of_programs():
    text = home_text(catalog(), 'es')
    assert text.startswith('Programas comunitarios.')
    assert all(program.es.title in text for program in catalog().program)
