"""The night window: parsing, midnight, and the one-line error a wrong KIOSK_SLEEP gets."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from kiosk.config import ConfigError, load_settings
from kiosk.night import SleepWindow, asleep, seconds_until_change


def test_a_window_across_midnight_holds_the_late_evening_and_the_early_morning():
    night = SleepWindow.parse('22:00-06:00')
    assert [night.contains(time(hour, minute)) for hour, minute in
            ((21, 59), (22, 0), (23, 30), (0, 0), (5, 59), (6, 0), (12, 0))] == \
        [False, True, True, True, True, False, False]


def test_a_window_within_one_day():
    lunch = SleepWindow.parse('12:30-13:15')
    assert not lunch.contains(time(12, 29)) and lunch.contains(time(12, 30)) and not lunch.contains(time(13, 15))


@pytest.mark.parametrize('text', ['10pm-6am', '22:00', '24:00-06:00', '22:00-6:00', '22:00-22:00', ''])
def test_a_window_that_is_not_hh_mm_hh_mm_is_refused(text):
    with pytest.raises(ValueError, match=r'time window|same minute'):
        SleepWindow.parse(text)


def test_asleep_reads_the_kiosks_own_time_zone():
    night = SleepWindow.parse('22:00-06:00')
    moment = datetime(2026, 11, 27, 7, 30, tzinfo=ZoneInfo('UTC'))  # 01:30 in St. Louis, 08:30 in Madrid
    assert asleep(night, 'America/Chicago', moment)
    assert not asleep(night, 'Europe/Madrid', moment)
    assert not asleep(None, 'America/Chicago', moment)


def test_the_screen_knows_how_long_until_the_kiosk_next_opens_or_closes():
    night = SleepWindow.parse('22:00-06:00')
    chicago = ZoneInfo('America/Chicago')
    moments = [datetime(2026, 11, 27, 21, 59, 50, tzinfo=chicago), datetime(2026, 11, 27, 22, 0, tzinfo=chicago),
               datetime(2026, 11, 28, 5, 59, 30, tzinfo=chicago), datetime(2026, 11, 28, 12, 0, tzinfo=chicago)]
    assert [seconds_until_change(night, 'America/Chicago', moment) for moment in moments] == \
        [10, 8 * 3600, 30, 10 * 3600]
    utc = datetime(2026, 11, 28, 3, 59, 45, tzinfo=ZoneInfo('UTC'))  # 21:59:45 in St. Louis
    assert seconds_until_change(night, 'America/Chicago', utc) == 15


def test_kiosk_sleep_setting_gets_a_one_line_error_naming_the_key(monkeypatch):
    monkeypatch.setenv('KIOSK_SLEEP', '10pm-6am')
    with pytest.raises(ConfigError, match=r'^sleep \(KIOSK_SLEEP\): .*22:00-06:00'):
        load_settings()
    monkeypatch.setenv('KIOSK_SLEEP', ' 22:00-06:00 ')
    assert load_settings().sleep_window == SleepWindow(time(22), time(6))


def test_log_level_is_a_setting(monkeypatch):
    monkeypatch.setenv('KIOSK_LOG_LEVEL', 'debug')
    assert load_settings().log_level == 'DEBUG'
    monkeypatch.setenv('KIOSK_LOG_LEVEL', 'chatty')
    with pytest.raises(ConfigError, match='log_level'):
        load_settings()
