"""Every test gets its own data directory and no KIOSK_* settings leaking in from the shell; real kiosk
processes and a sync receiver for the tests that need one (the machinery is in tests/support/)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.postgres import migrated_template, postgres  # noqa: F401 (fixtures: one migrated database a run)
from tests.support.processes import KioskProcess, kiosk_processes
from tests.support.sync_receiver import Receiver
from tests.support.tools import mounted, require_tool

# These steer the test run itself, not the kiosk.
TEST_CONTROLS = {'KIOSK_REQUIRE_ALL', 'KIOSK_REQUIRE_BROWSER', 'KIOSK_REQUIRE_POSTGRES', 'KIOSK_TEST_POSTGRES',
                 'KIOSK_UPDATE_SCREENSHOTS'}


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


@pytest.fixture(autouse=True)
def nicegui_stopped() -> Iterator[None]:
    """NiceGUI's user simulation stops the app only when its block ends without an error (its lifespan has no
    `finally`), so one failing screen test would leave NiceGUI started and fail every later one with "NiceGUI has
    already been started". After a test the app is stopped again: one failure reads as one."""
    yield
    from nicegui import core
    if core.app is not None and not core.app.is_stopped:
        asyncio.run(core.app.stop())  # its handlers were reset with the simulation; this sets the state


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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real sync endpoint on loopback, stopped when the test ends."""
    running = Receiver()
    yield running
    running.stop()
