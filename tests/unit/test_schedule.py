from datetime import datetime
from zoneinfo import ZoneInfo

from kiosk.content import load_catalog
from kiosk.paths import ASSETS_DIR

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
