"""Sync with real `kiosk run` and `kiosk sync` processes, a real receiver, and real kill -9."""

import subprocess
import sys
import time

from kiosk.storage.store import SignupStore
from tests.support.ports import free_port
from tests.support.processes import healthz
from tests.support.queued import queue
from tests.support.sync_receiver import Receiver
from tests.support.waiting import eventually


def sync_settings(url: str, **extra: str) -> dict[str, str]:
    return {'sync_url': url, 'sync_token': 'test-token', 'sync_interval_seconds': '0.3',
            'sync_timeout_seconds': '5', 'sync_backoff_cap_seconds': '1', **extra}


def test_kill9_during_a_sync_loses_nothing_and_leaves_nothing_stuck(kiosk_factory, tmp_path, receiver):
    store = SignupStore(tmp_path / 'var')
    ids = queue(store, 30)
    receiver.delay = 1.5  # the kiosk dies while it waits for the answer
    kiosk = kiosk_factory(data_dir=tmp_path / 'var', **sync_settings(receiver.url, sync_batch_size='10'))
    eventually(lambda: receiver.requests, 15, 'the first sync request')
    asked = time.monotonic()
    assert healthz(kiosk)['queued'] == 30
    assert time.monotonic() - asked < 1.0, '/healthz must not wait for the sync that is waiting on the network'
    kiosk.kill()
    time.sleep(2)  # the receiver stores that batch and answers a dead socket
    assert store.counts()['synced'] == 0
    receiver.delay = 0
    kiosk.start()
    eventually(lambda: healthz(kiosk)['queued'] == 0, 20, 'the queue to drain after the restart')
    assert set(receiver.received) == set(ids)
    assert store.counts() == {'queued': 0, 'synced': 30, 'rejected': 0}


def test_kill9_after_acknowledged_batches_only_sends_them_again(kiosk_factory, tmp_path, receiver):
    """Marks are written in groups; a crash before the write re-sends, and the receiver de-duplicates by id."""
    store = SignupStore(tmp_path / 'var')
    ids = queue(store, 30)
    receiver.plan = ['ok', 'ok', 'hang:3']  # two batches acknowledged, the kiosk dies waiting on the third
    kiosk = kiosk_factory(data_dir=tmp_path / 'var', **sync_settings(receiver.url, sync_batch_size='10'))
    eventually(lambda: len(receiver.requests) == 3, 15, 'the third request')
    kiosk.kill()
    assert len(receiver.received) == 20 and store.counts()['queued'] == 30, 'acknowledged, not yet marked'
    kiosk.start()
    eventually(lambda: healthz(kiosk)['queued'] == 0, 20, 'the queue to drain after the restart')
    assert set(receiver.received) == set(ids)
    assert store.counts() == {'queued': 0, 'synced': 30, 'rejected': 0}
    sent = [record['id'] for request in receiver.requests for record in request['body']['signups']]
    assert len(sent) > 30 and set(sent) == set(ids), 'some were sent twice, none was lost'


def test_an_outage_of_several_intervals_heals_without_anyone(kiosk_factory, tmp_path):
    port = free_port()
    store = SignupStore(tmp_path / 'var')
    ids = queue(store, 5)
    kiosk = kiosk_factory(data_dir=tmp_path / 'var', **sync_settings(f'http://127.0.0.1:{port}/signups'))
    eventually(lambda: (healthz(kiosk)['last_sync_error'] or '').startswith('could not reach'), 10, 'a failure')
    time.sleep(2)  # several intervals of outage
    report = healthz(kiosk)
    assert report['queued'] == 5 and report['last_sync_success'] is None
    receiver = Receiver(port=port)
    try:
        eventually(lambda: healthz(kiosk)['queued'] == 0, 20, 'recovery')
        assert set(receiver.received) == set(ids)
        assert healthz(kiosk)['last_sync_error'] is None and healthz(kiosk)['last_sync_success']
    finally:
        receiver.stop()


def kiosk_sync(data_dir, url: str, *extra_env: tuple[str, str]) -> subprocess.CompletedProcess:
    env = {'KIOSK_DATA_DIR': str(data_dir), 'KIOSK_SYNC_URL': url, 'KIOSK_SYNC_TOKEN': 'test-token',
           'KIOSK_KIOSK_ID': 'cli', 'PATH': '/usr/bin:/bin', **dict(extra_env)}
    return subprocess.run([sys.executable, '-m', 'kiosk', 'sync'], capture_output=True, text=True, timeout=120,
                          env=env)


def test_cli_and_server_syncing_at_once_never_send_a_record_twice_at_once(kiosk_factory, tmp_path, receiver):
    store = SignupStore(tmp_path / 'var')
    ids = queue(store, 120)
    receiver.delay = 0.1
    kiosk_factory(data_dir=tmp_path / 'var', **sync_settings(receiver.url, sync_batch_size='10'))
    clis = [subprocess.Popen([sys.executable, '-m', 'kiosk', 'sync'], stdout=subprocess.PIPE, text=True,
                             env={'KIOSK_DATA_DIR': str(tmp_path / 'var'), 'KIOSK_SYNC_URL': receiver.url,
                                  'KIOSK_SYNC_TOKEN': 'test-token', 'KIOSK_SYNC_BATCH_SIZE': '10',
                                  'PATH': '/usr/bin:/bin'}) for _ in range(3)]
    ids += queue(store, 30)  # visitors keep signing up meanwhile: no update may be lost
    assert [cli.wait(timeout=120) for cli in clis] == [0, 0, 0]
    eventually(lambda: store.counts()['queued'] == 0, 20, 'the queue to drain')
    assert receiver.overlaps == []
    assert set(receiver.received) == set(ids)
    assert store.counts() == {'queued': 0, 'synced': 150, 'rejected': 0}


def test_kiosk_sync_prints_the_counts_and_fails_when_something_is_left(tmp_path, receiver):
    store = SignupStore(tmp_path / 'var')
    queue(store, 3)
    ok = kiosk_sync(tmp_path / 'var', receiver.url)
    assert (ok.returncode, ok.stdout.strip()) == (0, 'sent 3, accepted 3, rejected 0, still queued 0')
    queue(store, 2)
    receiver.plan = ['503']
    failed = kiosk_sync(tmp_path / 'var', receiver.url)
    assert failed.returncode == 1 and 'still queued 2' in failed.stdout and 'HTTP 503' in failed.stderr
    unreachable = kiosk_sync(tmp_path / 'var', f'http://127.0.0.1:{free_port()}/x')
    assert unreachable.returncode == 1 and 'could not reach the endpoint' in unreachable.stderr
    off = subprocess.run([sys.executable, '-m', 'kiosk', 'sync'], capture_output=True, text=True, timeout=60,
                         env={'KIOSK_DATA_DIR': str(tmp_path / 'var'), 'PATH': '/usr/bin:/bin'})
    assert off.returncode == 2 and 'sync is off' in off.stderr
