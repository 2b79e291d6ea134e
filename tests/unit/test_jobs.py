"""The kiosk's background jobs keep the kiosk's own clock: the nightly upkeep runs at 03:15 where the kiosk stands."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from kiosk.config import load_settings
from kiosk.jobs import KioskScheduler
from kiosk.storage.store import SignupStore
from kiosk.sync import Syncer


def test_the_nightly_upkeep_runs_at_a_quarter_past_three_local_time_whatever_the_machines_zone(tmp_path):
    settings = load_settings(data_dir=tmp_path).model_copy(update={'timezone': 'America/Chicago'})
    store = SignupStore(tmp_path)
    jobs = KioskScheduler(Syncer(settings, store), store, None, None, report=dict)
    chicago = ZoneInfo('America/Chicago')
    evening = datetime(2026, 12, 7, 20, 0, tzinfo=chicago)  # 02:00 UTC: a trigger on UTC would fire at 21:15 here
    upkeep = jobs.scheduler.get_job('nightly').trigger.get_next_fire_time(None, evening)
    assert upkeep == datetime(2026, 12, 8, 3, 15, tzinfo=chicago)


def test_content_is_polled_only_with_a_hub_and_a_trusted_key(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.bundle import public_key_text
    from kiosk.published import PublishedContent

    settings = load_settings(data_dir=tmp_path).model_copy(update={
        'sync_url': 'http://127.0.0.1:9/api/v1/signups', 'content_public_key_file': tmp_path / 'none.pub'})
    store = SignupStore(tmp_path)
    untrusted = KioskScheduler(Syncer(settings, store), store, PublishedContent.for_settings(settings), report=dict)
    assert untrusted.scheduler.get_job('content') is None
    trusting = settings.model_copy(update={'content_public_key': public_key_text(Ed25519PrivateKey.generate()),
                                           'content_poll_seconds': 300})
    jobs = KioskScheduler(Syncer(trusting, store), store, PublishedContent.for_settings(trusting), report=dict)
    trigger = jobs.scheduler.get_job('content').trigger
    assert trigger.interval.total_seconds() == 300 and trigger.jitter == 30
