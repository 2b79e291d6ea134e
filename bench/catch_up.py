"""Catch-up sync: 10,000 sign-ups queued through a long outage, sent to a receiver on loopback.

Reports records per second and the number of requests; goals: at least 2,000 records/s, and exactly one
request per batch of 100 when the receiver is healthy. No baseline process is needed for the request
count; the rate's baseline is the same receiver taking the same batches from a bare httpx loop.
"""

from __future__ import annotations

import asyncio
import json
import math
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from kiosk.config import Settings
from kiosk.signups import payload
from kiosk.storage.atomic import private_dir, write_atomically
from kiosk.storage.store import SignupStore
from kiosk.sync import Syncer
from tests.support.fleet import queued
from tests.support.sync_receiver import Receiver

QUEUED = 10_000
BATCH = 100
GOAL_RECORDS_PER_SECOND = 2000


def run() -> list[dict]:
    receiver = Receiver()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            data_dir = private_dir(Path(scratch) / 'kiosk')
            now = datetime.now(UTC)
            step = timedelta(days=30) / QUEUED  # a month-long outage: the live file and its archives
            records = {str(n + 1): queued('bench', now - timedelta(days=30) + step * n) for n in range(QUEUED)}
            write_atomically(data_dir / 'signups.json', json.dumps({'signups': records}).encode())
            store = SignupStore(data_dir)
            store.open()
            settings = Settings(data_dir=data_dir, kiosk_id='bench', sync_url=receiver.url,
                                sync_token=receiver.token, sync_batch_size=BATCH)
            started = time.perf_counter()
            report = asyncio.run(Syncer(settings, store).sync_pass(force=True))
            seconds = time.perf_counter() - started
            requests = len(receiver.requests)
            bodies = [[payload(record) for record in list(records.values())[start:start + BATCH]]
                      for start in range(0, QUEUED, BATCH)]
        bare_seconds = asyncio.run(_bare(receiver, bodies))
    finally:
        receiver.stop()
    rate, bare_rate = report.accepted / seconds, QUEUED / bare_seconds
    batches = math.ceil(QUEUED / BATCH)
    print(f'catch-up: {report.accepted:,} sign-ups in {seconds:.1f} s = {rate:,.0f} records/s in {requests} requests '
          f'({batches} batches); the same batches from a bare httpx loop: {bare_rate:,.0f} records/s')
    return [{'name': 'catch-up sync of 10,000', 'figure': round(rate), 'unit': 'records/s',
             'baseline': round(bare_rate), 'baseline_name': 'bare httpx loop, same receiver',
             'ratio': round(rate / bare_rate, 2), 'goal': f'>= {GOAL_RECORDS_PER_SECOND:,} records/s',
             'met': rate >= GOAL_RECORDS_PER_SECOND and report.accepted == QUEUED},
            {'name': 'catch-up requests', 'figure': requests, 'unit': 'requests', 'goal': f'== {batches}',
             'met': requests == batches}]


async def _bare(receiver: Receiver, bodies: list[list[dict]]) -> float:
    async with httpx.AsyncClient() as client:
        started = time.perf_counter()
        for body in bodies:
            await client.post(receiver.url, json={'kiosk_id': 'bench', 'sent_at': datetime.now(UTC).isoformat(),
                                                  'signups': [{**record, 'id': str(uuid.uuid4())}
                                                              for record in body]},
                              headers={'Authorization': f'Bearer {receiver.token}'})
        return time.perf_counter() - started
