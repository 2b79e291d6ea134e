"""The appliance as a visitor and IT see it: the closed-for-the-night screen, and logs free of personal data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.screens import CHROMIUM, SMALL_TARGETS, open_screen, serious_accessibility_problems, tap_keys
from tests.support.sync_receiver import Receiver
from tests.support.tools import unavailable

pytestmark = pytest.mark.browser


def test_at_night_the_kiosk_is_dark_and_a_touch_wakes_it_for_one_visit(page, kiosk_factory):
    kiosk = kiosk_factory(clock='2026-11-27 23:30:00', sleep='22:00-06:00', idle_seconds='3',
                          idle_countdown_seconds='3')
    open_screen(page, kiosk.url + '/')
    page.get_by_role('heading', name="We're closed for the night").wait_for()
    page.get_by_role('heading', name='Estamos cerrados por la noche').wait_for()
    assert page.get_by_text('(314) 231-1212').is_visible()
    assert page.get_by_text('Next community meeting: Thursday, December 10').is_visible()
    background = page.evaluate("getComputedStyle(document.querySelector('.night')).backgroundColor")
    assert sum(int(part) for part in background[4:-1].split(',')) < 3 * 40, f'not dark: {background}'
    assert serious_accessibility_problems(page, 'night screen') == []
    assert page.evaluate(SMALL_TARGETS) == []

    page.get_by_role('button', name='Toque para ver los programas').click()
    page.get_by_role('heading', name='Community programs').wait_for()
    page.get_by_text('Are you still there?').wait_for(timeout=10_000)
    page.get_by_role('heading', name="We're closed for the night").wait_for(timeout=15_000)


@pytest.mark.parametrize(('clock', 'before', 'after'), [
    ('2026-11-27 21:59:40', 'Touch to begin', "We're closed for the night"),
    ('2026-11-28 05:59:40', "We're closed for the night", 'Touch to begin'),
], ids=['22:00', '06:00'])
def test_the_screen_follows_the_clock_at_both_ends_of_the_night(page, kiosk_factory, clock, before, after):
    """Nobody touches the screen at 22:00 or 06:00: it changes by itself, on the minute.

    The kiosk's clock starts 20 s before the minute: time for a loaded machine to start it and open the page.
    """
    started = time.monotonic()
    kiosk = kiosk_factory(clock=clock, sleep='22:00-06:00')
    open_screen(page, kiosk.url + '/')
    page.get_by_text(before).first.wait_for()
    page.get_by_text(after).first.wait_for(timeout=60_000)
    assert page.get_by_text(before).count() == 0
    # On the minute, 20 s after the start; a look every 30 s from the page's opening would be 33 s or more.
    assert time.monotonic() - started < 30


def test_a_whole_run_logs_no_name_phone_email_or_token(page, kiosk_factory):
    receiver = Receiver(token='tok-7Hq2-secret')
    try:
        kiosk = kiosk_factory(sync_url=receiver.url, sync_token=receiver.token, sync_interval_seconds='1',
                              log_level='debug')
        open_screen(page, kiosk.url + '/')
        page.get_by_role('button', name='Touch to begin').click()
        page.locator('.program-card').nth(0).click()
        page.get_by_role('button', name='Sign me up').click()
        page.get_by_label('Your name').click()
        tap_keys(page, 'zelda quixote')
        page.get_by_label('Phone number').click()
        tap_keys(page, '3145550177')
        page.get_by_label('Email').click()
        tap_keys(page, 'zq')
        page.locator('[data-key="@"]').click()
        tap_keys(page, 'mail')
        page.locator('[data-key=".com"]').click()
        page.get_by_role('button', name='Email').click()
        page.get_by_role('checkbox').click()
        page.get_by_role('button', name='Send').click()
        page.get_by_role('heading', name='Thank you, Zelda!').wait_for()
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert receiver.received, 'the sign-up reached the receiver'
        page.goto(kiosk.url + '/healthz')
        receiver.token = 'rotated'  # a refused token is logged as a pause, never quoted
        time.sleep(3)
    finally:
        receiver.stop()
    log = kiosk.log_path.read_text()
    assert 'DEBUG' in log and 'sync' in log  # the log is there and verbose
    for secret in ('Zelda', 'zelda', 'Quixote', '5550177', '555-0177', 'zq@mail.com', 'tok-7Hq2-secret'):
        assert secret not in log, secret


def _processes(field: int, value: int) -> list[int]:
    """Pids whose /proc stat field after the name (1: parent, 2: process group) is `value`."""
    found = []
    for process in Path('/proc').iterdir():
        try:
            after_name = (process / 'stat').read_text().rpartition(')')[2].split() if process.name.isdigit() else []
            if after_name and int(after_name[field]) == value:
                found.append(int(process.name))
        except (OSError, ValueError):
            continue
    return found


def _process_group(pgid: int) -> list[int]:
    return _processes(2, pgid)


def _children(pid: int) -> list[int]:
    return _processes(1, pid)


def test_the_launcher_runs_real_chromium_on_the_kiosk_and_sigterm_takes_all_of_it_down(kiosk_factory, tmp_path):
    """`kiosk browser` with Debian's Chromium (headless here, instead of inside cage) on a real `kiosk run`."""
    if not CHROMIUM.exists():
        unavailable(f'{CHROMIUM} is not installed (apt-get install chromium)', 'KIOSK_REQUIRE_BROWSER')
    kiosk = kiosk_factory()
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'chromium').write_text(f'#!/bin/sh\nexec {CHROMIUM} --headless --no-sandbox --disable-gpu "$@"\n')
    (bin_dir / 'chromium').chmod(0o755)
    env = {key: value for key, value in os.environ.items() if not key.startswith(('KIOSK_', 'PYTEST_'))}
    env.update(PATH=f'{bin_dir}:{os.environ["PATH"]}', KIOSK_PORT=str(kiosk.port))
    env.pop('WAYLAND_DISPLAY', None)
    said = (tmp_path / 'launcher.log').open('wb')
    launcher = subprocess.Popen([sys.executable, '-m', 'kiosk', 'browser', '--run-dir', str(tmp_path / 'run'),
                                 '--check-seconds', '0.5'], env=env, stdout=said, stderr=said)
    try:
        deadline = time.monotonic() + 60
        while not (_children(launcher.pid) and httpx.get(kiosk.url + '/healthz', timeout=5).json()['clients']):
            assert time.monotonic() < deadline, f'Chromium never opened the kiosk: {said.name}'
            assert launcher.poll() is None, 'the launcher exited'
            time.sleep(0.5)
        (chromium,) = _children(launcher.pid)
        assert len(_process_group(chromium)) > 1, 'Chromium and its helpers, in one group'
        assert list((tmp_path / 'run' / 'profile').iterdir()), 'on the throwaway profile'
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while _process_group(chromium) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _process_group(chromium) == [], 'no Chromium process outlives the launcher'
    finally:
        launcher.kill()
        said.close()
        for pid in _process_group(chromium) if 'chromium' in locals() else []:
            os.kill(pid, signal.SIGKILL)
