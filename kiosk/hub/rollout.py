"""The staged rollout of published content: a new version goes to the canary kiosks first, and to every kiosk once
each canary has run it, with no error and still reporting, for `rollout_soak_minutes`.

The state lives in the database (content_rollouts), so several hub processes agree: each step takes one advisory
lock and is audited. What a kiosk is served follows from it (db.newest_content_for): a paused rollout gives the
version to nobody who does not have it yet; an aborted one never again, while the kiosks that have it keep it until
a newer version is published. Only the newest version's rollout moves; an older one stays where it stopped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from psycopg import AsyncConnection

from kiosk.hub import db

HUB = 'hub'  # the actor of the steps the hub takes by itself


class RolloutError(Exception):
    """Nothing changed; the message says why."""


async def start(conn: AsyncConnection, version: int, targets: list[str] | None, soak_minutes: float,
                started_by: str) -> str:
    """Inside the publishing transaction: the canary stage, or every kiosk at once when there is no canary among
    the targets or no soak; the stage."""
    await db.lock_rollouts(conn)
    canaries = await db.canaries_for(conn, targets)
    stage = 'canary' if canaries and soak_minutes > 0 else 'all'
    await db.start_rollout(conn, version, stage)
    await db.audit(conn, started_by, 'rollout_started', {'version': version, 'stage': stage, 'canaries': canaries})
    if stage == 'all':
        await db.audit(conn, HUB, 'rollout_to_all', {'version': version, 'why': 'no soak' if canaries else
                                                    'no canary kiosk'})
    return stage


async def advance(conn: AsyncConnection, soak_minutes: float, silent_minutes: int) -> str | None:
    """One check, as the scheduler makes it: moves the newest rollout on if it may; what it did, or None."""
    async with conn.transaction():
        await db.lock_rollouts(conn)
        rollout = await db.newest_rollout(conn)
        if rollout is None or rollout['stage'] != 'canary' or rollout['paused_at'] or rollout['aborted_at']:
            return None
        version = rollout['version']
        canaries = await db.canary_health(conn, version, rollout['targets'], silent_minutes)
        if not canaries or soak_minutes <= 0:
            await db.rollout_to_all(conn, version)
            await db.audit(conn, HUB, 'rollout_to_all', {'version': version, 'why': 'no soak' if canaries else
                                                        'no canary kiosk'})
            return 'to_all'
        healthy = all(canary['healthy'] for canary in canaries)
        await db.set_canaries_healthy(conn, version, healthy)
        since = rollout['canaries_healthy_since']
        if not healthy:
            if since is not None:
                await db.audit(conn, HUB, 'rollout_soak_restarted', {
                    'version': version, 'unhealthy': [canary['name'] for canary in canaries if not canary['healthy']]})
            return 'waiting' if since is None else 'soak_restarted'
        if since is None:
            await db.audit(conn, HUB, 'rollout_canaries_done',
                           {'version': version, 'canaries': [canary['name'] for canary in canaries]})
            since = rollout['now']
        if (rollout['now'] - since).total_seconds() >= soak_minutes * 60:
            await db.rollout_to_all(conn, version)
            await db.audit(conn, HUB, 'rollout_to_all', {'version': version, 'why': 'canaries soaked',
                                                        'soak_minutes': soak_minutes})
            return 'to_all'
        return 'soaking'


async def pause(conn: AsyncConnection, by: str) -> int:
    return await _step(conn, by, 'pause', db.pause_rollout, 'rollout_paused')


async def resume(conn: AsyncConnection, by: str) -> int:
    return await _step(conn, by, 'resume', lambda conn, version, _by: db.resume_rollout(conn, version),
                       'rollout_resumed')


async def abort(conn: AsyncConnection, by: str) -> int:
    return await _step(conn, by, 'abort', db.abort_rollout, 'rollout_aborted')


async def _step(conn: AsyncConnection, by: str, verb: str, change: Callable[..., Awaitable[bool]],
                action: str) -> int:
    """Pause, resume or abort the newest version's rollout, audited; its version, or RolloutError."""
    async with conn.transaction():
        await db.lock_rollouts(conn)
        rollout = await db.newest_rollout(conn)
        if rollout is None:
            raise RolloutError(f'nothing to {verb}: no version has been published with a rollout')
        if not await change(conn, rollout['version'], by):
            state = 'was aborted: publish a new version to move on' if rollout['aborted_at'] else \
                'is paused already' if rollout['paused_at'] else 'is not paused'
            raise RolloutError(f'the rollout of version {rollout["version"]} {state}')
        await db.audit(conn, by, action, {'version': rollout['version']})
    return rollout['version']


@dataclass
class Status:
    """What `kiosk hub rollout status` and the Kiosks page say about the newest version's rollout."""

    version: int
    stage: str  # canary, all, paused, aborted
    canaries: list[dict]
    running: int
    kiosks: int
    soaked_seconds: float | None
    soak_minutes: float

    def lines(self) -> list[str]:
        stage = {'canary': 'canary kiosks only', 'all': 'every kiosk', 'paused': 'paused: nobody new gets it',
                 'aborted': 'aborted: nobody new gets it; publish again to move on'}[self.stage]
        lines = [f'version {self.version}: {stage}; {self.running} of {self.kiosks} kiosk(s) run it']
        if self.stage in ('canary', 'paused') and self.canaries:
            soak = (f'soaking for {self.soaked_seconds / 60:.1f} of {self.soak_minutes:g} minutes'
                    if self.soaked_seconds is not None else 'waiting for every canary to run it healthily')
            lines.append(f'  canaries: {soak}')
        for canary in self.canaries:
            runs = canary['content_version']
            state = 'healthy' if canary['healthy'] else \
                f'failed: {canary["content_error"]}' if canary['content_error'] else \
                'not heard from' if canary['received_at'] is None else \
                f'runs version {int(runs)}' if runs is not None else 'reports no content version'
            lines.append(f'  {canary["name"]}: {state}')
        return lines


async def status(conn: AsyncConnection, soak_minutes: float, silent_minutes: int) -> Status | None:
    rollout = await db.newest_rollout(conn)
    if rollout is None:
        return None
    version = rollout['version']
    stage = 'aborted' if rollout['aborted_at'] else 'paused' if rollout['paused_at'] else rollout['stage']
    since = rollout['canaries_healthy_since']
    running, kiosks = await db.kiosks_running(conn, version)
    return Status(version, stage, await db.canary_health(conn, version, rollout['targets'], silent_minutes), running,
                  kiosks, (rollout['now'] - since).total_seconds() if since else None, soak_minutes)
