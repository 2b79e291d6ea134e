"""The kiosk's health as /healthz and the staff console report it: counts and times, never personal data."""

from __future__ import annotations

import shutil
from typing import Any

from kiosk import version
from kiosk.pin import StaffPin
from kiosk.published import PublishedContent
from kiosk.screen import ScreenWatch
from kiosk.slip import SlipPrinter
from kiosk.storage.store import SignupStore
from kiosk.sync import Syncer

DISK_LOW_MB = 200
SYNC_FAILING_AFTER = 5  # consecutive failed passes before staff are warned
SYNC_FAILING_CAPS = 2  # ... or this many backoff caps (2 x 30 min by default) of failing without a success


# Offline is normal, and refused content leaves the content the kiosk had: the visitor's screens work as they should.
QUIET_WARNINGS = {'sync_off', 'content_stale', 'content_refused'}
PRINTER_TROUBLE = {'out_of_paper', 'not_found', 'not_responding', 'error'}


def content_stale(content: PublishedContent, syncer: Syncer) -> bool:
    """The hub has not answered a content poll for `content_stale_days`: the kiosk may be showing old content.

    Only for a kiosk that polls (a sync endpoint and a trusted key) and has reached the hub at least once.
    """
    if not syncer.configured or content.key is None:
        return False
    days = content.stale_days()
    return days is not None and days >= syncer.settings.content_stale_days


def health(store: SignupStore, syncer: Syncer, printer: SlipPrinter | None = None, pin: StaffPin | None = None,
           screen: ScreenWatch | None = None, content: PublishedContent | None = None) -> dict[str, Any]:
    """`printer` is None when none is configured; its state is the last one seen, never asked for here.

    Without `pin`, `screen` or `content` (the domain's own tests), nothing is said about them.
    """
    printer_state = printer.state if printer else None
    counts = store.counts()
    state = syncer.state()
    disk_free_mb = shutil.disk_usage(store.data_dir).free // (1024 * 1024)
    warnings = []
    if not syncer.configured:
        warnings.append('sync_off')
    elif syncer.paused:
        warnings.append('sync_credentials_refused')
    elif (state.failures >= SYNC_FAILING_AFTER
          or syncer.failing_for(state) >= SYNC_FAILING_CAPS * syncer.settings.sync_backoff_cap_seconds):
        warnings.append('sync_failing')
    if counts['rejected']:
        warnings.append('rejected_signups')
    if store.quarantined_files():
        warnings.append('corrupt_file_quarantined')
    if disk_free_mb < DISK_LOW_MB:
        warnings.append('disk_low')
    if printer_state in PRINTER_TROUBLE:
        warnings.append('printer_problem')
    if pin and not pin.is_set:
        warnings.append('pin_unset')  # staff cannot open the console: no export, no retry, no view of problems
    if screen:
        warnings.extend(screen.warnings())
    if content and content_stale(content, syncer):
        warnings.append('content_stale')
    if content and content.state().last_error:  # the hub's Kiosks page shows the reason, from the heartbeat
        warnings.append('content_refused')
    return {
        'status': 'ok' if set(warnings) <= QUIET_WARNINGS else 'warning',
        'queued': counts['queued'],
        'synced': counts['synced'],
        'rejected': counts['rejected'],
        'last_sync_attempt': state.last_attempt,
        'last_sync_success': state.last_success,
        'last_sync_error': state.last_error,
        'disk_free_mb': disk_free_mb,
        'version': version(),
        'kiosk_id': syncer.settings.kiosk_id,
        'printer': printer_state,
        'visit_active': bool(screen and screen.visit_active()),
        'warnings': warnings,
    }
