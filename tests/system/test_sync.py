"""Sync against a real HTTP server on 127.0.0.1 and a real store on disk."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from kiosk.config import load_settings
from kiosk.health import health
from kiosk.jobs import nightly_upkeep, remove_old_synced
from kiosk.paths import ASSETS_DIR
from kiosk.signups import PAYLOAD_FIELDS
from kiosk.storage.store import SignupStore
from kiosk.sync import Syncer, idempotency_key
from tests.support.queued import queue


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(isolated_settings) -> SignupStore:
    opened = SignupStore(isolated_settings)
    opened.open()
    return opened


def make_syncer(store, receiver, **settings) -> Syncer:
    defaults = {'sync_url': receiver.url, 'sync_token': 'test-token', 'sync_timeout_seconds': 2}
    clock = settings.pop('clock', None) or FakeClock()
    return Syncer(load_settings(**{**defaults, **settings}), store, clock=clock)


async def drain(syncer: Syncer, passes: int = 20):
    for _ in range(passes):
        report = await syncer.sync_pass(force=True)
        if not report.error:
            return report
    raise AssertionError('the queue never drained')


async def test_happy_path_sends_the_contract_and_marks_synced(store, receiver):
    ids = queue(store, 3)
    report = await make_syncer(store, receiver).sync_pass()
    assert (report.sent, report.accepted, report.rejected, report.queued) == (3, 3, 0, 0)
    (request,) = receiver.requests
    assert request['headers']['Authorization'] == 'Bearer test-token'
    assert request['headers']['Content-Type'] == 'application/json'
    assert request['headers']['Idempotency-Key'] == idempotency_key(request['body']['signups'])
    assert request['body']['kiosk_id'] == 'test-kiosk' and request['body']['sent_at'].endswith('+00:00')
    assert [record['id'] for record in request['body']['signups']] == ids  # oldest first
    assert set(request['body']['signups'][0]) == set(PAYLOAD_FIELDS)  # no sync bookkeeping
    assert {record['status'] for record in store.records()} == {'synced'}
    assert all(record['synced_at'] for record in store.records())


def test_what_the_kiosk_sends_matches_the_published_json_schema(store, receiver):
    import asyncio

    from kiosk.content import load_catalog
    from kiosk.signups import check_form, new_record

    program = load_catalog(ASSETS_DIR / 'programs.toml').by_slug['pal']
    details = check_form(program, {'name': 'Rosa Díaz', 'participant_name': 'Ana', 'age': '9', 'phone': '3145550134',
                                   'email': 'rosa@example.com', 'contact_method': 'text', 'consent': True,
                                   'note': 'Después de las 5'})
    store.add(new_record(details, program, 'es', 'kiosk-7', datetime.now(UTC)))
    asyncio.run(make_syncer(store, receiver).sync_pass())
    schema = json.loads((ASSETS_DIR / 'sync-request.schema.json').read_text())
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    assert list(validator.iter_errors(receiver.requests[0]['body'])) == []


async def test_a_thousand_queued_records_go_out_in_batches_of_the_configured_size(store, receiver):
    queue(store, 1000)
    report = await make_syncer(store, receiver, sync_batch_size=100).sync_pass()
    assert report.batches == [100] * 10 and report.accepted == 1000
    assert len(receiver.received) == 1000 and store.counts()['queued'] == 0


async def test_fault_plan_ends_with_every_record_delivered_once_and_synced(store, receiver):
    ids = queue(store, 25)
    receiver.plan = ['500', '429:7', 'hang:5', 'store-and-drop', '503']
    syncer = make_syncer(store, receiver, sync_batch_size=10, sync_timeout_seconds=1)
    first = await syncer.sync_pass(force=True)
    assert first.error == 'HTTP 500' and first.accepted == 0
    second = await syncer.sync_pass(force=True)
    assert second.error == 'HTTP 429'
    assert syncer.state().backoff_until >= syncer.clock() + 7  # Retry-After honoured
    assert (await syncer.sync_pass(force=True)).error == 'the endpoint did not answer in time'
    assert 'could not reach' in (await syncer.sync_pass(force=True)).error  # stored, then dropped
    assert store.counts()['synced'] == 0, 'nothing is synced without a 2xx'
    await drain(syncer)
    assert set(receiver.received) == set(ids)
    assert store.counts() == {'queued': 0, 'synced': 25, 'rejected': 0}


async def test_a_retry_after_a_lost_reply_carries_the_same_key_for_the_same_records(store, receiver):
    queue(store, 2)
    receiver.plan = ['store-and-drop']
    clock = FakeClock()
    syncer = make_syncer(store, receiver, clock=clock)
    assert (await syncer.sync_pass(force=True)).error
    clock.now += 5  # a new `sent_at`, and the records' own attempts count changed on disk
    assert (await syncer.sync_pass(force=True)).accepted == 2
    first, retry = receiver.requests
    assert first['body']['sent_at'] != retry['body']['sent_at']
    assert first['headers']['Idempotency-Key'] == retry['headers']['Idempotency-Key']
    other = [{**signup, 'note': 'changed'} for signup in first['body']['signups']]
    assert idempotency_key(other) != idempotency_key(first['body']['signups']), 'other records, another key'


@pytest.mark.parametrize('answer', ['old-hub-key-422', 'key-422'])
async def test_a_422_about_the_idempotency_key_never_rejects_a_record(store, receiver, answer):
    """An older hub hashed the whole body, so its retry after a lost reply got 422; the record is only queued."""
    ids = queue(store, 1)
    receiver.plan = ['store-and-drop', answer]
    syncer = make_syncer(store, receiver)
    assert (await syncer.sync_pass(force=True)).error
    report = await syncer.sync_pass(force=True)
    assert (report.accepted, report.rejected) == (1, 0)
    assert store.counts() == {'queued': 0, 'synced': 1, 'rejected': 0} and set(receiver.received) == set(ids)
    assert 'Idempotency-Key' not in receiver.requests[-1]['headers'], 'sent again without the refused key'


async def test_a_day_long_retry_after_waits_only_the_backoff_cap_and_staff_are_warned_in_time(store, receiver):
    """A proxy's `503 Retry-After: 86400` is one failure a day; the wait is capped, and time alone warns staff."""
    queue(store, 1)
    clock = FakeClock()
    syncer = make_syncer(store, receiver, clock=clock, sync_backoff_cap_seconds=600)
    receiver.plan = ['503:86400'] * 3
    assert (await syncer.sync_pass()).error == 'HTTP 503'
    assert syncer.state().backoff_until - clock.now == 600
    assert 'sync_failing' not in health(store, syncer)['warnings']
    clock.now = syncer.state().backoff_until
    await syncer.sync_pass()
    clock.now = syncer.state().backoff_until
    assert syncer.state().failures == 2, 'well under the count that warns'
    assert 'sync_failing' in health(store, syncer)['warnings'], 'two backoff caps without a success'
    clock.now += 1
    assert (await syncer.sync_pass()).error == 'HTTP 503'
    assert (await syncer.sync_pass(force=True)).accepted == 1
    assert 'sync_failing' not in health(store, syncer)['warnings'], 'a success clears it'


