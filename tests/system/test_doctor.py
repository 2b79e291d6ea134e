"""`kiosk doctor` on a good kiosk, and on each way a kiosk can be broken: real files, a real receiver, real PATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.appliance.doctor import Check, _disk, _units, examine
from kiosk.pin import StaffPin
from tests.support.fake_health import FakeHealth
from tests.support.ports import free_port
from tests.support.tools import require_tool, unavailable


@pytest.fixture
def good_kiosk(isolated_settings, receiver, monkeypatch) -> Path:
    """A kiosk as IT leaves it: private data dir, PIN set, sync configured and recently successful."""
    for tool in ('chromium', 'cage', 'espeak-ng'):  # what a good kiosk has
        require_tool(tool, control='KIOSK_REQUIRE_BROWSER')
    monkeypatch.setenv('KIOSK_PORT', str(free_port()))  # no kiosk server answers: the screen check cannot tell
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
    assert outcome(result, 'kiosk screen') == 'WARN' and 'does not answer' in result.stdout
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
    assert 'not set: run `sudo kiosk set-pin`' in result.stdout


def test_the_hints_name_the_settings_file_as_the_settings_page_does(isolated_settings, monkeypatch):
    monkeypatch.setenv('KIOSK_SPEECH', 'false')
    checks = {check.name: check for check in examine({})}
    assert 'set sync_url in kiosk.toml and KIOSK_SYNC_TOKEN in kiosk.env' in checks['sync'].detail
    assert checks['speech'].detail == 'off (speech = false in kiosk.toml): no Read aloud button'


@pytest.fixture
def fake_health(monkeypatch):
    health = FakeHealth()
    monkeypatch.setenv('KIOSK_PORT', str(health.port))
    yield health
    health.stop()


def test_the_doctor_reports_a_screen_that_shows_no_kiosk_page(fake_health):
    fake_health.health['warnings'] = ['screen_missing']
    result = doctor()
    assert result.returncode == 1 and outcome(result, 'kiosk screen') == 'FAIL'
    assert 'screen_missing' in result.stdout and 'journalctl -u kiosk-browser' in result.stdout
    fake_health.health['warnings'] = []
    assert outcome(doctor(), 'kiosk screen') == 'OK'


FAKE_SYSTEMCTL = """#!/bin/sh
# What systemd 252 says about a kiosk without a console: the server runs, the screen's condition failed.
case "$1 $*" in
  show*kiosk-browser.service)
    printf 'UnitFileState=enabled\nLoadState=loaded\nActiveState=inactive\nSubState=dead\nResult=success\n'
    printf 'ConditionResult=no\nExecMainStatus=0\nNRestarts=0\n' ;;
  show*kiosk.service)
    printf 'UnitFileState=enabled\nLoadState=loaded\nActiveState=active\nSubState=running\nResult=success\n'
    printf 'ConditionResult=yes\nExecMainStatus=0\nNRestarts=0\n' ;;
  status*kiosk-browser.service)
    printf '%s\n' '○ kiosk-browser.service - SLMPD kiosk screen (Chromium in cage on tty1)' \
      '     Loaded: loaded (/etc/systemd/system/kiosk-browser.service; enabled; preset: enabled)' \
      '     Active: inactive (dead)' \
      '  Condition: start condition failed at Tue 2026-12-01 22:03:11 UTC; 5min ago' \
      '             └─ ConditionPathExists=/dev/tty1 was not met' ;;
esac
"""


def test_the_doctor_says_why_the_screen_unit_is_not_running(tmp_path):
    systemctl = tmp_path / 'systemctl'
    systemctl.write_text(FAKE_SYSTEMCTL)
    systemctl.chmod(0o755)
    server, screen = _units(str(systemctl))
    assert server == Check('kiosk.service', 'ok', 'enabled, active')
    assert screen.outcome == 'fail'
    assert 'not started, ConditionPathExists=/dev/tty1 was not met' in screen.detail


def test_a_screen_unit_restarting_after_failures_fails_with_its_count(tmp_path):
    systemctl = tmp_path / 'systemctl'
    systemctl.write_text('#!/bin/sh\nprintf "UnitFileState=enabled\\nLoadState=loaded\\nActiveState=activating\\n'
                         'SubState=auto-restart\\nResult=exit-code\\nConditionResult=yes\\nExecMainStatus=1\\n'
                         'NRestarts=57\\n"\n')
    systemctl.chmod(0o755)
    screen = _units(str(systemctl))[1]
    assert screen.outcome == 'fail' and 'restarting after a failure (exit-code, exit status 1; 57 restarts)' \
        in screen.detail


@pytest.fixture
def private_data_dir(tmp_path):
    """A data dir as the installer leaves it (0700, root's here), in a directory anyone may pass through."""
    if os.geteuid() != 0 or not shutil.which('setpriv'):
        unavailable('running as another user needs root and setpriv (util-linux)')
    base = Path(tempfile.mkdtemp(prefix='kiosk-private-'))
    base.chmod(0o711)
    data_dir = base / 'var'
    data_dir.mkdir(mode=0o700)
    StaffPin(data_dir).set('4821')
    yield data_dir
    shutil.rmtree(base)


@pytest.mark.parametrize(('command', 'stdin'), [(['set-pin'], '1234\n'), (['doctor'], ''),
                                                (['export', '--status', 'all'], ''), (['sync'], '')])
def test_a_normal_user_gets_one_line_naming_the_fix_never_a_traceback(private_data_dir, command, stdin):
    env = {key: value for key, value in os.environ.items() if not key.startswith(('KIOSK_', 'PYTEST_'))}
    env.update(KIOSK_DATA_DIR=str(private_data_dir), KIOSK_KIOSK_ID='test-kiosk',
               KIOSK_SYNC_URL='http://127.0.0.1:9/signups')
    result = subprocess.run(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', sys.executable,
                             '-m', 'kiosk', *command], input=stdin, capture_output=True, text=True, timeout=60,
                            env=env, cwd='/')
    assert result.returncode != 0
    assert 'Traceback' not in result.stdout + result.stderr, result.stderr
    if command == ['doctor']:
        assert outcome(result, 'staff PIN') == 'FAIL' and 'run `sudo kiosk doctor`' in result.stdout
        assert outcome(result, 'data dir') == 'FAIL' and 'run as the kiosk user' in result.stdout
    else:
        (line,) = result.stderr.splitlines()
        assert line.startswith('kiosk: ') and f'sudo kiosk {command[0]}' in line and 'permission denied' in line


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


def test_doctor_says_whether_published_content_is_taken(good_kiosk, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.bundle import public_key_text

    key_file = tmp_path / 'content.pub'
    env = {'KIOSK_CONTENT_PUBLIC_KEY_FILE': str(key_file)}
    result = doctor(env)
    assert outcome(result, 'published content') == 'WARN' and result.returncode == 0
    assert 'no trusted key, so content published at the hub is ignored' in result.stdout
    key_file.write_text('not a key')
    result = doctor(env)
    assert outcome(result, 'published content') == 'FAIL' and 'sudo kiosk trust-key KEY' in result.stdout
    key_file.write_text(public_key_text(Ed25519PrivateKey.generate()))
    result = doctor(env)
    assert outcome(result, 'published content') == 'OK' and 'the factory content runs' in result.stdout
