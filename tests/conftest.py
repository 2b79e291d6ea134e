"""Every test gets its own data directory and no KIOSK_* settings leaking in from the shell; real kiosk
processes for the tests that need one."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

# These steer the test run itself, not the kiosk.
TEST_CONTROLS = {'KIOSK_REQUIRE_ALL', 'KIOSK_REQUIRE_BROWSER', 'KIOSK_REQUIRE_POSTGRES', 'KIOSK_TEST_POSTGRES',
                 'KIOSK_UPDATE_SCREENSHOTS'}


def unavailable(reason: str, control: str = 'KIOSK_REQUIRE_ALL') -> NoReturn:
    """Skip with the reason locally; fail where the run must not skip: KIOSK_REQUIRE_ALL=1 (CI), or `control`."""
    if required := [name for name in ('KIOSK_REQUIRE_ALL', control) if os.environ.get(name)]:
        pytest.fail(f'{reason}, and {required[0]} is set: this run must not skip it')
    pytest.skip(reason)


def require_tool(tool: str, package: str | None = None, control: str = 'KIOSK_REQUIRE_ALL') -> str:
    """The optional system tool's path (a name on PATH, or an absolute path), or `unavailable`."""
    return shutil.which(tool) or unavailable(f'{tool} is not installed (apt-get install {package or tool})', control)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """`@pytest.mark.needs_tool('espeak-ng')` is checked before any fixture starts a browser or a server."""
    for mark in item.iter_markers('needs_tool'):
        require_tool(*mark.args, **mark.kwargs)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith('KIOSK_') and key not in TEST_CONTROLS:
            monkeypatch.delenv(key)
    monkeypatch.setenv('KIOSK_DATA_DIR', str(tmp_path / 'var'))
    monkeypatch.setenv('KIOSK_KIOSK_ID', 'test-kiosk')
    # An empty folder on this disk, not a mounted stick: the default /media/kiosk-export is the real box's.
    (tmp_path / 'kiosk-export').mkdir()
    monkeypatch.setenv('KIOSK_EXPORT_DIR', str(tmp_path / 'kiosk-export'))
    return tmp_path / 'var'


@contextmanager
def mounted(mount_point: Path, *mount_args: str) -> Iterator[Path]:
    """A real mount (as root) for as long as the block runs; skips without root, fails in CI."""
    mount_point.mkdir(exist_ok=True)
    result = subprocess.run(['mount', *mount_args, str(mount_point)], capture_output=True, text=True)
    if result.returncode != 0:
        unavailable(f'mounting needs root: {result.stderr.strip()}')
    try:
        yield mount_point
    finally:
        subprocess.run(['umount', '-l', str(mount_point)], check=False)


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 256 KiB tmpfs: full and read-only are the file system's own answers, not mocks."""
    with mounted(tmp_path / 'tiny', '-t', 'tmpfs', '-o', 'size=256k', 'tmpfs') as mount_point:
        yield mount_point


@pytest.fixture
def usb_stick(tmp_path) -> Iterator[Path]:
    """A file system of its own mounted where the console exports, as a USB stick would be (a real tmpfs)."""
    with mounted(tmp_path / 'usb', '-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs') as mount_point:
        yield mount_point


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@dataclass
class KioskProcess:
    """A real kiosk server on loopback; restartable on the same port and data directory."""

    data_dir: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    @property
    def log_path(self) -> Path:
        """The kiosk's log, beside its data: a pipe nobody reads would fill up and freeze the kiosk."""
        return self.data_dir.with_name('kiosk.log')

    def start(self) -> KioskProcess:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open('ab') as log:
            self.process = subprocess.Popen(
                [sys.executable, '-m', 'kiosk', 'run', '--port', str(self.port), '--data-dir', str(self.data_dir)],
                env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f'kiosk exited: {self.log_path.read_text()[-2000:]}')
            try:
                if httpx.get(self.url + '/', timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError('kiosk did not start within 30 s')

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=15)


def faked_clock(local_time: str) -> dict[str, str]:
    """libfaketime sets the kiosk's wall clock going from `local_time` (St. Louis, "YYYY-MM-DD HH:MM:SS").

    It patches the real process from outside, so the kiosk's own code runs as it would at that hour.
    """
    libraries = sorted(Path('/usr/lib').glob('*/faketime/libfaketime.so.1'))
    if not libraries:
        unavailable('libfaketime is not installed (apt-get install faketime)', 'KIOSK_REQUIRE_BROWSER')
    return {'LD_PRELOAD': str(libraries[0]), 'FAKETIME': f'@{local_time}', 'TZ': 'America/Chicago',
            'FAKETIME_DONT_FAKE_MONOTONIC': '1'}


@contextmanager
def kiosk_processes(tmp_path_factory) -> Iterator[Callable[..., KioskProcess]]:
    """Starts real `kiosk run` processes on free ports; every one is stopped when the block ends."""
    started: list[KioskProcess] = []

    def make(data_dir: Path | None = None, start: bool = True, clock: str | None = None,
             **settings: str) -> KioskProcess:
        env = {key: value for key, value in os.environ.items() if not key.startswith(('KIOSK_', 'PYTEST_'))}
        env.update({'KIOSK_KIOSK_ID': 'e2e-kiosk', **{f'KIOSK_{k.upper()}': v for k, v in settings.items()}})
        if clock:
            env.update(faked_clock(clock))
        kiosk = KioskProcess(data_dir or tmp_path_factory.mktemp('kiosk-data') / 'var', free_port(), env)
        started.append(kiosk)
        return kiosk.start() if start else kiosk

    try:
        yield make
    finally:
        for kiosk in started:
            kiosk.kill(signal.SIGTERM)


@pytest.fixture
def kiosk_factory(tmp_path_factory) -> Iterator[Callable[..., KioskProcess]]:
    """Kiosks for one test, stopped when it ends: a run never piles up servers still syncing in the background."""
    with kiosk_processes(tmp_path_factory) as make:
        yield make


@pytest.fixture(scope='session')
def shared_kiosk_factory(tmp_path_factory) -> Iterator[Callable[..., KioskProcess]]:
    """Kiosks that many tests share (the screen walks), kept for the whole run."""
    with kiosk_processes(tmp_path_factory) as make:
        yield make


@pytest.fixture(scope='session')
def kiosk_server(shared_kiosk_factory) -> KioskProcess:
    """With a printer (that prints into /dev/null), so every screen walk checks the print button too."""
    return shared_kiosk_factory(printer='file:/dev/null')
