"""One visitor's session at the screen: language, text size and when they last touched it.

A new Visit is made on every full page load, so the idle reset (a full load of `/`) leaves nothing behind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from kiosk.config import Language

TEXT_SCALES = (1.0, 1.25, 1.5)


@dataclass
class Visit:
    language: Language
    text_scale: float = TEXT_SCALES[0]
    last_touch: float = field(default_factory=time.monotonic)
    staff_unlocked: bool = False
    viewed: set[str] = field(default_factory=set)  # programs already counted in this visit's view counts
    counts_views: bool = True  # False for the server's own page loads after a switch (kiosk/confirm.py)

    def touch(self) -> None:
        self.last_touch = time.monotonic()

    def idle_phase(self, idle_seconds: float, countdown_seconds: float, now: float | None = None) -> tuple[str, int]:
        """('active', 0), ('asking', seconds left on the countdown) or ('expired', 0)."""
        idle = (time.monotonic() if now is None else now) - self.last_touch
        if idle < idle_seconds:
            return 'active', 0
        left = idle_seconds + countdown_seconds - idle
        return ('asking', int(left + 0.999)) if left > 0 else ('expired', 0)
