"""Real `kiosk run` processes sync to a real `kiosk hub run`: exactly once, with heartbeats; a revoked kiosk pauses."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import httpx
import psycopg

from kiosk.pin import StaffPin
from kiosk.storage.store import SignupStore
from tests.support.fault_proxy import FaultProxy, first_sign_up_replies
from tests.support.processes import add_kiosk, hub_command
from tests.support.sync_receiver import Receiver
from tests.support.waiting import eventually


def queued_record(kiosk: str, name: str) -> dict:
    return {'id': str(uuid.uuid4()), 'created_at': datetime.now(UTC).isoformat(timespec='seconds'),
            'program': 'pal', 'name': name, 'participant_name': 'Ana', 'phone': '+13145550134', 'email': '',
            'contact_method': 'phone', 'age': 9, 'note': '', 'language': 'es', 'consent': True, 'kiosk_id': kiosk,
            'status': 'queued', 'attempts': 0, 'last_error': None, 'synced_at': None, 'pulled_at': None}


def hub_rows(database: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(database) as conn:
        return conn.execute(sql, params).fetchall()


def test_kiosks_sync_to_the_hub_exactly_once_and_report_in(hub_factory, kiosk_factory, database):
    hub = hub_factory()
    kiosks = []
    for name in ('five-star-lobby', 'district-6-lobby'):
        kiosk = kiosk_factory(kiosk_id=name, sync_url=hub.signups_url, sync_token=add_kiosk(database, name),
                              sync_interval_seconds='1')
        kiosks.append(kiosk)
        store = SignupStore(kiosk.data_dir)
        for n in range(25):
            store.add(queued_record(name, f'Visitor {n}'))
    ids = {record['id'] for kiosk in kiosks for record in SignupStore(kiosk.data_dir).records()}
    eventually(lambda: len(hub_rows(database, 'SELECT id FROM signups WHERE id = ANY(%s::uuid[])', list(ids))) == 50,
               what='all 50 sign-ups at the hub')
    for kiosk in kiosks:
        eventually(lambda kiosk=kiosk: httpx.get(kiosk.url + '/healthz').json()['queued'] == 0,
                   what='every kiosk showing its sign-ups synced')
    per_kiosk = dict(hub_rows(database, 'SELECT kiosk, count(*) FROM signups WHERE id = ANY(%s::uuid[]) '
                                        'GROUP BY kiosk', list(ids)))
    assert per_kiosk == {'five-star-lobby': 25, 'district-6-lobby': 25}

    def heartbeats() -> dict[str, str]:
        rows = hub_rows(database, "SELECT kiosk, body->>'content_hash' FROM heartbeats "
                                  "WHERE kiosk IN ('five-star-lobby', 'district-6-lobby')")
        return dict(rows) if len(rows) == 2 else {}

    beats = eventually(heartbeats, what='heartbeats from both kiosks')
    assert set(beats) == {'five-star-lobby', 'district-6-lobby'} and all(len(h) == 64 for h in beats.values())


def test_replies_lost_after_the_hub_committed_end_synced_and_stored_once(hub_factory, kiosk_factory, database):
    """The hub stores each batch and its answer never arrives; the kiosk's retries (a new `sent_at`, the same
    records) must be taken as what they are, never end in `rejected`."""
    hub = hub_factory()
    proxy = FaultProxy(hub.port, first_sign_up_replies(4))
    try:
        name = 'lossy-wifi-lobby'
        kiosk = kiosk_factory(kiosk_id=name, sync_url=proxy.url + '/api/v1/signups',
                              sync_token=add_kiosk(database, name), sync_batch_size='1', sync_interval_seconds='0.3',
                              sync_backoff_cap_seconds='1', sync_timeout_seconds='5', start=False)
        store = SignupStore(kiosk.data_dir)
        records = [queued_record(name, f'Visitor {n}') for n in range(4)]
        for record in records:
            store.add(record)
        ids = [record['id'] for record in records]
        kiosk.start()
        eventually(lambda: httpx.get(kiosk.url + '/healthz').json()['queued'] == 0, what='the queue settled')
        assert proxy.dropped == 4
        assert store.counts() == {'queued': 0, 'synced': 4, 'rejected': 0}
        assert 'rejected_signups' not in httpx.get(kiosk.url + '/healthz').json()['warnings']
        stored = hub_rows(database, 'SELECT id::text FROM signups WHERE kiosk = %s', name)
        assert sorted(row[0] for row in stored) == sorted(ids), 'each stored exactly once'
        assert hub_rows(database, 'SELECT count(*) FROM signup_conflicts WHERE kiosk = %s', name) == [(0,)]
    finally:
        proxy.stop()


def test_a_revoked_kiosk_gets_401_and_pauses_keeping_its_sign_ups(hub_factory, kiosk_factory, database):
    hub = hub_factory()
    token = add_kiosk(database, 'revoked-lobby')
    kiosk = kiosk_factory(kiosk_id='revoked-lobby', sync_url=hub.signups_url, sync_token=token,
                          sync_interval_seconds='1')
    store = SignupStore(kiosk.data_dir)
    store.add(queued_record('revoked-lobby', 'Before Revoke'))
    eventually(lambda: httpx.get(kiosk.url + '/healthz').json()['synced'] == 1, what='the first sync')
    assert hub_command(database, 'revoke-kiosk', 'revoked-lobby').returncode == 0
    store.add(queued_record('revoked-lobby', 'After Revoke'))

    def paused() -> dict | None:
        health = httpx.get(kiosk.url + '/healthz').json()
        return health if 'sync_credentials_refused' in health['warnings'] else None

    health = eventually(paused, what='the pause')
    assert health['queued'] == 1 and health['last_sync_error'] == 'HTTP 401'


def test_heartbeats_carry_health_not_people_and_an_endpoint_without_them_does_not_disturb_sync(kiosk_factory):
    for status in (200, 404):
        receiver = Receiver()
        receiver.heartbeat_status = status
        try:
            kiosk = kiosk_factory(sync_url=receiver.url, sync_token=receiver.token, sync_interval_seconds='1')
            StaffPin(kiosk.data_dir).set('4821')  # set up as installed: without a PIN, /healthz warns pin_unset
            SignupStore(kiosk.data_dir).add(queued_record('e2e-kiosk', 'Zelda Quixote'))
            eventually(lambda receiver=receiver: receiver.received, what='the sync')
            eventually(lambda kiosk=kiosk: httpx.get(kiosk.url + '/healthz').json()['synced'] == 1,
                       what='the record marked synced')
            time.sleep(1.5)
            assert httpx.get(kiosk.url + '/healthz').json()['status'] == 'ok'
            if status == 200:
                beat = eventually(lambda receiver=receiver: receiver.heartbeats, what='a heartbeat')[-1]
                assert {'queued', 'synced', 'kiosk_id', 'version', 'content_hash', 'visit_active',
                        'warnings'} <= set(beat)
                assert 'Zelda' not in str(receiver.heartbeats)
        finally:
            receiver.stop()
            kiosk.kill()
