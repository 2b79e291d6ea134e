"""Business days for follow-up: a Friday sign-up waits over the weekend, a holiday is skipped, local dates count,
and the one cut-off instant the SQL uses agrees with each sign-up's own deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk.config import ConfigError
from kiosk.hub.config import HubSettings, load_hub_settings
from kiosk.hub.follow_up import FollowUp, days_of_recent_months, duration_text

CHICAGO = ZoneInfo('America/Chicago')
FOLLOW_UP = FollowUp(CHICAGO, frozenset({date(2026, 12, 25), date(2027, 1, 1)}), days=2, escalate_days=5)


def at(day: int, hour: int = 0, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHICAGO)


def is_overdue(made: datetime, now: datetime, follow_up: FollowUp = FOLLOW_UP) -> bool:
    return made < follow_up.overdue_before(now)


def test_a_friday_sign_up_is_overdue_on_wednesday_after_the_weekend():
    friday = at(4, 15)  # Friday 4 December 2026, 3 pm
    assert not is_overdue(friday, at(7, 9)), 'Monday: one business day'
    assert not is_overdue(friday, at(8, 23, 59)), 'Tuesday evening: still inside two business days'
    assert is_overdue(friday, at(9, 0, 0)), 'Wednesday from midnight'
    assert FOLLOW_UP.deadline(friday.date()) == at(9)


def test_a_weekend_sign_up_counts_from_monday():
    for weekend in (at(5, 10), at(6, 22)):  # Saturday, Sunday
        assert not is_overdue(weekend, at(8, 18))
        assert is_overdue(weekend, at(9, 8))


def test_a_holiday_is_not_a_business_day():
    wednesday = at(23, 11)  # 23 December; Christmas (Friday 25) is a holiday
    assert not is_overdue(wednesday, at(28, 12)), 'Thursday 24 and Monday 28: the window ends Monday evening'
    assert is_overdue(wednesday, at(29, 0))
    without_holidays = FollowUp(CHICAGO, frozenset(), days=2, escalate_days=5)
    assert is_overdue(wednesday, at(28, 0), without_holidays), 'without the holiday, Friday 25 counts'


def test_escalation_counts_its_own_business_days():
    friday = at(4, 15)
    assert FOLLOW_UP.escalated_before(at(11, 23)) <= friday, 'Mon to Fri: five business days, not yet over'
    assert FOLLOW_UP.escalated_before(at(14, 0)) > friday, 'the Monday after'


def test_local_dates_decide_not_utc():
    late_friday = at(4, 23, 30)  # Saturday 05:30 in UTC: still a Friday sign-up here
    assert late_friday.astimezone(UTC).date() == date(2026, 12, 5)
    assert is_overdue(late_friday, at(9, 0))
    assert FOLLOW_UP.overdue_before(datetime(2026, 12, 9, 6, tzinfo=UTC)) == at(7), 'Wednesday 00:00 local'


def test_the_cut_off_instant_agrees_with_every_sign_ups_own_deadline():
    """The list and counts use one instant; the Activity page uses each day's deadline: the same rule."""
    for follow_up in (FOLLOW_UP, FollowUp(CHICAGO, frozenset({date(2026, 12, 25)}), days=1, escalate_days=3)):
        for made_day in range(40):
            made = at(1, 13) + timedelta(days=made_day)
            for later in range(0, 24 * 12, 5):
                now = made + timedelta(hours=later)
                assert is_overdue(made, now, follow_up) == (follow_up.deadline(made.date()) <= now), (made, now)


def test_holidays_and_days_from_the_environment(monkeypatch):
    assert HubSettings().follow_up_days == 2 and HubSettings().escalate_days == 5 and HubSettings().holidays == ()
    monkeypatch.setenv('KIOSK_HUB_HOLIDAYS', '2026-12-25, 2027-01-01')
    monkeypatch.setenv('KIOSK_HUB_FOLLOW_UP_DAYS', '3')
    settings = load_hub_settings()
    assert settings.holidays == (date(2026, 12, 25), date(2027, 1, 1))
    assert FollowUp.from_settings(settings).days == 3


def test_escalation_before_the_follow_up_window_ends_is_refused(monkeypatch):
    monkeypatch.setenv('KIOSK_HUB_FOLLOW_UP_DAYS', '4')
    monkeypatch.setenv('KIOSK_HUB_ESCALATE_DAYS', '3')
    with pytest.raises(ConfigError, match='escalate_days'):
        load_hub_settings()


def test_durations_read_as_people_say_them():
    assert duration_text(timedelta(days=2, hours=3, minutes=5)) == '2 days 3 hours'
    assert duration_text(timedelta(hours=4, minutes=12)) == '4 hours 12 minutes'
    assert duration_text(timedelta(seconds=20)) == 'less than a minute'


def test_the_recent_months_start_on_a_first_and_end_today():
    days = days_of_recent_months(date(2027, 2, 10), 3)
    assert (days[0], days[-1], len(days)) == (date(2026, 12, 1), date(2027, 2, 10), 31 + 31 + 10)
    assert days_of_recent_months(date(2026, 12, 7), 1)[0] == date(2026, 12, 1)


def test_across_the_clock_changes_the_window_ends_at_local_midnight():
    """Sunday 14 March 2027 (clocks forward) and Sunday 7 November 2027 (back): a Friday sign-up is overdue from
    Wednesday 00:00 local, whatever the offset, and the cut-off agrees with each hour's own deadline."""
    for friday, wednesday in ((at(12, 17, month=3, year=2027), at(17, month=3, year=2027)),
                              (at(5, 17, month=11, year=2027), at(10, month=11, year=2027))):
        assert FOLLOW_UP.deadline(friday.date()) == wednesday and wednesday.utcoffset() != friday.utcoffset()
        assert not is_overdue(friday, wednesday - timedelta(seconds=1)) and is_overdue(friday, wednesday)
        for hours in range(0, 24 * 8):
            now = (friday.astimezone(UTC) + timedelta(hours=hours)).astimezone(CHICAGO)
            assert is_overdue(friday, now) == (FOLLOW_UP.deadline(friday.date()) <= now), now


def test_over_the_year_end_holidays_and_weekends_are_both_skipped():
    """Wednesday 30 December 2026: Thursday 31 counts, Friday 1 January is a holiday, then the weekend; the
    window ends Monday 4 January in the evening."""
    assert FOLLOW_UP.due_by(date(2026, 12, 30)) == date(2027, 1, 4)
    assert FOLLOW_UP.overdue_before(at(5, 8, month=1, year=2027)) == at(31), 'made on the 30th or before: overdue'


def test_a_holiday_on_a_weekend_adds_nothing_so_the_observed_day_is_the_one_to_list():
    """Christmas 2027 is a Saturday; the office closes on Friday 24. Listing the 25th changes nothing."""
    thursday = date(2027, 12, 23)
    on_the_day = FollowUp(CHICAGO, frozenset({date(2027, 12, 25)}), days=2, escalate_days=5)
    observed = FollowUp(CHICAGO, frozenset({date(2027, 12, 24)}), days=2, escalate_days=5)
    assert on_the_day.due_by(thursday) == date(2027, 12, 27)
    assert observed.due_by(thursday) == date(2027, 12, 28)
