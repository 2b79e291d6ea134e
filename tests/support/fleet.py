"""A fleet of simulated kiosks (the kiosk's own Syncer and store, one data directory each) syncing to one real hub,
while the hub is killed and PostgreSQL restarts. Used small by the tests and large by `make bench`."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from kiosk.config import Settings
from kiosk.hub.auth import new_token, token_digest
from kiosk.storage.atomic import private_dir, write_atomically
from kiosk.storage.store import SignupStore
from kiosk.sync import Syncer


def queued(kiosk: str, created: datetime) -> dict:
    return {'id': str(uuid.uuid4()), 'created_at': created.isoformat(timespec='seconds'), 'program': 'pal',
            'name': 'Maria Gonzalez', 'participant_name': 'Ana', 'phone': '+13144445371',
            'email': 'maria@example.com', 'contact_method': 'phone', 'age': 12, 'note': 'After 5 p.m. please',
            'language': 'es', 'consent': True, 'kiosk_id': kiosk, 'status': 'queued', 'attempts': 0,
            'last_error': None, 'synced_at': None, 'pulled_at': None}


def seed_kiosks(database: str, folder: Path, count: int, per_kiosk: int, hub_url: str,
                batch_size: int = 100) -> list[Syncer]:
    """`count` kiosks, each with its own credential and `per_kiosk` queued sign-ups written straight to disk."""
    syncers = []
    now = datetime.now(UTC)
    with psycopg.connect(database) as conn:
        for number in range(count):
            name = f'fleet-{uuid.uuid4().hex[:6]}-{number}'
            token = new_token()
            conn.execute('INSERT INTO kiosks (name) VALUES (%s)', (name,))
            conn.execute('INSERT INTO kiosk_tokens (token_sha256, kiosk) VALUES (%s, %s)', (token_digest(token), name))
            data_dir = private_dir(folder / name)
            records = {str(n + 1): queued(name, now - timedelta(minutes=per_kiosk - n)) for n in range(per_kiosk)}
            write_atomically(data_dir / 'signups.json', json.dumps({'signups': records}).encode())
            store = SignupStore(data_dir)
            store.open()
            settings = Settings(data_dir=data_dir, kiosk_id=name, sync_url=hub_url, sync_token=token,
                                sync_interval_seconds=0.2, sync_backoff_cap_seconds=2, sync_timeout_seconds=20,
                                sync_batch_size=batch_size)
            syncers.append(Syncer(settings, store))
    return syncers


async def drain(syncer: Syncer) -> None:
    """Sync passes, as the kiosk's scheduler runs them, until this kiosk has nothing left to send."""
    while True:
        report = await syncer.sync_pass()
        if report.skipped is None and report.error is None and report.queued == 0:
            return
        await asyncio.sleep(0.2)


def synced_share(syncers: list[Syncer]) -> float:
    counts = [syncer.store.counts() for syncer in syncers]
    total = sum(sum(count.values()) for count in counts)
    return sum(count['synced'] for count in counts) / total if total else 1.0


def postgres_cluster() -> tuple[str, str] | None:
    """The local Debian cluster (version, name) that a test may restart, when there is one and we are root."""
    if not shutil.which('pg_lsclusters') or os.geteuid() != 0:
        return None
    lines = subprocess.run(['pg_lsclusters', '--no-header'], capture_output=True, text=True).stdout.split('\n')
    online = [line.split() for line in lines if 'online' in line.split()]
    return (online[0][0], online[0][1]) if online else None


def restart_postgres(cluster: tuple[str, str]) -> None:
    subprocess.run(['pg_ctlcluster', cluster[0], cluster[1], 'restart', '-m', 'fast'], check=True, timeout=120)


async def sync_fleet(syncers: list[Syncer], disruptions: list[tuple[float, Callable[[], None]]],
                     timeout: float = 600) -> dict[str, float]:
    """Drain every kiosk at once; each disruption runs (off the loop) once that share of sign-ups is synced."""
    started = time.monotonic()
    kiosks = asyncio.gather(*(drain(syncer) for syncer in syncers))
    done: list[float] = []
    for share, disrupt in disruptions:
        while synced_share(syncers) < share and not kiosks.done():
            await asyncio.sleep(0.05)
        await asyncio.to_thread(disrupt)
        done.append(time.monotonic() - started)
    await asyncio.wait_for(kiosks, timeout)
    return {'seconds': time.monotonic() - started, 'disruptions': len(done)}


def kill_and_restart(hub) -> Callable[[], None]:
    def disrupt() -> None:
        hub.kill(signal.SIGKILL)
        time.sleep(0.5)
        hub.start()
    return disrupt

