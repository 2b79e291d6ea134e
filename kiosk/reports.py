"""The numbers behind the staff charts: sign-ups per program per week, and views per program."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKS = 12


def week_starts(today: date, weeks: int = WEEKS) -> list[date]:
    """Mondays of the last `weeks` weeks, oldest first, the current week last."""
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=weeks - 1 - n) for n in range(weeks)]


def signups_per_week(records: list[dict[str, Any]], programs: list[str], today: date, timezone: str,
                     weeks: int = WEEKS) -> dict[str, list[int]]:
    """For each program, how many sign-ups were made in each of the last `weeks` weeks (local time)."""
    starts = week_starts(today, weeks)
    counts = {program: [0] * weeks for program in programs}
    zone = ZoneInfo(timezone)
    for record in records:
        made = datetime.fromisoformat(record['created_at']).astimezone(zone).date()
        index = (made - starts[0]).days // 7
        if 0 <= index < weeks and record.get('program') in counts:
            counts[record['program']][index] += 1
    return counts


def views_per_program(views: dict[str, dict[str, int]], programs: list[str], today: date,
                      weeks: int = WEEKS) -> dict[str, int]:
    """Screen views in the same 12-week window as the sign-up chart."""
    first = week_starts(today, weeks)[0].isoformat()
    totals = dict.fromkeys(programs, 0)
    for day, per_program in views.items():
        if day >= first:
            for program, count in per_program.items():
                if program in totals:
                    totals[program] += count
    return totals
