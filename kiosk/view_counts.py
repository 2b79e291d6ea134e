"""Anonymous screen-view counters, per day and program: how much interest each program draws.

A count never links to a person, and a program can opt out with `count_views = false` (HMCA does).
"""

from __future__ import annotations

import json
import threading
from datetime import date
from pathlib import Path

from kiosk.storage.atomic import write_atomically

VIEWS_FILE = 'views.json'


class ViewCounter:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / VIEWS_FILE
        self._lock = threading.Lock()

    def count(self, program: str, day: date) -> None:
        with self._lock:
            counts = self.load()
            per_day = counts.setdefault(day.isoformat(), {})
            per_day[program] = per_day.get(program, 0) + 1
            write_atomically(self.path, json.dumps(counts, sort_keys=True).encode())

    def load(self) -> dict[str, dict[str, int]]:
        """{'2026-11-26': {'pal': 3, ...}, ...}; a damaged file just starts the counts again."""
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
