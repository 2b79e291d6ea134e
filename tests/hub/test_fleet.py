"""A small fleet syncs to one hub through two hub SIGKILLs and a PostgreSQL restart: nothing lost, nothing twice."""

from __future__ import annotations

import os

import psycopg
import pytest

from .fleet import kill_and_restart, postgres_cluster, restart_postgres, seed_kiosks, sync_fleet

KIOSKS = 10
PER_KIOSK = 40


async def test_every_sign_up_arrives_exactly_once_through_crashes_and_a_database_restart(hub_factory, database,
                                                                                         tmp_path):
    hub = hub_factory()
    syncers = seed_kiosks(database, tmp_path, KIOSKS, PER_KIOSK, hub.signups_url, batch_size=5)
    cluster = postgres_cluster()
    if cluster is None and os.environ.get('KIOSK_REQUIRE_POSTGRES'):
        pytest.fail('CI must be able to restart the PostgreSQL cluster (pg_ctlcluster, as root)')
    disruptions = [(0.2, kill_and_restart(hub)), (0.6, kill_and_restart(hub))]
    if cluster:
        disruptions.insert(1, (0.4, lambda: restart_postgres(cluster)))
    outcome = await sync_fleet(syncers, disruptions, timeout=300)
    assert outcome['disruptions'] == len(disruptions)

    names = [syncer.settings.kiosk_id for syncer in syncers]
    expected = {record['id'] for syncer in syncers for record in syncer.store.records()}
    with psycopg.connect(database) as conn:
        arrived = [row[0] for row in conn.execute('SELECT id::text FROM signups WHERE kiosk = ANY(%s)', (names,))]
    assert len(arrived) == KIOSKS * PER_KIOSK == len(expected)
    assert set(arrived) == expected, 'none missing, none extra'
    for syncer in syncers:
        assert syncer.store.counts() == {'queued': 0, 'synced': PER_KIOSK, 'rejected': 0}
