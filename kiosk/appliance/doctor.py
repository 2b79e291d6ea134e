"""`kiosk doctor`: a checklist IT can read over SSH, and an exit code a script can trust.

Each check says ok, warn (worth knowing, not broken), fail (the kiosk is not doing its job) or skip
(does not apply here). Nothing here prints personal data or the sync token.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

import kiosk
from kiosk.appliance.chromium import read_health
from kiosk.config import ConfigError, Settings, load_settings
from kiosk.content import ContentError, load_catalog
from kiosk.health import DISK_LOW_MB
from kiosk.pin import StaffPin
from kiosk.speech import espeak
from kiosk.sync import STATE_NAME, SyncState

UNITS = ('kiosk.service', 'kiosk-browser.service')
SYNC_QUIET_AFTER = 3600.0  # seconds without a successful sync before it counts as broken


@dataclass(frozen=True)
class Check:
    name: str
    outcome: str  # 'ok', 'warn', 'fail' or 'skip'
    detail: str


def build_time() -> float:
    """When this copy of the kiosk was built or installed: a clock earlier than that is certainly wrong."""
    return Path(kiosk.__file__).stat().st_mtime


def examine(flags: dict, *, now: Callable[[], float] = time.time) -> list[Check]:
    try:
        settings = load_settings(**flags)
    except ConfigError as error:
        return [Check('settings', 'fail', str(error))]
    checks = [Check('settings', 'ok', f'valid ({settings.config or os.environ.get("KIOSK_CONFIG") or "defaults"})')]
    try:
        catalog = load_catalog(settings.content)
        checks.append(Check('content', 'ok', f'{len(catalog.program)} programs in {settings.content}'))
    except ContentError as error:
        checks.append(Check('content', 'fail', '; '.join(error.problems)))
    checks += _readable('published content', _published, settings)
    systemctl = shutil.which('systemctl') if Path('/run/systemd/system').is_dir() else None
    checks += [_data_dir(settings.data_dir), _disk(settings.data_dir), *_readable('staff PIN', _pin, settings.data_dir),
               _clock(now()), *_readable('last sync', _sync, settings, now()), _programs_installed(),
               _screen_shown(settings), _speech(settings), *_units(systemctl)]
    return checks


def _readable(name: str, check: Callable[..., Check | list[Check]], *args) -> list[Check]:
    """A check that reads the data dir, as a user who may not: one line that names the fix, never a traceback."""
    try:
        result = check(*args)
    except PermissionError as error:
        return [Check(name, 'fail', f'cannot read {error.filename or "the data dir"} as this user: '
                                    f'run `sudo kiosk doctor`')]
    return result if isinstance(result, list) else [result]


def config_file(settings: Settings) -> str:
    """The settings file the hints name: the one in use, or kiosk.toml as docs/settings.md calls it."""
    return str(settings.config or os.environ.get('KIOSK_CONFIG') or 'kiosk.toml')


def _data_dir(data_dir: Path) -> Check:
    try:
        info = data_dir.stat()
    except FileNotFoundError:
        return Check('data dir', 'fail', f'{data_dir} does not exist')
    if not stat.S_ISDIR(info.st_mode):
        return Check('data dir', 'fail', f'{data_dir} is not a directory')
    if info.st_mode & 0o077:
        return Check('data dir', 'fail', f'{data_dir} is {stat.S_IMODE(info.st_mode):04o}, must be private: '
                                         f'chmod 700 {data_dir}')
    if info.st_uid != os.geteuid():
        return Check('data dir', 'fail', f'{data_dir} belongs to uid {info.st_uid}, not to this user '
                                         f'(uid {os.geteuid()}); run as the kiosk user: `sudo kiosk doctor`')
    try:
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as error:
        return Check('data dir', 'fail', f'{data_dir} is not writable: {error.strerror or error}')
    return Check('data dir', 'ok', f'{data_dir} is private (0700) and writable')


def _disk(data_dir: Path) -> Check:
    existing = next((path for path in (data_dir, *data_dir.absolute().parents) if path.exists()), Path('/'))
    try:
        free_mb = shutil.disk_usage(existing).free // (1024 * 1024)
    except OSError as error:
        return Check('free disk', 'fail', f'cannot tell: {error.strerror or error}')
    outcome = 'ok' if free_mb >= DISK_LOW_MB else 'fail'
    return Check('free disk', outcome, f'{free_mb:,} MB free (at least {DISK_LOW_MB} MB needed)')


def _pin(data_dir: Path) -> Check:
    if StaffPin(data_dir).is_set:
        return Check('staff PIN', 'ok', 'set')
    return Check('staff PIN', 'fail', 'not set: run `sudo kiosk set-pin`')


def _clock(now: float) -> Check:
    built = build_time()
    shown = datetime.fromtimestamp(now, UTC).strftime('%Y-%m-%d %H:%M UTC')
    if now < built:
        return Check('clock', 'fail', f'{shown} is before this kiosk was installed '
                                      f'({datetime.fromtimestamp(built, UTC):%Y-%m-%d}): check time sync (NTP)')
    return Check('clock', 'ok', shown)


def _sync(settings: Settings, now: float) -> list[Check]:
    if not settings.sync_url:
        return [Check('sync', 'warn', 'off: sign-ups stay on this kiosk until staff export them '
                                      f'(set sync_url in {config_file(settings)} and KIOSK_SYNC_TOKEN in kiosk.env)')]
    token = settings.sync_token.get_secret_value() if settings.sync_token else ''
    started = time.monotonic()
    try:
        answer = httpx.head(settings.sync_url, headers={'Authorization': f'Bearer {token}'},
                            timeout=settings.sync_timeout_seconds)
    except httpx.TransportError as error:
        reach = Check('sync endpoint', 'fail', f'unreachable ({type(error).__name__})')
    else:
        took = f'HTTP {answer.status_code} in {(time.monotonic() - started) * 1000:.0f} ms'
        if answer.status_code in (401, 403):
            reach = Check('sync endpoint', 'fail', f'refused this kiosk\'s token ({took})')
        elif answer.status_code >= 500:
            reach = Check('sync endpoint', 'fail', f'reachable but failing ({took})')
        else:
            reach = Check('sync endpoint', 'ok', f'reachable ({took})')
    state = SyncState.load(settings.data_dir / STATE_NAME)
    if state.last_success is None:
        last = Check('last sync', 'warn', 'no sync has succeeded yet')
    else:
        age = now - datetime.fromisoformat(state.last_success).timestamp()
        quiet_after = max(SYNC_QUIET_AFTER, 10 * settings.sync_interval_seconds)
        outcome = 'ok' if age <= quiet_after else 'fail'
        last = Check('last sync', outcome, f'succeeded {_duration(age)} ago')
    return [reach, last]


def _programs_installed() -> Check:
    missing = [name for name, candidates in (('chromium', ('chromium', 'chromium-browser')), ('cage', ('cage',)))
               if not any(shutil.which(candidate) for candidate in candidates)]
    if missing:
        return Check('screen', 'fail', f'not installed: {", ".join(missing)} (apt-get install {" ".join(missing)})')
    return Check('screen', 'ok', 'chromium and cage installed')


def _published(settings: Settings) -> Check:
    """Which key published content must be signed with, and what runs; without a key, it is ignored."""
    from kiosk.bundle import BundleError
    from kiosk.published import PublishedContent, trusted_key

    try:
        key = trusted_key(settings)
    except (BundleError, OSError) as error:
        return Check('published content', 'fail', f'the trusted key is unusable ({error}): run '
                                                  '`sudo kiosk trust-key KEY` again with the key `kiosk hub keygen` '
                                                  'printed')
    content = PublishedContent.for_settings(settings)
    active = content.active_version()
    runs = f'version {active} runs' if active else 'the factory content runs'
    if key is None:
        return Check('published content', 'warn', f'no trusted key, so content published at the hub is ignored '
                                                  f'({runs}): `sudo kiosk trust-key KEY`')
    error = content.state().last_error
    if error:
        return Check('published content', 'warn', f'{runs}; the last bundle was refused: {error}')
    return Check('published content', 'ok', f'{runs}; content signed with the trusted key is taken')


def _speech(settings: Settings) -> Check:
    if not settings.speech:
        return Check('speech', 'skip', f'off (speech = false in {config_file(settings)}): no Read aloud button')
    if not espeak():
        return Check('speech', 'fail', 'espeak-ng is not installed, so there is no Read aloud button '
                                       '(apt-get install espeak-ng)')
    return Check('speech', 'ok', f'espeak-ng at {settings.speech_rate} words per minute')


def _screen_shown(settings: Settings) -> Check:
    """What the server sees of its screen: a page connected, not hidden behind another tab or window."""
    health = read_health(settings)
    if health is None:
        return Check('kiosk screen', 'warn', f'cannot tell: the kiosk server does not answer at {settings.local_url}')
    warnings = health.get('warnings') or []
    if 'screen_missing' in warnings:
        return Check('kiosk screen', 'fail', 'no kiosk page is connected (screen_missing): the screen is not '
                                             'showing the kiosk; see the kiosk-browser.service line and '
                                             '`journalctl -u kiosk-browser`')
    if 'screen_hidden' in warnings:
        return Check('kiosk screen', 'warn', 'the kiosk page is hidden behind another tab or window (screen_hidden); '
                                             '`kiosk browser` restarts Chromium')
    return Check('kiosk screen', 'ok', 'a kiosk page is connected and shown')


UNIT_PROPERTIES = ('UnitFileState', 'LoadState', 'ActiveState', 'SubState', 'Result', 'ConditionResult',
                   'ExecMainStatus', 'NRestarts')


def _units(systemctl: str | None) -> list[Check]:
    if not systemctl:
        return [Check('units', 'skip', 'systemd is not running here')]
    checks = []
    for unit in UNITS:
        shown = subprocess.run([systemctl, 'show', '-p', ','.join(UNIT_PROPERTIES), unit], capture_output=True,
                               text=True).stdout
        properties = dict(line.split('=', 1) for line in shown.splitlines() if '=' in line)
        status = ''
        if properties.get('ConditionResult') == 'no':
            status = subprocess.run([systemctl, 'status', '--no-pager', '--lines=0', unit], capture_output=True,
                                    text=True).stdout
        checks.append(describe_unit(unit, properties, status))
    return checks


def describe_unit(unit: str, properties: dict[str, str], status: str = '') -> Check:
    """One line from `systemctl show`: active, or why not (a start condition, a failure, restarts)."""
    enabled = properties.get('UnitFileState') or 'unknown'
    active, sub = properties.get('ActiveState') or 'unknown', properties.get('SubState') or ''
    if properties.get('LoadState') == 'not-found':
        return Check(unit, 'fail', 'not installed (run deploy/install.sh)')
    if active == 'active':
        return Check(unit, 'ok' if enabled == 'enabled' else 'fail', f'{enabled}, active')
    if properties.get('ConditionResult') == 'no':
        unmet = re.findall(r'(\S+=\S*) was not met', status)
        why = f'{", ".join(unmet)} was not met' if unmet else 'a start condition was not met'
        hint = ' (no console: is this a kiosk with a screen?)' if any('/dev/tty' in item for item in unmet) else ''
        return Check(unit, 'fail', f'{enabled}, {active}: not started, {why}{hint}')
    result, code = properties.get('Result') or '', properties.get('ExecMainStatus') or '0'
    restarts = properties.get('NRestarts') or '0'
    if sub == 'auto-restart' or (active == 'activating' and restarts != '0'):
        return Check(unit, 'fail', f'{enabled}, restarting after a failure ({result}, exit status {code}; '
                                   f'{restarts} restarts): see `journalctl -u {unit}`')
    if active == 'failed' or (result and result != 'success'):
        return Check(unit, 'fail', f'{enabled}, {active}: {result}, exit status {code}: see `journalctl -u {unit}`')
    return Check(unit, 'fail', f'{enabled}, {active}{f" ({sub})" if sub else ""}')


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 120:
        return f'{minutes} min'
    hours = minutes // 60
    return f'{hours} h' if hours < 48 else f'{hours // 24} days'


def report(checks: list[Check]) -> str:
    width = max(len(check.name) for check in checks)
    return '\n'.join(f'{check.outcome.upper():<5} {check.name:<{width}}  {check.detail}' for check in checks)
