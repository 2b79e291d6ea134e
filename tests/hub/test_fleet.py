"""A small fleet syncs to one hub through two hub SIGKILLs, a PostgreSQL restart and replies lost after the hub
committed (every 3rd batch, on purpose, not only when a kill happens to land there): nothing lost, nothing twice,
nothing rejected."""

from __future__ import annotations

import os

import psycopg
import pytest

from tests.support.fault_proxy import FaultProxy, every_nth_sign_up_reply
from tests.support.fleet import kill_and_restart, postgres_cluster, restart_postgres, seed_kiosks, sync_fleet

KIOSKS = 10
PER_KIOSK = 41  # so that each kiosk's last batch is a batch of one, the case a lost reply used to reject
LOSE_EVERY = 3  # the reply to every 3rd batch is lost after the hub stored it


@pytest.mark.alone  # it restarts the server every other test's database is on
async def test_every_sign_up_arrives_exactly_once_through_crashes_and_a_database_restart(hub_factory, database,
                                                                                         tmp_path):
    hub = hub_factory()
    proxy = FaultProxy(hub.port, every_nth_sign_up_reply(LOSE_EVERY))
    syncers = seed_kiosks(database, tmp_path, KIOSKS, PER_KIOSK, proxy.url + '/api/v1/signups', batch_size=5)
    cluster = postgres_cluster()
    if cluster is None and os.environ.get('KIOSK_REQUIRE_POSTGRES'):
        pytest.fail('CI must be able to restart the PostgreSQL cluster (pg_ctlcluster, as root)')
    disruptions = [(0.2, kill_and_restart(hub)), (0.6, kill_and_restart(hub))]
    if cluster:
        disruptions.insert(1, (0.4, lambda: restart_postgres(cluster)))
    try:
        outcome = await sync_fleet(syncers, disruptions, timeout=300)
    finally:
        proxy.stop()
    assert outcome['disruptions'] == len(disruptions)
    assert proxy.dropped >= KIOSKS * PER_KIOSK // 5 // LOSE_EVERY

    names = [syncer.settings.kiosk_id for syncer in syncers]
    expected = {record['id'] for syncer in syncers for record in syncer.store.records()}
    with psycopg.connect(database) as conn:
        arrived = [row[0] for row in conn.execute('SELECT id::text FROM signups WHERE kiosk = ANY(%s)', (names,))]
    assert len(arrived) == KIOSKS * PER_KIOSK == len(expected)
    assert set(arrived) == expected, 'none missing, none extra'
    for syncer in syncers:
        assert syncer.store.counts() == {'queued': 0, 'synced': PER_KIOSK, 'rejected': 0}
