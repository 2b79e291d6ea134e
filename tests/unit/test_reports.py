"""kiosk/reports.py: the numbers behind the staff charts."""

from datetime import date

from kiosk.reports import signups_per_week, week_starts


def test_weekly_signups_count_each_program_in_its_local_week():
    today = date(2026, 11, 26)  # a Thursday; this week began Monday 23 November
    records = [
        {'program': 'pal', 'created_at': '2026-11-23T00:30:00-06:00'},  # this week
        {'program': 'pal', 'created_at': '2026-11-23T05:59:00+00:00'},  # Sunday 22nd, 23:59 in St. Louis
        {'program': 'hmca', 'created_at': '2026-09-08T12:00:00-05:00'},  # first week shown
        {'program': 'hmca', 'created_at': '2026-09-06T12:00:00-05:00'},  # Sunday before the window
        {'program': 'outreach', 'created_at': '2026-11-10T12:00:00-06:00'},
    ]
    weekly = signups_per_week(records, ['pal', 'hmca', 'outreach'], today, 'America/Chicago')
    assert week_starts(today)[0] == date(2026, 9, 7) and week_starts(today)[-1] == date(2026, 11, 23)
    assert weekly['pal'][-1] == 1 and weekly['pal'][-2] == 1
    assert weekly['hmca'][0] == 1 and sum(weekly['hmca']) == 1
    assert weekly['outreach'][-3] == 1 and sum(weekly['outreach']) == 1
