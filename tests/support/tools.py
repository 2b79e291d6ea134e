"""What some tests need from the machine (a system tool, root, libfaketime): skip with the reason locally,
fail where the run must not skip (KIOSK_REQUIRE_ALL=1 in CI, or the named control)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest


def unavailable(reason: str, control: str = 'KIOSK_REQUIRE_ALL') -> NoReturn:
    """Skip with the reason locally; fail where the run must not skip: KIOSK_REQUIRE_ALL=1 (CI), or `control`."""
    if required := [name for name in ('KIOSK_REQUIRE_ALL', control) if os.environ.get(name)]:
        pytest.fail(f'{reason}, and {required[0]} is set: this run must not skip it')
    pytest.skip(reason)


def require_tool(tool: str, package: str | None = None, control: str = 'KIOSK_REQUIRE_ALL') -> str:
    """The optional system tool's path (a name on PATH, or an absolute path), or `unavailable`."""
    return shutil.which(tool) or unavailable(f'{tool} is not installed (apt-get install {package or tool})', control)


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


def faked_clock(local_time: str) -> dict[str, str]:
    """libfaketime sets the kiosk's wall clock going from `local_time` (St. Louis, "YYYY-MM-DD HH:MM:SS").

    It patches the real process from outside, so the kiosk's own code runs as it would at that hour.
    """
    libraries = sorted(Path('/usr/lib').glob('*/faketime/libfaketime.so.1'))
    if not libraries:
        unavailable('libfaketime is not installed (apt-get install faketime)', 'KIOSK_REQUIRE_BROWSER')
    return {'LD_PRELOAD': str(libraries[0]), 'FAKETIME': f'@{local_time}', 'TZ': 'America/Chicago',
            'FAKETIME_DONT_FAKE_MONOTONIC': '1'}
