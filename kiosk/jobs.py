"""Background jobs on one APScheduler: sync every interval, published content (polled, prepared and switched when
due, then its screens checked: confirmed or given up), and nightly upkeep (retention of synced and rejected
records, archive rotation).

The scheduler needs a running event loop, so the app starts it on start-up, never at import.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from kiosk.bundle import MAX_BUNDLE_BYTES, BundleError
from kiosk.config import Settings
from kiosk.confirm import CannotCheck, broken_screen
from kiosk.content import Catalog
from kiosk.published import PublishedContent
from kiosk.slip import SlipPrinter
from kiosk.storage.store import SignupStore
from kiosk.sync import Syncer

log = logging.getLogger('kiosk.jobs')

SYNC_JOB = 'sync'
CONTENT_JOB = 'content'
CONTENT_JITTER = 0.1  # of the poll interval: a fleet restarted together does not poll together
ACTIVATE_CHECK_SECONDS = 30
FIRST_SYNC_AFTER_SECONDS = 2  # the screen first, after a power cut; then what waited in the queue


def remove_old_synced(store: SignupStore, retention_days: int, now: datetime | None = None) -> int:
    """Synced records older than the retention period go; queued and rejected records never do here."""
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=retention_days)).isoformat()

    def expired(record: dict) -> bool:
        synced_at = record.get('synced_at')
        return record.get('status') == 'synced' and bool(synced_at) and \
            datetime.fromisoformat(synced_at).astimezone(UTC).isoformat() < cutoff

    return store.remove(expired)


def remove_old_rejected(store: SignupStore, retention_days: int, now: datetime | None = None) -> int:
    """Rejected records go `retention_days` after the upkeep first found them rejected (`rejected_at`).

    The time starts when the upkeep sees the record, not when it was made: staff get the whole period to
    act on the warning, even for a sign-up that waited months in an outage, or one rejected before this
    rule existed. "Retry rejected" clears the time, so a record rejected again starts afresh.
    """
    now = now or datetime.now(UTC)
    store.update({record['id'] for record in store.records(lambda record: record.get('status') == 'rejected'
                                                           and not record.get('rejected_at'))},
                 {'rejected_at': now.isoformat(timespec='seconds')})
    cutoff = now - timedelta(days=retention_days)
    return store.remove(lambda record: record.get('status') == 'rejected' and bool(record.get('rejected_at'))
                        and datetime.fromisoformat(record['rejected_at']) < cutoff)


def nightly_upkeep(store: SignupStore, settings: Settings, now: datetime | None = None) -> tuple[int, int]:
    """Retention, then archive rotation; returns how many synced and rejected records were deleted."""
    removed = (remove_old_synced(store, settings.retention_days, now),
               remove_old_rejected(store, settings.rejected_retention_days, now))
    store.rotate()
    return removed


class KioskScheduler:
    def __init__(self, syncer: Syncer, store: SignupStore, content: PublishedContent | None = None,
                 printer: SlipPrinter | None = None, *, report: Callable[[], dict],
                 prepare: Callable[[Catalog], object] | None = None) -> None:
        """`report` is the kiosk's health report (blocking), which every heartbeat carries with `content`'s;
        `prepare` makes a new version's QR codes and speech before the switch (blocking)."""
        self.prepare = prepare
        self.syncer = syncer
        self.report = report
        self.store = store
        self.content = content
        self.printer = printer
        self._force_next = False
        self._polling = False
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
        if syncer.configured and content is not None and content.key is not None:
            poll = settings.content_poll_seconds
            self.scheduler.add_job(self.poll_content, IntervalTrigger(seconds=poll, jitter=poll * CONTENT_JITTER),
                                   id=CONTENT_JOB, max_instances=1, coalesce=True, misfire_grace_time=int(poll))
        if content is not None:  # a version staged for later (`activate_at`, or a USB stick's) switches on time
            self.scheduler.add_job(self._activate_due, IntervalTrigger(seconds=ACTIVATE_CHECK_SECONDS),
                                   id='content-activate', max_instances=1, coalesce=True)
        # 'cron' by name, so the hour is the kiosk's local time: a CronTrigger made here takes the machine's zone.
        self.scheduler.add_job(self._nightly, 'cron', hour=3, minute=15, id='nightly',
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
            passed = await self.syncer.sync_pass(force=force)
        except Exception:
            passed = None
            log.exception('sync pass failed')
        if passed and not passed.error and not passed.skipped and self.scheduler.get_job(CONTENT_JOB):
            await self.poll_content()  # the hub answered just now: a 304 costs it one small query
        # Every interval, whatever the pass did (even skipped for backoff): the hub sees who went quiet.
        report = await asyncio.to_thread(self.report)
        content = await asyncio.to_thread(self.content.report) if self.content else {}
        await self.syncer.send_heartbeat({**report, **content})

    async def poll_content(self) -> None:
        """Fetch newer content if the hub has some for this kiosk, verify and stage it, and switch when it is due."""
        if self._polling:
            return
        self._polling = True
        try:
            known = await asyncio.to_thread(self.content.known_etags)
            status, bundle = await self.syncer.fetch_content(known, MAX_BUNDLE_BYTES)
            if status in (200, 204, 304):
                await asyncio.to_thread(self.content.note_hub_contact)
            if status == 200 and bundle is not None:
                try:
                    await asyncio.to_thread(self.content.accept, bundle)
                except BundleError as error:  # remembered for the heartbeat and `kiosk content status`
                    log.error('content: the bundle from the hub was refused: %s', error)
            elif status not in (0, 204, 304, 404):
                log.warning('content: the hub answered HTTP %d', status)
            await self._activate_due()
        except Exception:
            log.exception('content poll failed')
        finally:
            self._polling = False

    async def _activate_due(self) -> None:
        """Switch when due, then check the screens of a version not yet confirmed (switched here, or by
        `kiosk content apply`)."""
        try:
            await asyncio.to_thread(self.content.activate_due, self.prepare)
        except Exception:
            log.exception('content switch failed')
        await self.confirm_switch()

    async def confirm_switch(self) -> None:
        """Load every screen of a version just switched to: confirm it, or go back to the one before."""
        if self.content is None or (version := await asyncio.to_thread(self.content.unconfirmed)) is None:
            return
        try:
            catalog = await asyncio.to_thread(lambda: self.content.current().catalog)
            reason = await broken_screen(self.syncer.settings.local_url, catalog)
        except CannotCheck as error:
            log.warning('content: version %d not checked yet: %s', version, error)
            return
        except Exception:
            log.exception('content: version %d could not be checked', version)
            return
        if reason is None:
            await asyncio.to_thread(self.content.confirm, version)
        else:
            await asyncio.to_thread(self.content.fall_back, version, reason)

    async def _nightly(self) -> None:
        try:
            synced, rejected = await asyncio.to_thread(nightly_upkeep, self.store, self.syncer.settings)
            log.info('nightly upkeep: removed %d synced and %d rejected sign-up(s) past retention', synced, rejected)
        except Exception:
            log.exception('nightly upkeep failed')
