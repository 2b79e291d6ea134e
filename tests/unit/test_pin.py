"""kiosk/pin.py: the staff PIN, stored as a salted slow hash, with a lockout that doubles and survives a restart."""

import json
import subprocess
import sys

from kiosk.pin import FIRST_LOCK_SECONDS, StaffPin


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
