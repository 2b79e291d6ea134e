"""kiosk/view_counts.py: anonymous screen-view counters per day and program, summed for the chart's window."""

from datetime import date

from kiosk.reports import views_per_program
from kiosk.view_counts import ViewCounter


def test_views_are_counted_per_day_and_program_and_summed_for_the_window(tmp_path):
    counter = ViewCounter(tmp_path)
    for day in (date(2026, 11, 25), date(2026, 11, 25), date(2026, 11, 26), date(2026, 1, 1)):
        counter.count('pal', day)
    counter.count('outreach', date(2026, 11, 26))
    assert counter.load()['2026-11-25'] == {'pal': 2}
    assert views_per_program(counter.load(), ['pal', 'outreach', 'citizens-academy'], date(2026, 11, 26)) == \
        {'pal': 3, 'outreach': 1, 'citizens-academy': 0}
