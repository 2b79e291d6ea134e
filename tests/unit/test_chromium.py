"""The screen's launcher: Chromium only once the server answers, always with an empty profile."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest

from kiosk.appliance.chromium import chromium_command, fresh_profile, next_nightly_restart, wait_until_serving
from kiosk.config import load_settings
from tests.support.ports import free_port


class _Healthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # the name http.server calls
        self.send_response(200 if self.path == '/healthz' else 404)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_the_launcher_waits_for_a_server_that_comes_up_late():
    port = free_port()
    settings = load_settings(port=port)
    servers = []

    def come_up_later() -> None:
        time.sleep(1.0)
        servers.append(ThreadingHTTPServer(('127.0.0.1', port), _Healthy))
        servers[0].serve_forever()

    threading.Thread(target=come_up_later, daemon=True).start()
    started = time.monotonic()
    try:
        assert wait_until_serving(settings, poll_seconds=0.1, timeout=20)
        assert time.monotonic() - started >= 1.0
    finally:
        servers[0].shutdown()


def test_the_launcher_keeps_waiting_while_nothing_answers():
    assert not wait_until_serving(load_settings(port=free_port()), poll_seconds=0.1, timeout=0.5)


def test_every_start_gets_an_empty_private_profile(tmp_path):
    profile = tmp_path / 'run' / 'profile'
    fresh_profile(profile)
    (profile / 'Default').mkdir()
    (profile / 'Default' / 'History').write_text('what the last visitor did')
    fresh_profile(profile)
    assert list(profile.iterdir()) == [] and profile.stat().st_mode & 0o777 == 0o700


def test_chromium_opens_the_kiosk_on_loopback_with_the_throwaway_profile(tmp_path):
    command = chromium_command(load_settings(host='0.0.0.0', port=8085), tmp_path / 'p', '/usr/bin/chromium')
    assert command[0] == '/usr/bin/chromium' and '--kiosk' in command
    assert f'--user-data-dir={tmp_path / "p"}' in command
    assert command[-1] == 'http://127.0.0.1:8085/'


def test_under_cage_chromium_is_a_native_wayland_client(tmp_path):
    settings = load_settings(port=8085)
    under_cage = chromium_command(settings, tmp_path / 'p', environ={'WAYLAND_DISPLAY': 'wayland-0'})
    assert '--ozone-platform=wayland' in under_cage and '--ozone-platform-hint=auto' not in under_cage
    elsewhere = chromium_command(settings, tmp_path / 'p', environ={'DISPLAY': ':0'})
    assert '--ozone-platform-hint=auto' in elsewhere and '--ozone-platform=wayland' not in elsewhere


@pytest.mark.parametrize(('sleep', 'after', 'due'), [
    ('22:00-06:00', '2026-11-27 21:59', '2026-11-27 22:00'),
    ('22:00-06:00', '2026-11-27 22:00', '2026-11-28 22:00'),
    ('22:00-06:00', '2026-11-28 01:00', '2026-11-28 22:00'),
    (None, '2026-11-27 12:00', '2026-11-28 03:00'),
    (None, '2026-11-28 02:59', '2026-11-28 03:00'),
    (None, '2027-03-14 01:30', '2027-03-14 03:00'),  # the night the clocks go forward: 02:00 does not exist
])
def test_the_nightly_restart_is_at_the_start_of_the_sleep_window_or_at_three(sleep, after, due):
    settings = load_settings(sleep=sleep)
    zone = ZoneInfo(settings.timezone)
    moment = datetime.strptime(after, '%Y-%m-%d %H:%M').replace(tzinfo=zone)
    assert next_nightly_restart(settings, moment) == datetime.strptime(due, '%Y-%m-%d %H:%M').replace(tzinfo=zone)
