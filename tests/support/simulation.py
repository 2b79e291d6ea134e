"""Waiting, in NiceGUI's user simulation, for what a hub screen draws (or downloads) after its queries.

A hub screen's frame holds a `ui.timer`, which waits for the connection, so NiceGUI serves the page as soon as the
page function first awaits: `user.open()` returns with the frame alone, and the rows come over the socket when the
queries return. `should_see`'s default (three looks in 0.3 s) is shorter than that on a loaded machine.
"""

from __future__ import annotations

from typing import Any

from nicegui.testing import User

DRAWN_SECONDS = 10
DOWNLOAD_SECONDS = 10


async def drawn(user: User, *args: Any, **kwargs: Any) -> None:
    """`user.should_see(...)` that waits up to DRAWN_SECONDS: for the first thing a screen draws after a query, before
    reading rows, values or links next to it, or asserting what is absent."""
    await user.should_see(*args, retries=int(DRAWN_SECONDS / 0.1), **kwargs)


async def downloaded(user: User, seconds: float = DOWNLOAD_SECONDS) -> bytes:
    """The next download's bytes, waiting up to DOWNLOAD_SECONDS (NiceGUI's default of 1 s is less than a query, an
    audit and a workbook take on a loaded machine)."""
    return (await user.download.next(timeout=seconds)).content
