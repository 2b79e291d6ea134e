"""The printed slip, as a printer prints it: the bytes python-escpos sends, read back by kiosk.receipt."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from escpos.capabilities import get_profile
from escpos.printer import Dummy

from kiosk.config import load_settings
from kiosk.content import load_catalog
from kiosk.qr import qr_actions
from kiosk.receipt import DOTS_PER_COLUMN, Cut, PrintedQr, draw_receipt, read_receipt, text_lines
from kiosk.slip import SPANISH_LETTERS, compose, preview, print_slip, slip_code_page

MEETING = datetime(2026, 12, 10, 19, 0, tzinfo=ZoneInfo('America/Chicago'))
LOCATION = 'Five Star Senior Center, 2832 Arsenal St'
CATALOG = load_catalog(load_settings().content)


def printed(slip, columns: int = 42, profile=None) -> bytes:
    printer = Dummy(profile=profile)
    print_slip(printer, slip, columns)
    return printer.output


def source_words(slip, columns: int) -> set[str]:
    """Every word the slip's texts hold; a web address wider than the paper may break only after a '/'."""
    texts = [slip.title, slip.summary, slip.call_label, slip.phone, slip.meeting, slip.place, slip.url,
             *(caption for caption, _ in slip.codes), slip.location]
    words = {word for text in texts if text for word in text.split()}
    for word in [word for word in words if len(word) > columns]:
        words |= {piece for slash in re.finditer('/', word) for piece in (word[:slash.end()], word[slash.end():])}
    return words | {'...'}  # a summary too long for two lines ends with an ellipsis


@pytest.mark.parametrize('columns', [32, 42, 48])
@pytest.mark.parametrize('language', ['en', 'es'])
@pytest.mark.parametrize('slug', [program.slug for program in CATALOG.program])
def test_every_slip_prints_whole_words_within_the_paper_and_no_question_marks(slug, language, columns):
    program = CATALOG.by_slug[slug]
    meeting = MEETING if program.meetings else None
    slip = compose(program, language, meeting, LOCATION)
    paper = read_receipt(printed(slip, columns))
    lines = text_lines(paper)
    assert all(line.columns <= columns for line in lines), [line.text for line in lines if line.columns > columns]
    words = source_words(slip, columns)
    assert {word for line in lines for word in line.text.split()} <= words, 'a word was split or changed'
    text = ' '.join(line.text for line in lines)
    assert '?' not in text or '?' in ' '.join(words)
    assert '\u202f' not in text and '\u00a0' not in text
    assert {letter for word in words for letter in word if letter in SPANISH_LETTERS} <= set(text)
    codes = [item for item in paper if isinstance(item, PrintedQr)]
    assert [code.payload for code in codes] == [action.payload for action in qr_actions(program, language,
                                                                                       [meeting] if meeting else [])]
    assert all(_qr_width(code) <= columns * DOTS_PER_COLUMN for code in codes), 'a QR code wider than the paper'
    assert isinstance(paper[-1], Cut)


def _qr_width(code: PrintedQr) -> int:
    import qrcode

    qr = qrcode.QRCode(border=0, error_correction=getattr(qrcode.constants, f'ERROR_CORRECT_{code.error_level}'))
    qr.add_data(code.payload)
    qr.make(fit=True)
    return qr.modules_count * code.module_dots


def test_the_meeting_time_prints_with_a_plain_space_and_spanish_letters_survive():
    english = ' '.join(line.text for line in text_lines(read_receipt(printed(
        compose(CATALOG.by_slug['outreach'], 'en', MEETING, None), 48))))
    assert 'at 7:00 PM' in english and '7:0' not in english.replace('7:00 PM', '')
    spanish = ' '.join(line.text for line in text_lines(read_receipt(printed(
        compose(CATALOG.by_slug['pal'], 'es', None, None)))))
    assert 'niños' in spanish and 'Teléfono' not in spanish
    outreach = ' '.join(line.text for line in text_lines(read_receipt(printed(
        compose(CATALOG.by_slug['outreach'], 'es', MEETING, None)))))
    assert 'Próxima reunión' in outreach


def test_typography_the_code_page_lacks_prints_plain_and_control_characters_never_reach_the_printer():
    slip = compose(CATALOG.by_slug['hmca'], 'en', None, 'Lobby\u00a0“B” – 2nd floor…\x1b@\x07')
    lines = [line.text for line in text_lines(read_receipt(printed(slip)))]
    assert 'Lobby "B" - 2nd floor...@' in lines, 'ESC @ would reset the printer: its ESC is dropped, the @ is text'


@pytest.mark.parametrize('profile', ['default', 'TM-T88V', 'TM-T20II', 'ZJ-5870', 'POS-5890'])
def test_the_code_page_is_one_the_printer_profile_has_and_it_holds_every_spanish_letter(profile):
    page = slip_code_page(get_profile(profile))
    assert page in get_profile(profile).get_code_pages()
    slip = compose(CATALOG.by_slug['pal'], 'es', None, 'Ñandú ÁÉÍÓÚÜ áéíóúü ¿Sí? ¡Sí!')
    lines = text_lines(read_receipt(printed(slip, 42, profile), profile))
    assert 'Ñandú ÁÉÍÓÚÜ áéíóúü ¿Sí? ¡Sí!' in [line.text for line in lines]


def test_a_slip_carries_the_title_summary_number_address_codes_location_and_a_cut():
    slip = compose(CATALOG.by_slug['pal'], 'en', None, LOCATION)
    lines = [line.text for line in text_lines(read_receipt(printed(slip)))]
    assert lines[:2] == ['Police Athletic', 'League (PAL)'], 'the double-width title is wrapped by word'
    assert '(314) 444-5967' in lines and 'http://www.slmpd.org/pal.shtml' in lines and LOCATION in lines


def test_the_outreach_slip_has_the_next_meeting_its_place_and_the_calendar_code():
    outreach = CATALOG.by_slug['outreach']
    paper = read_receipt(printed(compose(outreach, 'en', MEETING, None)))
    text = ' '.join(line.text for line in text_lines(paper))
    assert 'Next meeting: Thursday, December 10, 2026 at 7:00 PM' in text and 'Five Star Senior Center' in text
    assert any('DTSTART:20261211T010000Z' in item.payload for item in paper if isinstance(item, PrintedQr))


def test_the_preview_is_drawn_from_the_printed_bytes_at_the_papers_width():
    slip = compose(CATALOG.by_slug['citizens-academy'], 'en', None, 'Lobby, 1915 Olive St')
    for columns in (32, 48):
        image = preview(slip, columns)
        assert image.width == columns * DOTS_PER_COLUMN + 32 and 400 < image.height < 8000
        assert image.tobytes() == draw_receipt(read_receipt(printed(slip, columns)), columns).tobytes()
