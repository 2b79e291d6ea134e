"""When a sign-up still `new` is overdue or escalated: business days in the hub's time zone, weekends and holidays
skipped. No SQL and no NiceGUI here.

The rule, in one place: a sign-up made on day D (any day, a Sunday too) is due by the end of the `days`-th
business day after D, and overdue from the next midnight on. "Within 2 business days" of a Friday sign-up means
by Tuesday evening; on Wednesday it is overdue.

The list, the counts and the digests never run this per row: `overdue_before(now)` turns it into one instant,
"made before this and still new is overdue now", which the SQL compares with `created_at` (an index range).
The Activity figures, which need each day's deadline, get them from `deadlines()` as a table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiosk.hub.config import HubSettings

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class FollowUp:
    zone: ZoneInfo
    holidays: frozenset[date]
    days: int  # follow_up_days
    escalate_days: int

    @classmethod
    def from_settings(cls, settings: HubSettings) -> FollowUp:
        return cls(ZoneInfo(settings.timezone), frozenset(settings.holidays), settings.follow_up_days,
                   settings.escalate_days)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def due_by(self, made: date, days: int | None = None) -> date:
        """The last day of the window for a sign-up made on `made`: the `days`-th business day after it."""
        day = made
        for _ in range(self.days if days is None else days):
            day += ONE_DAY
            while not self.is_business_day(day):
                day += ONE_DAY
        return day

    def deadline(self, made: date, days: int | None = None) -> datetime:
        """The instant a sign-up made on `made` and still new becomes overdue: midnight after its last day."""
        return self.midnight(self.due_by(made, days) + ONE_DAY)

    def overdue_before(self, now: datetime, days: int | None = None) -> datetime:
        """Made before this instant and still new: overdue at `now` (escalated, with `days=escalate_days`).

        The `days`-th business day before today starts it: a sign-up made before that day has had all of those
        days and the day's own rest; one made on it or later has fewer. The same as `deadline(made) <= now`.
        """
        day = now.astimezone(self.zone).date()
        for _ in range(self.days if days is None else days):
            day -= ONE_DAY
            while not self.is_business_day(day):
                day -= ONE_DAY
        return self.midnight(day)

    def window_text(self, days: int | None = None) -> str:
        """'2 business days': the follow-up window (or, given escalate_days, the escalation), as screens and mail
        say it."""
        return plural(self.days if days is None else days, 'business day')

    def escalated_before(self, now: datetime) -> datetime:
        return self.overdue_before(now, self.escalate_days)

    def deadlines(self, days: Iterable[date]) -> dict[date, datetime]:
        """Each day's deadline, for the SQL that tells whether a first contact came within the window."""
        return {day: self.deadline(day) for day in days}

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.zone)


def days_of_recent_months(today: date, months: int) -> list[date]:
    """Every day from the first of the month `months - 1` months ago up to `today`, oldest first."""
    month_index = today.year * 12 + today.month - 1 - (months - 1)
    day = date(month_index // 12, month_index % 12 + 1, 1)
    return [day + timedelta(days=n) for n in range((today - day).days + 1)]


def duration_text(span: timedelta) -> str:
    """'2 days 3 hours', '4 hours 12 minutes', 'less than a minute': for mail and the Activity page."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, hours, minutes = minutes // 1440, minutes % 1440 // 60, minutes % 60
    parts = [plural(days, 'day')] if days else []
    parts += [plural(hours, 'hour')] if hours else []
    parts += [plural(minutes, 'minute')] if minutes and not days else []
    return ' '.join(parts) or 'less than a minute'


def plural(n: int, noun: str) -> str:
    """'1 day', '3 days': for nouns whose plural takes an s."""
    return f'{n} {noun}{"" if n == 1 else "s"}'
