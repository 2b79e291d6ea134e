"""Is a kiosk page on the screen? The server's view of its browser pages, for /healthz and the heartbeat.

The server cannot see the panel, but it sees the pages connected to it, which screen each shows and,
as each page reports, whether the browser shows it or keeps it in a background tab:
- `screen_missing`: no page has been connected for `screen_missing_seconds` (since start-up, or since
  the last one left). The browser never started, or its compositor has no display.
- `screen_hidden`: a connected page has been hidden for HIDDEN_AFTER_SECONDS and none is visible. A long
  press opened a new tab over it, say, and the idle reset now runs where nobody sees it.
- `visit_active`: a page is away from `/` (the attract or night screen), so someone is using the kiosk.
  The browser launcher restarts Chromium only when this is false.
Pages are known by an opaque id; nothing about who uses them is kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

HIDDEN_AFTER_SECONDS = 5.0  # longer than a page takes to come back to the front; shorter than anyone waits
RESTING_PATH = '/'


@dataclass
class _Page:
    path: str
    connected: bool = False
    hidden_since: float | None = None


class ScreenWatch:
    def __init__(self, missing_after_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.missing_after_seconds = missing_after_seconds
        self.clock = clock
        self._pages: dict[str, _Page] = {}
        self._last_seen = clock()  # start-up counts as seen: the browser gets the whole period to arrive
        self._lock = threading.Lock()  # the report is built off the event loop, in a worker thread

    def connected(self, page: str, path: str) -> None:
        """A page's socket is up (a first connection or a reconnection); it is visible until it says otherwise."""
        with self._lock:
            self._pages[page] = _Page(path=path, connected=True)

    def disconnected(self, page: str) -> None:
        with self._lock:
            if shown := self._pages.get(page):
                shown.connected = False
                self._last_seen = self.clock()

    def closed(self, page: str) -> None:
        """The server has let the page go (it did not reconnect in time)."""
        with self._lock:
            if self._pages.pop(page, None):
                self._last_seen = self.clock()

    def moved(self, page: str, path: str) -> None:
        with self._lock:
            if shown := self._pages.get(page):
                shown.path = path

    def visibility(self, page: str, hidden: bool) -> None:
        with self._lock:
            if shown := self._pages.get(page):
                if not hidden:
                    shown.hidden_since = None
                elif shown.hidden_since is None:
                    shown.hidden_since = self.clock()

    def warnings(self) -> list[str]:
        with self._lock:
            now = self.clock()
            connected = [shown for shown in self._pages.values() if shown.connected]
            if not connected:
                return ['screen_missing'] if now - self._last_seen >= self.missing_after_seconds else []
            if all(shown.hidden_since is not None for shown in connected) and \
                    any(now - shown.hidden_since >= HIDDEN_AFTER_SECONDS for shown in connected):
                return ['screen_hidden']
            return []

    def visit_active(self) -> bool:
        """Pages that lost their socket for a moment still count: a visit may be on them when they reconnect."""
        with self._lock:
            return any(shown.path != RESTING_PATH for shown in self._pages.values())
