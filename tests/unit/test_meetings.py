"""kiosk/meetings.py: the next meetings from a rule, and a calendar event strict parsers and QR decoders accept."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import cv2
import numpy
import pytest
import zxingcpp
from PIL import Image, ImageDraw

from kiosk.content import load_catalog
from kiosk.meetings import MeetingRule
from kiosk.paths import ASSETS_DIR
from kiosk.qr import qr_svg
from tests.support.calendar import strictly_parsed

CHICAGO = ZoneInfo('America/Chicago')
RULE = load_catalog(ASSETS_DIR / 'programs.toml').by_slug['outreach'].meetings


def test_next_four_outreach_meetings_are_second_thursdays_at_7pm():
    starts = RULE.next_meetings(datetime(2026, 11, 26, 12, tzinfo=CHICAGO))
    assert [s.strftime('%Y-%m-%d %H:%M') for s in starts] == [
        '2026-12-10 19:00', '2027-03-11 19:00', '2027-06-10 19:00', '2027-09-09 19:00']
    assert all(s.tzinfo.key == 'America/Chicago' for s in starts)


def test_on_the_evening_itself_the_meeting_is_still_next_until_it_starts():
    assert RULE.next_meetings(datetime(2026, 12, 10, 18, 59, tzinfo=CHICAGO), 1)[0].day == 10
    assert RULE.next_meetings(datetime(2026, 12, 10, 19, 1, tzinfo=CHICAGO), 1)[0].month == 3


def test_calendar_event_is_a_vevent_in_utc_with_escaped_location():
    start = datetime(2027, 6, 10, 19, tzinfo=CHICAGO)  # daylight time: UTC-5
    event = RULE.calendar_event(start, 'es')
    lines = event.split('\r\n')
    assert lines[0] == 'BEGIN:VEVENT' and lines[-1] == 'END:VEVENT'
    assert 'DTSTART:20270611T000000Z' in lines
    assert 'DTEND:20270611T010000Z' in lines
    assert 'LOCATION:Five Star Senior Center\\, 2832 Arsenal St\\, St. Louis\\, MO' in lines
    assert 'SUMMARY:Reunión Comunitaria de SLMPD\\, 7:00 p.m.' in lines  # the time as the screen says it


@pytest.mark.parametrize('language', ['en', 'es'])
def test_calendar_event_passes_a_strict_parser_with_a_dtstamp_that_never_changes_for_a_meeting(language):
    start = datetime(2026, 12, 10, 19, tzinfo=CHICAGO)
    event = strictly_parsed(RULE.calendar_event(start, language))
    assert event.dtstamp.value == event.dtstart.value == datetime(2026, 12, 11, 1, tzinfo=UTC)
    assert event.dtend.value == datetime(2026, 12, 11, 2, tzinfo=UTC)
    assert event.location.value == 'Five Star Senior Center, 2832 Arsenal St, St. Louis, MO'
    assert RULE.calendar_event(start, language) == RULE.calendar_event(start, language)  # the cached QR code stays


def qr_image(svg: str, scale: int = 8) -> Image.Image:
    """The kiosk's own SVG (one path of unit squares), drawn module by module."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    image = Image.new('L', (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    squares = re.findall(r'M(\d+),(\d+)H(\d+)V(\d+)H\d+z', svg)
    assert squares, 'the SVG is a path of squares'
    for left, top, right, bottom in map(lambda square: [int(n) * scale for n in square], squares):
        draw.rectangle([left, top, right - 1, bottom - 1], fill=0)
    return image


@pytest.mark.parametrize('language', ['en', 'es'])
def test_the_calendar_qr_code_reads_back_exactly_accents_included_with_two_decoders(language):
    sent = RULE.calendar_event(datetime(2027, 3, 11, 19, tzinfo=CHICAGO), language)
    image = qr_image(qr_svg(sent))
    (zxing,) = zxingcpp.read_barcodes(image)
    # OpenCV's ArUco-based detector: the classic one misses some codes at some scales, whatever they hold.
    opencv, _, _ = cv2.QRCodeDetectorAruco().detectAndDecode(numpy.array(image.convert('RGB')))
    assert zxing.text == opencv == sent
    summary = strictly_parsed(opencv).summary.value
    assert ('Reunión' in summary) if language == 'es' else summary.isascii()


def test_long_or_awkward_text_is_folded_and_escaped_as_rfc_5545_says():
    summary = 'Reunión Comunitaria de SLMPD: café, pan dulce; preguntas\\respuestas sobre seguridad en el vecindario'
    location = 'Centro Comunitario Ñandú, Salón «Peña», 2832 Arsenal St; entrada por la calle lateral\r\nSt. Louis'
    rule = MeetingRule(**{**RULE.model_dump(), 'summary_es': summary, 'location': location})
    text = rule.calendar_event(datetime(2027, 3, 11, 19, tzinfo=CHICAGO), 'es')
    lines = text.split('\r\n')
    assert max(len(line.encode()) for line in lines) <= 75
    assert any(line.startswith(' ') for line in lines), 'long lines are folded with CRLF and one space'
    assert '\n' not in text.replace('\r\n', '')
    event = strictly_parsed(text)
    assert event.summary.value == f'{summary}, 7:00 p.m.'  # the title carries the time, as the screen says it
    assert event.location.value == location.replace('\r\n', '\n')
