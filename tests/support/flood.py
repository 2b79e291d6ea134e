"""A sign-in flood against a real hub while one kiosk keeps sending: used by the tests and by `make bench`."""

from __future__ import annotations

import asyncio
import multiprocessing
import secrets
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection

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


FORM_TOKEN = secrets.token_urlsafe(32)


def bogus_sign_ins(hub_url: str, streams: int, seconds: float, answers: Connection) -> None:
    """`streams` clients post bogus sign-ins back to back for `seconds`; sends back the statuses (599: no answer).

    Run in a process of its own, so the attacker's own work never delays the kiosk being measured.
    """
    statuses: list[int] = []
    stop = time.monotonic() + seconds

    async def one_stream(client: httpx.AsyncClient) -> None:
        while time.monotonic() < stop:
            try:
                # A matching form token, as an attacker who fetched the form has; CSRF is not what stops them.
                answer = await client.post(hub_url + '/login', headers={'Cookie': f'kiosk_hub_csrf={FORM_TOKEN}'},
                                           data={'email': f'{secrets.token_hex(4)}@example.org',
                                                 'password': secrets.token_hex(8), 'csrf': FORM_TOKEN})
                statuses.append(answer.status_code)
            except httpx.HTTPError:
                statuses.append(599)

    async def all_streams() -> None:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=streams)) as client:
            await asyncio.gather(*(one_stream(client) for _ in range(streams)))

    asyncio.run(all_streams())
    answers.send(statuses)


async def flood(hub_url: str, kiosk: str, token: str, *, streams: int, seconds: float = 12.0,
                every: float = 0.5) -> FloodOutcome:
    """Bogus sign-ins from `streams` clients for `seconds` (`streams=0`: the quiet baseline); meanwhile the kiosk
    posts one record every `every` seconds, on its own connection, as a kiosk does."""
    outcome = FloodOutcome()
    receiving, sending = multiprocessing.get_context('spawn').Pipe(duplex=False)
    attacker = multiprocessing.get_context('spawn').Process(
        target=bogus_sign_ins, args=(hub_url, streams, seconds, sending), daemon=True)
    if streams:
        attacker.start()
    stop = time.monotonic() + seconds
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
    if streams:
        outcome.sign_in_statuses = await asyncio.to_thread(receiving.recv)
        attacker.join(timeout=60)
    return outcome
