"""Save latency of the sign-up store with 0 to 50,000 records stored, next to SQLite on the same disk.

A third column is the physical floor: a bare write + fsync of as many bytes as the live file holds.
Each size gets a fresh store seeded as a kiosk would have it after years of use (records spread over
four years, rotated into monthly archives by `SignupStore.open`), then times `SignupStore.add`, the
call the visitor waits for. The baseline is SQLite in WAL mode with synchronous=FULL on the same disk
in the same run, so the ratio means something on a noisy machine. Goal: p95 <= 50 ms at 50,000.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.storage.atomic import write_atomically
from kiosk.storage.store import SignupStore

SIZES = (0, 1_000, 10_000, 50_000)
SAVES = 200
GOAL_P95_MS = 50.0


def record(created: datetime) -> dict:
    return {'id': str(uuid.uuid4()), 'created_at': created.isoformat(timespec='seconds'), 'program': 'pal',
            'name': 'Maria Gonzalez', 'participant_name': 'Ana', 'phone': '+13144445371',
            'email': 'maria@example.com', 'contact_method': 'phone', 'age': 12, 'note': 'After 5 p.m. please',
            'language': 'es', 'consent': True, 'kiosk_id': 'bench', 'status': 'queued', 'attempts': 0,
            'last_error': None, 'synced_at': None, 'pulled_at': None}


def seeded_store(folder: Path, stored: int) -> SignupStore:
    now = datetime.now(UTC)
    step = timedelta(days=4 * 365) / max(stored, 1)
    records = {str(i + 1): record(now - timedelta(days=4 * 365) + step * i) for i in range(stored)}
    folder.mkdir(mode=0o700)
    write_atomically(folder / 'signups.json', json.dumps({'signups': records}).encode())
    store = SignupStore(folder)
    store.open()
    return store


def time_store(folder: Path, stored: int) -> list[float]:
    store = seeded_store(folder, stored)
    timings = []
    for _ in range(SAVES):
        started = time.perf_counter()
        store.add(record(datetime.now(UTC)))
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def time_sqlite(folder: Path, stored: int) -> list[float]:
    db = sqlite3.connect(folder / 'baseline.sqlite', isolation_level=None)
    db.execute('PRAGMA journal_mode=WAL')
    db.execute('PRAGMA synchronous=FULL')
    db.execute('CREATE TABLE signups (id TEXT PRIMARY KEY, body TEXT NOT NULL)')
    now = datetime.now(UTC)
    db.execute('BEGIN')
    db.executemany('INSERT INTO signups VALUES (?, ?)',
                   ((r['id'], json.dumps(r)) for r in (record(now) for _ in range(stored))))
    db.execute('COMMIT')
    timings = []
    for _ in range(SAVES):
        row = record(datetime.now(UTC))
        started = time.perf_counter()
        db.execute('INSERT INTO signups VALUES (?, ?)', (row['id'], json.dumps(row)))
        timings.append((time.perf_counter() - started) * 1000)
    db.close()
    return timings


def time_floor(folder: Path, size: int) -> list[float]:
    """The physical floor on this disk: write the same number of bytes and fsync, nothing else."""
    path = folder / 'floor.bin'
    content = b'x' * size
    timings = []
    for _ in range(SAVES):
        started = time.perf_counter()
        with path.open('wb') as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def p95(timings: list[float]) -> float:
    return statistics.quantiles(timings, n=20)[-1]


def run() -> list[dict]:
    print(f'save latency, {SAVES} saves per size; baseline: SQLite WAL synchronous=FULL, same disk, same run')
    print(f'{"stored":>8} {"store p50":>10} {"store p95":>10} {"sqlite p50":>11} {"sqlite p95":>11} {"p95 ratio":>10}'
          f' {"fsync floor p95":>16}')
    worst = 0.0
    results = []
    for stored in SIZES:
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
            ours = time_store(Path(scratch) / 'store', stored)
            baseline = time_sqlite(Path(scratch), stored)
            floor = time_floor(Path(scratch), (Path(scratch) / 'store' / 'signups.json').stat().st_size)
        worst = max(worst, p95(ours))
        results.append({'name': f'save p95 at {stored:,} stored', 'figure': round(p95(ours), 2), 'unit': 'ms',
                        'baseline': round(p95(baseline), 2), 'baseline_name': 'SQLite WAL synchronous=FULL',
                        'ratio': round(p95(ours) / p95(baseline), 1), 'floor': round(p95(floor), 2),
                        'floor_name': 'write + fsync of the same bytes', 'goal': f'<= {GOAL_P95_MS:.0f} ms',
                        'met': p95(ours) <= GOAL_P95_MS})
        print(f'{stored:>8,} {statistics.median(ours):>8.2f}ms {p95(ours):>8.2f}ms',
              f'{statistics.median(baseline):>9.2f}ms {p95(baseline):>9.2f}ms {p95(ours) / p95(baseline):>9.1f}x',
              f'{p95(floor):>14.2f}ms')
    verdict = 'meets' if worst <= GOAL_P95_MS else 'MISSES'
    print(f'worst store p95 {worst:.2f} ms {verdict} the goal of {GOAL_P95_MS:.0f} ms')
    return results
