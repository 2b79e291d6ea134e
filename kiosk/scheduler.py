"""Background jobs on one APScheduler: sync every interval, and nightly upkeep (retention, archive rotation).

The scheduler needs a running event loop, so the app starts it on start-up, never at import.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from kiosk.slip import SlipPrinter
from kiosk.storage.store import SignupStore
from kiosk.sync import Syncer

log = logging.getLogger('kiosk.scheduler')

SYNC_JOB = 'sync'
FIRST_SYNC_AFTER_SECONDS = 2  # the screen first, after a power cut; then what waited in the queue


def remove_old_synced(store: SignupStore, retention_days: int, now: datetime | None = None) -> int:
    """Synced records older than the retention period go; queued and rejected records never do."""
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=retention_days)).isoformat()

    def expired(record: dict) -> bool:
        synced_at = record.get('synced_at')
        return record.get('status') == 'synced' and bool(synced_at) and \
            datetime.fromisoformat(synced_at).astimezone(UTC).isoformat() < cutoff

    return store.remove(expired)


class KioskScheduler:
    def __init__(self, syncer: Syncer, store: SignupStore, content_hash: str = '',
                 printer: SlipPrinter | None = None, *, report: Callable[[], dict]) -> None:
        """`report` is the kiosk's health report (blocking), which every heartbeat carries."""
        self.syncer = syncer
        self.report = report
        self.store = store
        self.content_hash = content_hash
        self.printer = printer
        self._force_next = False
        settings = syncer.settings
        self.scheduler = AsyncIOScheduler(timezone=ZoneInfo(settings.timezone))
        if syncer.configured:
            # A pass drains the queue, so a run still going when the next is due is simply skipped.
            self.scheduler.add_job(self._sync, IntervalTrigger(seconds=settings.sync_interval_seconds), id=SYNC_JOB,
                                   max_instances=1, coalesce=True, misfire_grace_time=300,
                                   next_run_time=datetime.now(UTC) + timedelta(seconds=FIRST_SYNC_AFTER_SECONDS))
        if printer:  # staff and /healthz see paper running out before a visitor finds out
            self.scheduler.add_job(asyncio.to_thread, IntervalTrigger(minutes=5), args=[printer.check], id='printer',
                                   max_instances=1, coalesce=True,
                                   next_run_time=datetime.now(UTC) + timedelta(seconds=5))
        self.scheduler.add_job(self._nightly, CronTrigger(hour=3, minute=15), id='nightly',
                               max_instances=1, coalesce=True, misfire_grace_time=6 * 3600)

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)

    def sync_now(self) -> None:
        """Staff "Sync now": the sync job runs at once, ignoring backoff; a running pass goes round once more."""
        if self.syncer.configured and self.syncer.request():
            self._force_next = True
            self.scheduler.modify_job(SYNC_JOB, next_run_time=datetime.now(UTC))

    async def _sync(self) -> None:
        force, self._force_next = self._force_next, False
        try:
            await self.syncer.sync_pass(force=force)
        except Exception:
            log.exception('sync pass failed')
        # Every interval, whatever the pass did (even skipped for backoff): the hub sees who went quiet.
        report = await asyncio.to_thread(self.report)
        await self.syncer.send_heartbeat({**report, 'content_hash': self.content_hash})

    async def _nightly(self) -> None:
        try:
            removed = await asyncio.to_thread(remove_old_synced, self.store, self.syncer.settings.retention_days)
            await asyncio.to_thread(self.store.rotate)
            log.info('nightly upkeep: removed %d synced sign-up(s) past retention', removed)
        except Exception:
            log.exception('nightly upkeep failed')
