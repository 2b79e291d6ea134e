"""`kiosk browser` as a real process: a stand-in "chromium" (a small script) and a real /healthz on loopback.

The launcher keeps Chromium as its child: it restarts it when the page reports itself hidden, once a night
between visits, forwards SIGTERM, and ends with Chromium's status when Chromium dies by itself. Its
ExecStartPre step waits longer after each quick failure, so a broken screen does not restart every 2 s.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.appliance.chromium import backoff_seconds
from tests.support.fake_health import FakeHealth
from tests.support.tools import faked_clock

FAKE_CHROMIUM = '''#!{python}
"""A stand-in for Chromium: says when it starts (and whether its profile was empty) and when it is stopped."""
import json, os, signal, sys
log = os.environ['FAKE_CHROMIUM_LOG']
profile = next(arg.split('=', 1)[1] for arg in sys.argv if arg.startswith('--user-data-dir='))
def say(event, **more):
    with open(log, 'a') as file:
        file.write(json.dumps({{'event': event, 'pid': os.getpid(), **more}}) + '\\n')
def stopped(*_):
    say('term')
    sys.exit(0)
signal.signal(signal.SIGTERM, stopped)
say('start', argv=sys.argv, profile_was_empty=not os.listdir(profile))
open(os.path.join(profile, 'History'), 'w').write('what the last visitor did')
if os.environ.get('FAKE_CHROMIUM_EXIT'):
    sys.exit(int(os.environ['FAKE_CHROMIUM_EXIT']))
while True:
    signal.pause()  # not time.sleep: under libfaketime it fails with EINVAL
'''


class Launcher:
    def __init__(self, tmp_path: Path, kiosk: FakeHealth, **env: str) -> None:
        bin_dir = tmp_path / 'bin'
        bin_dir.mkdir(exist_ok=True)
        chromium = bin_dir / 'chromium'
        chromium.write_text(FAKE_CHROMIUM.format(python=sys.executable))
        chromium.chmod(0o755)
        self.log = tmp_path / 'chromium.log'
        self.run_dir = tmp_path / 'run'
        base = {key: value for key, value in os.environ.items() if not key.startswith(('KIOSK_', 'PYTEST_'))}
        self.env = {**base, 'PATH': f'{bin_dir}:{os.environ["PATH"]}', 'FAKE_CHROMIUM_LOG': str(self.log),
                    'KIOSK_PORT': str(kiosk.port), **env}
        self.output = tmp_path / 'launcher.log'
        self.started = time.monotonic()  # a faked clock starts from its given time when the process does
        with self.output.open('ab') as output:
            self.process = subprocess.Popen(
                [sys.executable, '-m', 'kiosk', 'browser', '--run-dir', str(self.run_dir), '--check-seconds', '0.3'],
                env=self.env, stdout=output, stderr=output)

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def starts(self) -> list[dict]:
        return [event for event in self.events() if event['event'] == 'start']

    def wait_for_starts(self, count: int, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.starts()) < count:
            assert time.monotonic() < deadline, f'{len(self.starts())} start(s), not {count}: {self.said()}'
            assert self.process.poll() is None, f'the launcher exited: {self.said()}'
            time.sleep(0.1)
        return self.starts()

    def said(self) -> str:
        return self.output.read_text() if self.output.exists() else ''

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for event in self.starts():  # the stand-in never outlives its test
            with contextlib.suppress(ProcessLookupError):
                os.kill(event['pid'], signal.SIGKILL)


@pytest.fixture
def kiosk() -> Iterator[FakeHealth]:
    kiosk = FakeHealth()
    yield kiosk
    kiosk.stop()


@pytest.fixture
def launched(tmp_path, kiosk) -> Iterator[callable]:
    launchers = []

    def launch(**env: str) -> Launcher:
        launchers.append(Launcher(tmp_path, kiosk, **env))
        return launchers[-1]

    yield launch
    for launcher in launchers:
        launcher.stop()


def test_a_hidden_screen_gets_chromium_restarted_once_with_an_empty_profile(kiosk, launched):
    launcher = launched()
    (first,) = launcher.wait_for_starts(1)
    assert first['profile_was_empty']
    time.sleep(1)  # the launcher has seen the screen shown
    assert len(launcher.starts()) == 1, 'nothing to restart while the page is shown'
    kiosk.health['warnings'] = ['screen_hidden']
    second = launcher.wait_for_starts(2, timeout=15)[1]
    assert second['pid'] != first['pid'] and second['profile_was_empty']
    assert {'event': 'term', 'pid': first['pid']} in launcher.events(), 'the old Chromium was stopped cleanly'
    time.sleep(3)  # the warning lingers until the new page reports in: no restart loop meanwhile
    assert len(launcher.starts()) == 2, launcher.said()
    assert 'screen_hidden' in launcher.said()


def test_sigterm_stops_chromium_and_the_launcher_exits_cleanly(launched):
    launcher = launched()
    (first,) = launcher.wait_for_starts(1)
    launcher.process.send_signal(signal.SIGTERM)
    assert launcher.process.wait(timeout=20) == 0
    assert {'event': 'term', 'pid': first['pid']} in launcher.events()


def test_when_chromium_dies_by_itself_the_launcher_ends_with_its_status(launched):
    launcher = launched(FAKE_CHROMIUM_EXIT='3')
    launcher.wait_for_starts(1)
    assert launcher.process.wait(timeout=20) == 3
    assert 'Chromium exited by itself' in launcher.said()


@pytest.mark.parametrize(('sleep', 'clock'), [('22:00-06:00', '2026-11-27 21:59:45'), ('', '2026-11-28 02:59:45')],
                         ids=['start of the sleep window', '03:00 without one'])
def test_the_nightly_restart_comes_on_time_and_never_mid_visit(kiosk, launched, sleep, clock):
    kiosk.health['visit_active'] = True
    launcher = launched(KIOSK_SLEEP=sleep, **faked_clock(clock))
    launcher.wait_for_starts(1)
    time.sleep(max(0.0, 15 + 6 - (time.monotonic() - launcher.started)))  # past the hour by 6 s, a visit still going on
    assert len(launcher.starts()) == 1, 'not in the middle of a visit'
    kiosk.health['visit_active'] = False
    launcher.wait_for_starts(2, timeout=10)
    time.sleep(2)
    assert len(launcher.starts()) == 2, 'once a night'
    assert 'nightly' in launcher.said()


def prepare(run_dir: Path, **env: str) -> tuple[float, subprocess.CompletedProcess]:
    base = {key: value for key, value in os.environ.items() if not key.startswith(('KIOSK_', 'PYTEST_'))}
    started = time.monotonic()
    result = subprocess.run([sys.executable, '-m', 'kiosk', 'browser', '--prepare', '--run-dir', str(run_dir)],
                            env={**base, **env}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return time.monotonic() - started, result


def test_quick_failures_wait_longer_each_time_and_a_long_run_starts_afresh(tmp_path):
    run_dir = tmp_path / 'run'
    runs = [prepare(run_dir) for _ in range(3)]  # each screen lasted a second: quick failures
    said = [result.stdout + result.stderr for _, result in runs]
    assert 'waiting' not in said[0] and 'waiting 2 s' in said[1] and 'waiting 4 s' in said[2], said
    assert runs[1][0] >= 2 and runs[2][0] >= 4
    state = json.loads((run_dir / 'restarts.json').read_text())
    assert state['quick_failures'] == 2
    state['started_at'] -= 600  # that last run lasted ten minutes
    (run_dir / 'restarts.json').write_text(json.dumps(state))
    _, fourth = prepare(run_dir)
    assert 'waiting' not in fourth.stdout + fourth.stderr
    assert json.loads((run_dir / 'restarts.json').read_text())['quick_failures'] == 0


def test_the_back_off_doubles_up_to_a_minute():
    assert [backoff_seconds(failures) for failures in range(9)] == [0, 2, 4, 8, 16, 32, 60, 60, 60]


def test_the_screen_gets_only_the_settings_it_needs_and_none_of_the_secrets(tmp_path):
    config = tmp_path / 'kiosk.toml'
    config.write_text('port = 8123\nsleep = "21:30-06:00"\nkiosk_id = "lobby-1"\n'
                      'sync_url = "https://hub.example.org/api/v1/signups"\ndata_dir = "/var/lib/kiosk"\n')
    prepare(tmp_path / 'run', KIOSK_CONFIG=str(config), KIOSK_SYNC_TOKEN='s3cret', KIOSK_TIMEZONE='America/Denver')
    screen = (tmp_path / 'run' / 'screen.toml').read_text()
    assert tomllib.loads(screen) == {'host': '127.0.0.1', 'port': 8123, 'timezone': 'America/Denver',
                                     'sleep': '21:30-06:00'}
    assert 's3cret' not in screen


def test_the_root_step_replaces_a_planted_symlink_instead_of_writing_through_it(tmp_path):
    """The screen's user owns /run/kiosk-browser; the root step must never write where a link there points."""
    run_dir = tmp_path / 'run'
    run_dir.mkdir()
    target = tmp_path / 'precious'
    target.write_text('untouched')
    for name in ('screen.toml', 'restarts.json'):
        (run_dir / name).symlink_to(target)
    prepare(run_dir)
    assert target.read_text() == 'untouched'
    assert not (run_dir / 'screen.toml').is_symlink() and not (run_dir / 'restarts.json').is_symlink()
