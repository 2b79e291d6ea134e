"""Polling for what real processes do in their own time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar('T')


def eventually(check: Callable[[], T], seconds: float = 30, what: str = 'the condition') -> T:
    """`check()`'s first truthy answer within `seconds`; an AssertionError naming `what` if none comes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError(f'timed out waiting for {what} ({seconds} s)')
