"""`kiosk doctor` on a good kiosk, and on each way a kiosk can be broken: real files, a real receiver, real PATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.doctor import Check, _disk, examine
from kiosk.pin import StaffPin

from ..conftest import require_tool
from ..sync_receiver import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def good_kiosk(isolated_settings, receiver, monkeypatch) -> Path:
    """A kiosk as IT leaves it: private data dir, PIN set, sync configured and recently successful."""
    for tool in ('chromium', 'cage', 'espeak-ng'):  # what a good kiosk has
        require_tool(tool, control='KIOSK_REQUIRE_BROWSER')
    monkeypatch.setenv('KIOSK_SYNC_URL', receiver.url)
    monkeypatch.setenv('KIOSK_SYNC_TOKEN', receiver.token)
    StaffPin(isolated_settings).set('4821')
    before = doctor()
    assert outcome(before, 'last sync') == 'WARN' and before.returncode == 0  # a new kiosk is not a broken one
    subprocess.run([sys.executable, '-m', 'kiosk', 'sync'], check=True, capture_output=True)
    return isolated_settings


def doctor(env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'kiosk', 'doctor'], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def outcome(result: subprocess.CompletedProcess, name: str) -> str:
    for line in result.stdout.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[1].startswith(name + ' '):
            return parts[0]
    raise AssertionError(f'no {name!r} line in:\n{result.stdout}')


def test_a_good_kiosk_passes_every_check(good_kiosk):
    result = doctor()
    assert result.returncode == 0, result.stdout
    for name in ('settings', 'content', 'data dir', 'free disk', 'staff PIN', 'clock', 'sync endpoint', 'last sync',
                 'screen', 'speech'):
        assert outcome(result, name) == 'OK', result.stdout
    assert 'reachable (HTTP 204 in' in result.stdout
    assert outcome(result, 'units') == 'SKIP'  # no systemd in the test machine
    assert result.stdout.rstrip().endswith('all good')
    assert 'test-token' not in result.stdout


@pytest.mark.parametrize(('env', 'check', 'says'), [
    ({'KIOSK_PORT': 'eighty'}, 'settings', 'port (KIOSK_PORT)'),
    ({'KIOSK_SLEEP': '10pm-6am'}, 'settings', 'sleep (KIOSK_SLEEP)'),
    ({'KIOSK_CONTENT': '/nonexistent/programs.toml'}, 'content', 'file not found'),
    ({'KIOSK_SYNC_TOKEN': 'wrong'}, 'sync endpoint', "refused this kiosk's token"),
    ({'KIOSK_SYNC_URL': 'http://127.0.0.1:9/signups'}, 'sync endpoint', 'unreachable'),
    ({'PATH': '/nonexistent'}, 'screen', 'not installed: chromium, cage'),
    ({'PATH': '/nonexistent'}, 'speech', 'espeak-ng is not installed'),
])
def test_each_broken_setting_fails_its_own_check(good_kiosk, env, check, says):
    result = doctor(env)
    assert result.returncode == 1
    assert outcome(result, check) == 'FAIL'
    assert says in result.stdout


def test_a_data_dir_others_can_read_fails(good_kiosk):
    good_kiosk.chmod(0o755)
    result = doctor()
    assert result.returncode == 1 and outcome(result, 'data dir') == 'FAIL' and 'chmod 700' in result.stdout


def test_a_missing_data_dir_and_pin_fail(good_kiosk):
    shutil.rmtree(good_kiosk)
    result = doctor()
    assert outcome(result, 'data dir') == 'FAIL' and outcome(result, 'staff PIN') == 'FAIL'
    assert 'kiosk set-pin' in result.stdout


def test_a_sync_that_went_quiet_fails(good_kiosk):
    state_path = good_kiosk / 'sync-state.json'
    state = json.loads(state_path.read_text())
    state['last_success'] = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    state_path.write_text(json.dumps(state))
    result = doctor()
    assert outcome(result, 'last sync') == 'FAIL' and 'succeeded 3 days ago' in result.stdout


def test_a_clock_before_the_install_fails(good_kiosk):
    checks = {check.name: check for check in examine({}, now=lambda: 0.0)}
    assert checks['clock'].outcome == 'fail' and 'time sync' in checks['clock'].detail


def test_a_full_disk_fails(tiny_disk):
    (tiny_disk / 'filler').write_bytes(b'\0' * 200_000)
    check = _disk(tiny_disk)
    assert check == Check('free disk', 'fail', '0 MB free (at least 200 MB needed)')
