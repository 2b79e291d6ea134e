"""What a content poll costs the hub: 100 kiosks all at once ask `GET /api/v1/content` with the ETag of the version
they have, so every answer is a 304 (nearly every poll is one), while a rollout is at its canaries and every kiosk has
a heartbeat; baseline: the same 100 kiosks posting a heartbeat all at once, in the same run; the median of 15 rounds
each. Goal: a round of polls costs no more than a round of heartbeats, every answer is a 304, and no bundle is read
(content_versions' TOAST, where the bundles live, is not touched).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.hub import scratch_database
from kiosk.hub import db
from kiosk.hub.auth import new_token, token_digest
from kiosk.hub.content import publish
from kiosk.paths import ASSETS_DIR
from tests.support.ports import free_port
from tests.support.processes import HubProcess

KIOSKS, ROUNDS, CANARIES = 100, 15, 5
GOAL_RATIO = 1.0
STATS_FLUSH_SECONDS = 11  # an idle backend's statistics reach pg_statio within 10 s


async def _seed(database: str) -> dict[str, str]:
    """KIOSKS kiosks with heartbeats, two versions for everyone and a third at its canaries; name -> token."""
    tokens = {f'bench-{number:03d}': new_token() for number in range(KIOSKS)}
    key, programs = Ed25519PrivateKey.generate(), (ASSETS_DIR / 'programs.toml').read_bytes()
    async with await db.connect(database) as conn:
        for name, token in tokens.items():
            await db.add_kiosk(conn, name, token_digest(token))
        for _ in range(2):
            await publish(conn, key, programs, note='bench', published_by='bench', soak_minutes=0)
        for name in list(tokens)[:CANARIES]:
            await db.set_canary(conn, name, True)
        newest, _ = await publish(conn, key, programs, note='bench', published_by='bench')
        for number, name in enumerate(tokens):
            await db.save_heartbeat(conn, name, {'content_version': newest if number < CANARIES else newest - 1})
        await conn.commit()
    return tokens


async def _etags(hub: HubProcess, tokens: dict[str, str]) -> dict[str, str]:
    """Each kiosk's first poll: it downloads its bundle, as a kiosk does once per version."""
    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as client:
        return {name: (await client.get('/api/v1/content', headers={'Authorization': f'Bearer {token}'}))
                .headers['etag'] for name, token in tokens.items()}


async def _rounds(hub: HubProcess, tokens: dict[str, str], etags: dict[str, str]
                  ) -> tuple[list[float], list[float], set[int]]:
    """ROUNDS rounds of every kiosk polling at once, and as many of every kiosk posting a heartbeat at once,
    alternating; the seconds of each round."""
    statuses: set[int] = set()
    limits = httpx.Limits(max_connections=KIOSKS, max_keepalive_connections=KIOSKS)
    async with httpx.AsyncClient(base_url=hub.url, timeout=30, limits=limits) as client:
        async def poll(name: str) -> None:
            answer = await client.get('/api/v1/content', headers={'Authorization': f'Bearer {tokens[name]}',
                                                                  'If-None-Match': etags[name]})
            statuses.add(answer.status_code)

        async def beat(name: str) -> None:
            answer = await client.post('/api/v1/heartbeat', headers={'Authorization': f'Bearer {tokens[name]}'},
                                       json={'status': 'ok', 'queued': 0, 'content_version': 2})
            assert answer.status_code == 204, answer.text

        async def one_round(request) -> float:
            started = time.perf_counter()
            await asyncio.gather(*(request(name) for name in tokens))
            return time.perf_counter() - started

        await one_round(beat)  # warm both paths
        await one_round(poll)
        polls, beats = [], []
        for _ in range(ROUNDS):
            polls.append(await one_round(poll))
            beats.append(await one_round(beat))
    return polls, beats, statuses


def _bundle_reads(database: str) -> int:
    """Blocks of content_versions' TOAST (where the bundles live) read or found in cache so far."""
    with psycopg.connect(database) as conn:
        return conn.execute("SELECT coalesce(toast_blks_read, 0) + coalesce(toast_blks_hit, 0) "
                            "FROM pg_statio_user_tables WHERE relname = 'content_versions'").fetchone()[0]


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as scratch, scratch_database() as database:
        tokens = asyncio.run(_seed(database))
        hub = HubProcess(database, free_port(), Path(scratch) / 'hub.log', {'rate_per_minute': '100000'}).start()
        try:
            etags = asyncio.run(_etags(hub, tokens))
            time.sleep(STATS_FLUSH_SECONDS)
            before = _bundle_reads(database)
            polls, beats, statuses = asyncio.run(_rounds(hub, tokens, etags))
            time.sleep(STATS_FLUSH_SECONDS)
            bundle_reads = _bundle_reads(database) - before
        finally:
            hub.kill(15)
    poll_ms, beat_ms = (statistics.median(rounds) * 1000 for rounds in (polls, beats))
    ratio = poll_ms / beat_ms
    print(f'content polls answered 304: {KIOSKS} kiosks at once, median of {ROUNDS} rounds: {poll_ms:.0f} ms a round, '
          f'{poll_ms / KIOSKS:.2f} ms of hub time a poll (heartbeats: {beat_ms:.0f} ms a round, ratio {ratio:.2f}); '
          f'answers {sorted(statuses)}; bundle blocks read during the rounds: {bundle_reads}')
    return [{'name': f'hub content poll (304) round of {KIOSKS} kiosks', 'figure': round(poll_ms, 1), 'unit': 'ms',
             'baseline': round(beat_ms, 1), 'baseline_name': f'a round of {KIOSKS} heartbeats',
             'ratio': round(ratio, 2), 'goal': f'<= {GOAL_RATIO}x heartbeats, only 304s, no bundle read',
             'met': ratio <= GOAL_RATIO and statuses == {304} and bundle_reads == 0}]
