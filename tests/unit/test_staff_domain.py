import json
import subprocess
import sys
from datetime import date

from kiosk.audit import AuditLog
from kiosk.pin import FIRST_LOCK_SECONDS, StaffPin
from kiosk.reports import signups_per_week, views_per_program, week_starts
from kiosk.view_counts import ViewCounter


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_only_a_salted_slow_hash_is_stored_in_a_private_file(tmp_path):
    pin = StaffPin(tmp_path / 'var')
    pin.set('482193')
    for path in (tmp_path / 'var').iterdir():
        assert '482193' not in path.read_text() and path.stat().st_mode & 0o777 == 0o600
    record = json.loads(pin.pin_path.read_text())
    assert record['n'] >= 2 ** 14 and len(bytes.fromhex(record['salt'])) == 16
    other = StaffPin(tmp_path / 'other')
    other.set('482193')
    assert json.loads(other.pin_path.read_text())['hash'] != record['hash']  # salted
    assert pin.check('482193').ok and not pin.check('482194').ok


def test_five_wrong_pins_lock_for_five_minutes_then_each_failure_doubles(tmp_path):
    clock = Clock()
    pin = StaffPin(tmp_path, clock)
    pin.set('2468')
    assert [pin.check('0000').locked_for for _ in range(4)] == [0, 0, 0, 0]
    fifth = pin.check('0000')
    assert fifth.just_locked and fifth.locked_for == FIRST_LOCK_SECONDS
    refused = pin.check('2468')
    assert not refused.ok and refused.locked_for == FIRST_LOCK_SECONDS  # even the right PIN, during a lock
    clock.now += FIRST_LOCK_SECONDS
    assert pin.check('1111').locked_for == 2 * FIRST_LOCK_SECONDS
    clock.now += 2 * FIRST_LOCK_SECONDS
    assert pin.check('1111').locked_for == 4 * FIRST_LOCK_SECONDS
    clock.now += 4 * FIRST_LOCK_SECONDS
    assert pin.check('2468').ok
    assert pin.check('0000').locked_for == 0  # a success starts the count again


def test_simultaneous_wrong_pins_are_all_counted(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    pin = StaffPin(tmp_path)
    pin.set('2468')
    with ThreadPoolExecutor(5) as pool:
        list(pool.map(pin.check, ['0000'] * 5))
    assert pin.locked_for() > 0


def test_the_lock_survives_a_restart(tmp_path):
    clock = Clock()
    pin = StaffPin(tmp_path, clock)
    pin.set('2468')
    for _ in range(5):
        pin.check('9999')
    restarted = StaffPin(tmp_path, clock)
    assert restarted.locked_for() == FIRST_LOCK_SECONDS and not restarted.check('2468').ok


def test_entries_too_short_to_be_a_pin_are_not_counted_but_four_wrong_ones_and_a_restart_still_lock(tmp_path):
    clock = Clock()
    pin = StaffPin(tmp_path, clock)
    pin.set('2468')
    for entry in ['', '2', '24', '246'] * 5:
        attempt = pin.check(entry)
        assert not attempt.ok and attempt.not_a_pin and attempt.locked_for == 0
    for _ in range(4):
        pin.check('9999')
    restarted = StaffPin(tmp_path, clock)
    assert restarted.check('').locked_for == 0
    assert restarted.check('9999').just_locked  # the fifth real wrong PIN, across the restart
    refused = restarted.check('')
    assert refused.locked_for == FIRST_LOCK_SECONDS and not refused.not_a_pin  # while locked, the lock is the answer


def test_set_pin_reads_one_line_from_stdin_and_refuses_bad_pins(tmp_path):
    def set_pin(text: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, '-m', 'kiosk', 'set-pin', '--data-dir', str(tmp_path / 'var')],
                              input=text, capture_output=True, text=True, timeout=60)

    assert set_pin('12ab\n').returncode == 2 and not (tmp_path / 'var' / 'staff-pin.json').exists()
    assert set_pin('123\n').returncode == 2
    done = set_pin('97531\n')
    assert done.returncode == 0 and StaffPin(tmp_path / 'var').check('97531').ok
    assert '97531' not in done.stdout + done.stderr
    assert (tmp_path / 'var').stat().st_mode & 0o777 == 0o700


def test_audit_log_appends_time_action_and_count_only(tmp_path):
    audit = AuditLog(tmp_path)
    audit.record('unlock')
    audit.record('export_download', 12)
    first_line = audit.path.read_text().splitlines()[0]
    audit.record('mark_pulled', 12)
    assert audit.path.read_text().splitlines()[0] == first_line  # appended, never rewritten
    assert [(entry['action'], entry['count']) for entry in audit.last()] == \
        [('mark_pulled', 12), ('export_download', 12), ('unlock', None)]
    assert set(audit.last()[0]) == {'time', 'action', 'count'}
    assert audit.path.stat().st_mode & 0o777 == 0o600


def test_a_torn_last_audit_line_is_skipped(tmp_path):
    audit = AuditLog(tmp_path)
    audit.record('unlock')
    with audit.path.open('a') as file:
        file.write('{"time": "2026-11-2')
    assert [entry['action'] for entry in audit.last()] == ['unlock']


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


def test_views_are_counted_per_day_and_program_and_summed_for_the_window(tmp_path):
    counter = ViewCounter(tmp_path)
    for day in (date(2026, 11, 25), date(2026, 11, 25), date(2026, 11, 26), date(2026, 1, 1)):
        counter.count('pal', day)
    counter.count('outreach', date(2026, 11, 26))
    assert counter.load()['2026-11-25'] == {'pal': 2}
    assert views_per_program(counter.load(), ['pal', 'outreach', 'citizens-academy'], date(2026, 11, 26)) == \
        {'pal': 3, 'outreach': 1, 'citizens-academy': 0}
