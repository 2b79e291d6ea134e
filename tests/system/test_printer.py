"""The receipt printer for real: a device file that takes the bytes, one that is missing, and one that hangs."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time

import pytest

from kiosk.config import load_settings
from kiosk.content import load_catalog
from kiosk.slip import SlipPrinter, compose

QR_STORE = b'\x1d(k'


@pytest.fixture
def slip():
    return compose(load_catalog(load_settings().content).by_slug['hmca'], 'en', None, 'Lobby')


async def test_a_slip_reaches_the_device_and_the_printer_reads_ready(tmp_path, slip):
    device = tmp_path / 'lp0'
    device.touch()
    printer = SlipPrinter(f'file:{device}')
    assert printer.check() == 'ready'
    assert await printer.print(slip)
    assert printer.state == 'ready' and QR_STORE in device.read_bytes() and b'(314) 444-5371' in device.read_bytes()


async def test_a_missing_printer_answers_at_once_and_says_not_found(tmp_path, slip):
    printer = SlipPrinter(f'file:{tmp_path}/unplugged/lp0')
    started = time.monotonic()
    assert not await printer.print(slip)
    assert time.monotonic() - started < 2 and printer.state == 'not_found'
    assert printer.check() == 'not_found'


async def test_a_printer_that_never_answers_times_out_and_new_prints_stop_piling_up(tmp_path, slip):
    device = tmp_path / 'hung'
    os.mkfifo(device)  # opening it for writing blocks until someone reads: a printer that hangs
    printer = SlipPrinter(f'file:{device}', timeout=1)
    for _ in range(2):
        started = time.monotonic()
        assert not await printer.print(slip)
        assert 0.9 < time.monotonic() - started < 4
    started = time.monotonic()
    assert not await printer.print(slip)  # two already hang: the third answers at once, not after the timeout
    assert time.monotonic() - started < 0.5 and printer.state == 'not_responding'
    # A reader at last: the hung opens go through one after another and their threads end. Non-blocking,
    # because the two writers may pair with one reader, and a second blocking open would wait forever.
    reader = os.open(device, os.O_RDONLY | os.O_NONBLOCK)
    try:
        deadline = time.monotonic() + 10
        while any(thread.name == 'print slip' for thread in threading.enumerate()) and time.monotonic() < deadline:
            with contextlib.suppress(BlockingIOError):
                os.read(reader, 1 << 16)
            time.sleep(0.01)
    finally:
        os.close(reader)
    assert not any(thread.name == 'print slip' for thread in threading.enumerate())


def test_print_test_prints_on_the_configured_printer(tmp_path):
    device = tmp_path / 'lp0'
    device.touch()
    env = {**os.environ, 'KIOSK_PRINTER': f'file:{device}', 'KIOSK_DATA_DIR': str(tmp_path / 'var')}
    result = subprocess.run([sys.executable, '-m', 'kiosk', 'print-test'], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 0 and 'printed a test slip' in result.stdout
    assert b'\x1dV' in device.read_bytes()
    env['KIOSK_PRINTER'] = 'lp0'
    bad = subprocess.run([sys.executable, '-m', 'kiosk', 'print-test'], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and 'printer (KIOSK_PRINTER): not a printer' in bad.stderr