async def test_a_poison_record_is_rejected_alone_and_the_rest_go_through(store, receiver):
    good = queue(store, 7)
    (poison,) = queue(store, 1, name='POISON pill')
    good += queue(store, 8)
    report = await make_syncer(store, receiver, sync_batch_size=16).sync_pass()
    assert (report.accepted, report.rejected, report.queued) == (15, 1, 0)
    rejected = next(record for record in store.records() if record['id'] == poison)
    assert rejected['status'] == 'rejected' and rejected['last_error'] == 'HTTP 422: {"error": "POISON pill"}'
    assert set(receiver.received) == set(good)


async def test_an_endpoint_that_quotes_the_record_never_puts_it_in_logs_or_health(store, receiver, caplog):
    queue(store, 1, name='POISON Quoted Name')
    receiver.plan = ['500']
    syncer = make_syncer(store, receiver)
    await syncer.sync_pass()
    await syncer.sync_pass(force=True)
    assert 'Quoted' not in caplog.text and 'Quoted' not in json.dumps(health(store, syncer))
    assert 'Quoted' not in (store.data_dir / 'sync-state.json').read_text()


async def test_sync_now_pressed_during_a_failing_pass_is_not_lost(store, receiver):
    import asyncio

    queue(store, 1)
    receiver.plan, receiver.delay = ['500'], 0.5
    syncer = make_syncer(store, receiver)
    running = asyncio.create_task(syncer.sync_pass())
    await asyncio.sleep(0.2)
    assert syncer.request() is False  # a pass is running: it will go round once more instead
    receiver.delay = 0
    report = await running
    assert report.accepted == 1 and len(receiver.requests) == 2
    assert store.counts()['synced'] == 1


async def test_413_splits_the_batch(store, receiver):
    queue(store, 40)
    receiver.max_batch = 10
    report = await make_syncer(store, receiver, sync_batch_size=40).sync_pass()
    assert report.accepted == 40 and len(receiver.received) == 40 and report.rejected == 0


async def test_401_keeps_every_record_queued_pauses_sync_and_warns_staff(store, receiver, caplog):
    queue(store, 5)
    syncer = make_syncer(store, receiver, sync_token='wrong-secret-token')
    report = await syncer.sync_pass()
    assert report.error == 'HTTP 401' and store.counts()['queued'] == 5
    assert syncer.paused and (await syncer.sync_pass()).skipped == 'paused'
    assert 'sync_credentials_refused' in health(store, syncer)['warnings']
    assert 'wrong-secret-token' not in caplog.text
    assert 'wrong-secret-token' not in (store.data_dir / 'sync-state.json').read_text()
    fixed = make_syncer(store, receiver)  # IT sets the right token: the pause was for the old one
    assert not fixed.paused and (await fixed.sync_pass()).accepted == 5


