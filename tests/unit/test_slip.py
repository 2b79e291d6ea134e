"""The printed slip, as bytes a receipt printer receives (python-escpos' Dummy printer)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from escpos.printer import Dummy

from kiosk.config import load_settings
from kiosk.content import load_catalog
from kiosk.slip import WIDTH, compose, preview, print_slip

QR_STORE = b'\x1d(k'  # GS ( k: the native QR command
CUT = b'\x1dV'


def program(slug: str):
    return load_catalog(load_settings().content).by_slug[slug]


def printed(slip) -> bytes:
    printer = Dummy()
    print_slip(printer, slip)
    return printer.output


def test_a_slip_carries_the_title_summary_number_address_codes_location_and_a_cut():
    pal = program('pal')
    slip = compose(pal, 'en', None, 'Five Star Senior Center, 2832 Arsenal St')
    output = printed(slip)
    assert b'Police Athletic\nLeague (PAL)' in output, 'the double-width title is wrapped by word, not by the printer'
    assert all(line.encode() in output for line in slip.summary) and 1 <= len(slip.summary) <= 2
    assert all(len(line) <= WIDTH for line in slip.summary)
    assert b'(314) 444-5967' in output and b'http://www.slmpd.org/pal.shtml' in output
    assert b'Five Star Senior Center, 2832 Arsenal St' in output
    assert output.count(QR_STORE) >= 2 and b'tel:+13144445967' in output
    assert output.rstrip(b'\x00').endswith(CUT + b'\x00') or CUT in output[-8:]


def test_the_outreach_slip_has_the_next_meeting_its_place_and_the_calendar_code():
    outreach = program('outreach')
    when = datetime(2026, 12, 10, 19, 0, tzinfo=ZoneInfo('America/Chicago'))
    output = printed(compose(outreach, 'en', when, None))
    assert b'Next meeting: Thursday, December 10, 2026' in output
    assert outreach.meetings.location.split(',')[0].encode() in output
    assert b'BEGIN:VEVENT' in output and b'DTSTART:20261211T010000Z' in output


def test_a_spanish_slip_is_in_spanish():
    slip = compose(program('pal'), 'es', None, None)
    assert slip.call_label == 'Para hablar con alguien, llame al'
    output = printed(slip)
    assert slip.title.split()[0].encode() in output and b'Escanee' in output


def test_the_preview_draws_the_same_slip_on_80mm_paper():
    image = preview(compose(program('citizens-academy'), 'en', None, 'Lobby, 1915 Olive St'))
    assert image.width == 576 and 400 < image.height < 4000
