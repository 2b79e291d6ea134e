"""A sign-in flood against a real hub while one kiosk keeps sending: used by the tests and by `make bench`."""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx


@dataclass
class FloodOutcome:
    ingest_seconds: list[float] = field(default_factory=list)
    ingest_failures: list[str] = field(default_factory=list)
    sign_in_statuses: list[int] = field(default_factory=list)

    @property
    def ingest_p95(self) -> float:
        return statistics.quantiles(self.ingest_seconds, n=20)[-1]


def one_record(kiosk: str) -> dict:
    now = datetime.now(UTC).isoformat()
    return {'kiosk_id': kiosk, 'sent_at': now, 'signups': [{
        'id': str(uuid.uuid4()), 'created_at': now, 'program': 'pal', 'name': 'Rosa Díaz', 'participant_name': 'Ana',
        'phone': '+13145550134', 'email': '', 'contact_method': 'phone', 'age': 9, 'note': '', 'language': 'es',
        'consent': True, 'kiosk_id': kiosk}]}


async def flood(hub_url: str, kiosk: str, token: str, *, streams: int, seconds: float = 12.0,
                every: float = 0.5) -> FloodOutcome:
    """`streams` clients post bogus sign-ins back to back for `seconds`; meanwhile the kiosk posts one record
    every `every` seconds (its own connection, as a kiosk has). `streams=0` is the quiet baseline."""
    outcome = FloodOutcome()
    stop = time.monotonic() + seconds

    async def bogus_sign_ins(client: httpx.AsyncClient) -> None:
        while time.monotonic() < stop:
            try:
                answer = await client.post(hub_url + '/login', data={
                    'email': f'{secrets.token_hex(4)}@example.org', 'password': secrets.token_hex(8)})
                outcome.sign_in_statuses.append(answer.status_code)
            except httpx.HTTPError as error:
                outcome.sign_in_statuses.append(599)
                print(f'sign-in: {error!r}')

    async def kiosk_batches() -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            while time.monotonic() < stop:
                started = time.monotonic()
                try:
                    answer = await client.post(hub_url + '/api/v1/signups', json=one_record(kiosk), headers={
                        'Authorization': f'Bearer {token}', 'Idempotency-Key': uuid.uuid4().hex})
                    if answer.status_code != 200:
                        outcome.ingest_failures.append(f'{answer.status_code} {answer.text[:200]}')
                except httpx.HTTPError as error:
                    outcome.ingest_failures.append(repr(error))
                outcome.ingest_seconds.append(time.monotonic() - started)
                await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))

    limits = httpx.Limits(max_connections=max(1, streams))
    async with httpx.AsyncClient(timeout=60, limits=limits) as attacker:
        await asyncio.gather(kiosk_batches(), *(bogus_sign_ins(attacker) for _ in range(streams)))
    return outcome