async def test_backoff_grows_with_full_jitter_to_the_cap_and_a_success_resets_it(store, receiver):
    queue(store, 1)
    clock = FakeClock()
    syncer = Syncer(load_settings(sync_url=receiver.url, sync_token='test-token', sync_interval_seconds=60,
                                  sync_backoff_cap_seconds=1800), store, clock=clock, rng=lambda: 1.0)
    receiver.plan = ['500'] * 8
    ceilings = []
    for _ in range(6):
        await syncer.sync_pass()
        ceilings.append(syncer.state().backoff_until - clock.now)
        assert (await syncer.sync_pass()).skipped == 'backoff'  # too early: no request is made
        clock.now = syncer.state().backoff_until
    assert ceilings == [120, 240, 480, 960, 1800, 1800]
    assert len(receiver.requests) == 6
    assert (await syncer.sync_pass(force=True)).error  # "Sync now" bypasses the backoff
    assert len(receiver.requests) == 7
    clock.now += 1  # still inside the backoff, but staff insist and the endpoint is back
    assert (await syncer.sync_pass(force=True)).error
    assert (await syncer.sync_pass(force=True)).accepted == 1
    assert syncer.state().failures == 0 and syncer.state().backoff_until == 0


async def test_jitter_spreads_retries_between_zero_and_the_ceiling(store, receiver):
    queue(store, 1)
    receiver.plan = ['500']
    syncer = Syncer(load_settings(sync_url=receiver.url, sync_token='test-token', sync_interval_seconds=60), store,
                    clock=FakeClock(), rng=lambda: 0.25)
    await syncer.sync_pass()
    assert syncer.state().backoff_until - syncer.clock() == pytest.approx(30)


def test_retention_removes_only_old_synced_records(store):
    now = datetime(2026, 11, 26, tzinfo=UTC)
    old_synced = queue(store, 2, status='synced', synced_at=(now - timedelta(days=31)).isoformat())
    new_synced = queue(store, 1, status='synced', synced_at=(now - timedelta(days=29)).isoformat())
    old_queued = queue(store, 1, created_at=(now - timedelta(days=400)).isoformat())
    old_rejected = queue(store, 1, status='rejected', synced_at=None)
    assert remove_old_synced(store, 30, now) == 2
    remaining = {record['id'] for record in store.records()}
    assert remaining == {*new_synced, *old_queued, *old_rejected} and not set(old_synced) & remaining


def test_rejected_records_go_a_set_time_after_the_nightly_upkeep_first_finds_them(store, isolated_settings,
                                                                                 monkeypatch):
    monkeypatch.setenv('KIOSK_REJECTED_RETENTION_DAYS', '90')
    settings = load_settings()
    night = datetime(2026, 11, 26, 9, 15, tzinfo=UTC)
    rejected = queue(store, 2, status='rejected', last_error='HTTP 422', created_at='2024-01-05T10:00:00+00:00')
    kept = [*queue(store, 1, created_at='2024-01-05T10:00:00+00:00'),
            *queue(store, 1, status='synced', synced_at=(night + timedelta(days=89)).isoformat())]
    assert nightly_upkeep(store, settings, night) == (0, 0)  # their 90 days start now, however old they are
    assert nightly_upkeep(store, settings, night + timedelta(days=89)) == (0, 0)
    restarted = SignupStore(isolated_settings)  # the time found is on disk: a restart does not start it again
    restarted.open()
    assert nightly_upkeep(restarted, settings, night + timedelta(days=91)) == (0, 2)
    remaining = {record['id'] for record in restarted.records()}
    assert remaining == set(kept) and not set(rejected) & remaining


def test_health_has_counts_and_times_but_no_personal_data(store, receiver):
    queue(store, 2, name='Zelda Private', email='zelda@example.com')
    report = health(store, make_syncer(store, receiver))
    assert set(report) >= {'status', 'queued', 'rejected', 'last_sync_attempt', 'last_sync_success',
                           'last_sync_error', 'disk_free_mb', 'version', 'kiosk_id'}
    assert report['queued'] == 2 and report['kiosk_id'] == 'test-kiosk'
    text = json.dumps(report)
    assert 'Zelda' not in text and 'zelda@' not in text and '555' not in text


def test_plain_http_is_refused_except_to_this_machine():
    from kiosk.config import ConfigError

    with pytest.raises(ConfigError, match=r'^sync_url \(KIOSK_SYNC_URL\): must use https'):
        load_settings(sync_url='http://department.example.org/signups')
    assert load_settings(sync_url='http://department.example.org/x', sync_allow_http=True).sync_allow_http
    assert load_settings(sync_url='http://[::1]:8000/x').sync_url


async def test_no_url_means_sync_is_off_not_an_error(store):
    syncer = Syncer(load_settings(), store)
    assert (await syncer.sync_pass()).skipped == 'off'
    assert health(store, syncer)['status'] == 'ok' and 'sync_off' in health(store, syncer)['warnings']
