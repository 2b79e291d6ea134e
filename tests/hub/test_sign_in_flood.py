"""Sign-in cannot starve the hub: a flood of bogus sign-ins from one address, and the kiosks are still answered."""

from __future__ import annotations

import asyncio
import collections

import pytest

from tests.support.flood import flood
from tests.support.processes import add_kiosk


@pytest.fixture(scope='module')
def hub(hub_factory):
    return hub_factory()


def test_64_streams_of_bogus_sign_ins_leave_ingest_fast_and_every_sign_in_answered(hub, database):
    token = add_kiosk(database, 'flooded-lobby')
    outcome = asyncio.run(flood(hub.url, 'flooded-lobby', token, streams=64, seconds=12))
    statuses = collections.Counter(outcome.sign_in_statuses)
    assert outcome.ingest_failures == []
    assert len(outcome.ingest_seconds) >= 15
    assert outcome.ingest_p95 < 1.0, f'ingest p95 {outcome.ingest_p95:.2f} s during the flood ({statuses})'
    assert not [status for status in statuses if status >= 500], statuses
    assert hub.process.poll() is None
