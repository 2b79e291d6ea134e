"""The kiosk's screen: Chromium locked to the kiosk's own page, started only once the server answers.

`kiosk browser` runs inside cage (deploy/kiosk-browser.service). It waits for /healthz, wipes the
throwaway profile in /run (a tmpfs, so nothing typed survives a restart of the browser), then
replaces itself with Chromium. The managed policy (deploy/chromium-policy.json) does the rest.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import httpx

from kiosk.config import Settings

log = logging.getLogger('kiosk.browser')

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
    '--ozone-platform-hint=auto',  # Wayland under cage or labwc, X11 elsewhere
    '--check-for-update-interval=31536000',  # never nag about updates: apt updates Chromium
)
PROFILE_DIR = Path('/run/kiosk-browser/profile')


def chromium_command(settings: Settings, profile_dir: Path = PROFILE_DIR, executable: str = 'chromium') -> list[str]:
    return [executable, *CHROMIUM_FLAGS, f'--user-data-dir={profile_dir}', settings.local_url + '/']


def wait_until_serving(settings: Settings, *, poll_seconds: float = 1.0, timeout: float | None = None) -> bool:
    """Block until /healthz answers 200, so Chromium never starts on a server that is not up yet."""
    started = last_said = time.monotonic()
    while not _answers(settings.local_url + '/healthz'):
        now = time.monotonic()
        if timeout is not None and now - started >= timeout:
            return False
        if now - last_said >= 30:
            log.info('waiting for the kiosk server at %s', settings.local_url)
            last_said = now
        time.sleep(poll_seconds)
    return True


def fresh_profile(profile_dir: Path) -> None:
    """An empty profile every start: no history, cookies, form data or service worker from before."""
    shutil.rmtree(profile_dir, ignore_errors=True)
    profile_dir.mkdir(mode=0o700, parents=True)


def launch(settings: Settings, profile_dir: Path = PROFILE_DIR) -> None:
    wait_until_serving(settings)
    fresh_profile(profile_dir)
    executable = shutil.which('chromium') or shutil.which('chromium-browser') or 'chromium'
    command = chromium_command(settings, profile_dir, executable)
    log.info('starting %s', ' '.join(command))
    os.execv(executable, command)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False
