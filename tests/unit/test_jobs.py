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
