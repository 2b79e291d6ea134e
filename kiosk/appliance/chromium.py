"""The kiosk's screen: Chromium locked to the kiosk's own page, started only once the server answers, and kept.

`kiosk browser` runs inside cage (deploy/kiosk-browser.service) as the user `kiosk-screen`, which cannot
read the sign-ups or /etc/kiosk. It keeps Chromium as its child, always on an empty profile in /run (a
tmpfs, so nothing typed survives), and reads /healthz every few seconds:
- `screen_hidden` (the kiosk page was pushed into the background, by a new tab or window): Chromium is
  restarted at once, which is the last line of defence when a gesture or a key gets past the policy;
- once a night, at the start of the sleep window (03:00 without one) and never while `visit_active`,
  Chromium is restarted, because its renderer grows with every page load (about 75 KB each).
SIGTERM is passed on to Chromium. When Chromium ends by itself, the launcher ends with its status, cage
ends with it, and systemd starts the screen again.

`kiosk browser --prepare` is the unit's ExecStartPre, run as root: it copies the few settings the screen
needs (never a secret) to /run/kiosk-browser/screen.toml, and waits longer after each quick failure
(2 s, 4 s ... up to a minute), since systemd 252 has no RestartSteps=. The managed policy
(deploy/chromium-policy.json) does the rest.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from kiosk.config import Settings

log = logging.getLogger('kiosk.appliance.chromium')

CHROMIUM_FLAGS = (
    '--kiosk',
    '--no-first-run',
    '--noerrdialogs',
    '--hide-crash-restore-bubble',
    '--disable-pinch',
    '--overscroll-history-navigation=0',
    '--disable-background-networking',
    '--disable-component-update',
    '--password-store=basic',
    '--disable-print-preview',  # printing is off by policy too: Ctrl+P opens nothing
    '--check-for-update-interval=31536000',  # never nag about updates: apt updates Chromium
)
RUN_DIR = Path('/run/kiosk-browser')
CHECK_SECONDS = 5.0  # how often /healthz is read
STOP_SECONDS = 10.0  # how long Chromium gets to close before it is killed
HIDDEN_REARM_SECONDS = 120.0  # a warning that outlives a restart this long gets another one
QUICK_RUN_SECONDS = 60.0  # a screen that lasted less than this failed quickly
BACKOFF_CAP_SECONDS = 60.0
NIGHTLY_WITHOUT_SLEEP = clock_time(3, 0)
SCREEN_SETTINGS = ('host', 'port', 'timezone', 'sleep')  # what the screen needs; nothing secret


def ozone_flags(environ: Mapping[str, str] = os.environ) -> list[str]:
    """A native Wayland client under cage (touch works best there); elsewhere Chromium picks for itself."""
    return ['--ozone-platform=wayland'] if environ.get('WAYLAND_DISPLAY') else ['--ozone-platform-hint=auto']


def chromium_command(settings: Settings, profile_dir: Path, executable: str = 'chromium',
                     environ: Mapping[str, str] = os.environ) -> list[str]:
    return [executable, *CHROMIUM_FLAGS, *ozone_flags(environ), f'--user-data-dir={profile_dir}',
            settings.local_url + '/']


def wait_until_serving(settings: Settings, *, poll_seconds: float = 1.0, timeout: float | None = None,
                       stopping: threading.Event | None = None) -> bool:
    """Block until /healthz answers 200, so Chromium never starts on a server that is not up yet."""
    started = last_said = time.monotonic()
    stopping = stopping or threading.Event()
    while read_health(settings) is None:
        now = time.monotonic()
        if timeout is not None and now - started >= timeout:
            return False
        if now - last_said >= 30:
            log.info('waiting for the kiosk server at %s', settings.local_url)
            last_said = now
        if stopping.wait(poll_seconds):
            return False
    return True


def read_health(settings: Settings) -> dict[str, Any] | None:
    """The server's /healthz, or None while it does not answer."""
    try:
        answer = httpx.get(settings.local_url + '/healthz', timeout=2)
    except httpx.TransportError:
        return None
    if answer.status_code != 200:
        return None
    try:
        health = answer.json()
    except ValueError:
        return {}
    return health if isinstance(health, dict) else {}


def fresh_profile(profile_dir: Path) -> None:
    """An empty profile every start: no history, cookies, form data or service worker from before."""
    shutil.rmtree(profile_dir, ignore_errors=True)
    profile_dir.mkdir(mode=0o700, parents=True)


def next_nightly_restart(settings: Settings, after: datetime) -> datetime:
    """The next start of the sleep window, or of 03:00 when the kiosk never sleeps, in the kiosk's time zone."""
    zone = ZoneInfo(settings.timezone)
    window = settings.sleep_window
    at = window.start if window else NIGHTLY_WITHOUT_SLEEP
    local = after.astimezone(zone)
    due = datetime.combine(local.date(), at, tzinfo=zone)
    return due if due > local else datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)


