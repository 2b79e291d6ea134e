"""An append-only record of what staff did: time, action and a count, never a name or a number."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

AUDIT_FILE = 'audit.log'
ACTIONS = ('unlock', 'pin_failed', 'lockout', 'lock', 'export_download', 'export_usb', 'mark_pulled', 'sync_now',
           'retry_rejected')


class AuditLog:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / AUDIT_FILE

    def record(self, action: str, count: int | None = None) -> None:
        """One JSON line, appended and fsync'd; the file is only ever appended to."""
        if action not in ACTIONS:
            raise ValueError(f'unknown audit action {action!r}')
        line = json.dumps({'time': datetime.now(UTC).isoformat(timespec='seconds'), 'action': action,
                           'count': count}) + '\n'
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line.encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def last(self, count: int = 50) -> list[dict]:
        """The newest entries first; a torn last line (power cut mid-append) is skipped."""
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for line in reversed(lines):
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
            if len(entries) == count:
                break
        return entries