class Screen:
    """Chromium as a child in its own process group, so a stop takes its helpers with it."""

    def __init__(self, settings: Settings, executable: str, profile_dir: Path) -> None:
        self.settings = settings
        self.executable = executable
        self.profile_dir = profile_dir
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self) -> None:
        fresh_profile(self.profile_dir)
        command = chromium_command(self.settings, self.profile_dir, self.executable)
        log.info('starting %s', ' '.join(command))
        self.process = subprocess.Popen(command, process_group=0)
        self.started_at = time.monotonic()

    def exit_status(self) -> int | None:
        """None while Chromium runs; else its exit code, or 128 + the signal that ended it."""
        if self.process is None or (code := self.process.poll()) is None:
            return None
        return code if code >= 0 else 128 - code

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        # Polled on an Event rather than Popen.wait(timeout): that sleeps with nanosleep, which libfaketime
        # (the tests that fake the night) breaks.
        deadline, pause = time.monotonic() + STOP_SECONDS, threading.Event()
        while self.process.poll() is None and time.monotonic() < deadline:
            pause.wait(0.05)
        if self.process.poll() is None:
            log.warning('Chromium did not close within %.0f s: killing it', STOP_SECONDS)
            self._signal(signal.SIGKILL)
            self.process.wait()

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)


def launch(settings: Settings, run_dir: Path = RUN_DIR, check_seconds: float = CHECK_SECONDS,
           now: Callable[[], datetime] = lambda: datetime.now().astimezone()) -> int:
    """Run Chromium until told to stop (0) or until it ends by itself (its status, never 0)."""
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stopping.set())
    executable = shutil.which('chromium') or shutil.which('chromium-browser') or 'chromium'
    screen = Screen(settings, executable, run_dir / 'profile')
    nightly = next_nightly_restart(settings, now())
    log.info('the nightly restart is due at %s', nightly.isoformat(timespec='minutes'))
    while True:
        if not wait_until_serving(settings, stopping=stopping):
            return 0
        screen.start()
        shown_since_start = False
        next_check = time.monotonic() + check_seconds
        while (status := screen.exit_status()) is None:
            if stopping.wait(min(0.2, check_seconds)):
                log.info('stopping: passing it on to Chromium')
                screen.stop()
                return 0
            if time.monotonic() < next_check:
                continue
            next_check = time.monotonic() + check_seconds
            health = read_health(settings)
            if health is None:  # the server is away: the page's own fallback waits for it, Chromium stays
                continue
            hidden = 'screen_hidden' in (health.get('warnings') or [])
            shown_since_start = shown_since_start or not hidden
            if hidden and (shown_since_start or time.monotonic() - screen.started_at >= HIDDEN_REARM_SECONDS):
                log.warning('the kiosk page is hidden (screen_hidden): restarting Chromium')
                break
            if now() >= nightly and not health.get('visit_active', False):
                log.info('nightly restart of Chromium (its renderer grows with every page load)')
                nightly = next_nightly_restart(settings, now())
                break
        if status is not None:
            log.error('Chromium exited by itself (status %d): ending, so that systemd starts the screen again',
                      status)
            return status or 1
        screen.stop()


def backoff_seconds(quick_failures: int) -> float:
    """0 after a good run; then 2 s, 4 s, 8 s ... doubling up to a minute (systemd adds its RestartSec=2)."""
    return 0.0 if quick_failures <= 0 else min(BACKOFF_CAP_SECONDS, 2.0 ** quick_failures)


def pace_restarts(state_path: Path, *, clock: Callable[[], float] = time.time,
                  sleep: Callable[[float], None] = time.sleep) -> float:
    """Wait out the back-off before this start, and note when it began. A start that comes soon after the
    last one means the screen failed quickly, whatever failed (cage, Chromium, the launcher)."""
    try:
        state = json.loads(state_path.read_text())
        failures, last_start = int(state['quick_failures']), float(state['started_at'])
    except (OSError, ValueError, KeyError, TypeError):
        failures, last_start = 0, None
    quick = last_start is not None and clock() - last_start < QUICK_RUN_SECONDS
    failures = failures + 1 if quick else 0
    delay = backoff_seconds(failures)
    if delay:
        log.warning('the screen failed quickly %d time(s) in a row: waiting %.0f s before starting it again',
                    failures, delay)
        sleep(delay)
    _replace(state_path, json.dumps({'quick_failures': failures, 'started_at': clock()}))
    return delay


def write_screen_settings(settings: Settings, path: Path) -> None:
    """The settings the screen needs, as TOML for `kiosk browser --config`: the screen never reads /etc/kiosk."""
    values = {key: getattr(settings, key) for key in SCREEN_SETTINGS if getattr(settings, key) is not None}
    _replace(path, ''.join(f'{key} = {json.dumps(value)}\n' for key, value in values.items()))


def _replace(path: Path, text: str) -> None:
    """Root writes into a directory kiosk-screen owns: a new file (O_EXCL) renamed over the old name, so a
    symlink planted there is replaced, never followed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(prefix=f'.{path.name}.', dir=path.parent)
    try:
        with os.fdopen(descriptor, 'w') as file:
            os.fchmod(file.fileno(), 0o644)
            file.write(text)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def prepare(settings: Settings, run_dir: Path = RUN_DIR) -> int:
    write_screen_settings(settings, run_dir / 'screen.toml')
    pace_restarts(run_dir / 'restarts.json')
    return 0
