"""`POST /api/v1/signups` on a real hub and PostgreSQL: exactly the body, token and Idempotency-Key kiosks send."""

from __future__ import annotations

import hashlib
import json
import uuid

import httpx
import psycopg
import pytest

from tests.support.hub_api import send, signup, stored
from tests.support.processes import add_kiosk, hub_command


@pytest.fixture(scope='module')
def hub(hub_factory):
    return hub_factory(max_batch='5', max_body_bytes='20000', rate_per_minute='30')


@pytest.fixture
def kiosk(database):
    name = f'lobby-{uuid.uuid4().hex[:8]}'
    return name, add_kiosk(database, name)


def test_a_batch_is_accepted_and_sending_it_again_is_a_harmless_duplicate(hub, kiosk, database):
    name, token = kiosk
    records = [signup(name), signup(name, name='Li Wei', program='citizens-academy', participant_name='', age=None)]
    first = send(hub, token, name, records)
    assert first.status_code == 200
    assert first.json() == {'accepted': [r['id'] for r in records], 'duplicates': [], 'conflicts': []}
    again = send(hub, token, name, records)  # a lost answer: the kiosk sends the same batch with a new key
    assert again.json() == {'accepted': [], 'duplicates': [r['id'] for r in records], 'conflicts': []}
    rows = stored(database, *(r['id'] for r in records))
    assert [(row['name'], row['kiosk']) for row in rows] == [('Li Wei', name), ('Rosa Díaz', name)]


def test_the_same_id_with_other_content_is_a_conflict_kept_aside_never_overwritten(hub, kiosk, database):
    name, token = kiosk
    original = signup(name)
    send(hub, token, name, [original])
    changed = {**original, 'name': 'Someone Else'}
    fresh = signup(name)
    answer = send(hub, token, name, [changed, fresh]).json()
    assert answer == {'accepted': [fresh['id']], 'duplicates': [], 'conflicts': [original['id']]}
    assert stored(database, original['id'])[0]['body'] == original
    with psycopg.connect(database) as conn:
        (aside,) = conn.execute('SELECT body FROM signup_conflicts WHERE signup_id = %s', (original['id'],)).fetchone()
    assert aside == changed


def test_an_unknown_token_gets_401_and_another_kiosks_name_gets_403(hub, kiosk):
    name, token = kiosk
    assert send(hub, 'not-a-token', name, [signup(name)]).status_code == 401
    assert send(hub, token, 'some-other-kiosk', [signup('some-other-kiosk')]).status_code == 403
    assert httpx.post(hub.signups_url, json={}, timeout=10).status_code == 401


def test_a_revoked_kiosk_gets_401_on_its_next_request(hub, kiosk, database):
    name, token = kiosk
    assert send(hub, token, name, [signup(name)]).status_code == 200
    assert hub_command(database, 'revoke-kiosk', name).returncode == 0
    assert send(hub, token, name, [signup(name)]).status_code == 401
    assert httpx.head(hub.signups_url, headers={'Authorization': f'Bearer {token}'}).status_code == 401


def test_a_rotated_token_and_its_predecessor_both_work_during_the_grace_period(hub, kiosk, database):
    name, old = kiosk
    result = hub_command(database, 'rotate-kiosk', name)
    new = result.stdout.strip().splitlines()[-1]
    assert 'the old one works for 7 more days' in result.stdout
    assert send(hub, new, name, [signup(name)]).status_code == 200
    assert send(hub, old, name, [signup(name)]).status_code == 200


def test_a_record_that_breaks_the_schema_gets_422_naming_its_index_and_nothing_is_stored(hub, kiosk, database):
    name, token = kiosk
    good, bad = signup(name), signup(name, phone='555-SECRET')
    answer = send(hub, token, name, [good, bad])
    assert answer.status_code == 422
    assert answer.json() == {'error': 'phone: string_pattern_mismatch', 'index': 1}
    assert 'SECRET' not in answer.text, 'the answer never quotes a value'
    assert stored(database, good['id']) == [], 'the batch is one transaction'
    assert send(hub, token, name, [signup(name, consent=False)]).json()['index'] == 0
    assert send(hub, token, name, [signup(name, age='9')]).status_code == 422  # strict: a number is a number


def test_too_many_records_or_too_many_bytes_get_413(hub, kiosk):
    name, token = kiosk
    assert send(hub, token, name, [signup(name) for _ in range(6)]).status_code == 413
    assert send(hub, token, name, [signup(name, note='x' * 500) for _ in range(5)] * 8).status_code == 413


def test_the_same_idempotency_key_replays_the_answer_and_refuses_another_body(hub, kiosk):
    name, token = kiosk
    records = [signup(name)]
    body = json.dumps({'kiosk_id': name, 'sent_at': '2026-11-26T17:05:00+00:00', 'signups': records})
    headers = {'Authorization': f'Bearer {token}', 'Idempotency-Key': 'same-key', 'Content-Type': 'application/json'}
    first = httpx.post(hub.signups_url, content=body, headers=headers)
    replay = httpx.post(hub.signups_url, content=body, headers=headers)
    assert first.json() == replay.json() == {'accepted': [records[0]['id']], 'duplicates': [], 'conflicts': []}
    assert replay.headers['Idempotent-Replayed'] == 'true'
    other = body.replace(records[0]['id'], str(uuid.uuid4()))
    refused = httpx.post(hub.signups_url, content=other, headers=headers)
    assert refused.status_code == 422 and refused.json()['code'] == 'idempotency_key_reused'


def test_a_retry_after_a_lost_reply_with_a_new_sent_at_is_the_same_request(hub, kiosk, database):
    """The kiosk's retry differs only in the envelope (`sent_at`) and in spacing: the key replays the answer."""
    name, token = kiosk
    records = [signup(name)]
    first = send(hub, token, name, records, key='retry-key', sent_at='2026-11-26T17:05:00+00:00')
    retry = httpx.post(hub.signups_url, headers={'Authorization': f'Bearer {token}', 'Idempotency-Key': 'retry-key',
                                                 'Content-Type': 'application/json'},
                       content=json.dumps({'sent_at': '2026-11-26T17:05:09+00:00', 'kiosk_id': name,
                                           'signups': records}, indent=1, ensure_ascii=False))
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json() and retry.headers['Idempotent-Replayed'] == 'true'
    assert len(stored(database, records[0]['id'])) == 1


def test_a_key_remembered_by_an_older_hub_for_the_whole_body_is_harmless(hub, kiosk, database):
    """Before the upgrade the hub hashed the whole body; for 24 h such a row matches no retry. Same records: stored
    once, answered 200 as duplicates (an older kiosk would have rejected a 422); other records: refused."""
    name, token = kiosk
    records = [signup(name)]
    raw = json.dumps({'kiosk_id': name, 'sent_at': '2026-11-26T17:05:00+00:00', 'signups': records})
    headers = {'Authorization': f'Bearer {token}', 'Idempotency-Key': 'old-key', 'Content-Type': 'application/json'}
    assert httpx.post(hub.signups_url, content=raw, headers=headers).status_code == 200
    with psycopg.connect(database) as conn:  # what the older hub kept
        conn.execute('UPDATE idempotency_keys SET body_sha256 = %s WHERE kiosk = %s AND key = %s',
                     (hashlib.sha256(raw.encode()).digest(), name, 'old-key'))
    retry = httpx.post(hub.signups_url, content=raw.replace('17:05:00', '17:05:30'), headers=headers)
    assert retry.status_code == 200
    assert retry.json() == {'accepted': [], 'duplicates': [records[0]['id']], 'conflicts': []}
    assert len(stored(database, records[0]['id'])) == 1
    again = httpx.post(hub.signups_url, content=raw.replace('17:05:00', '17:06:00'), headers=headers)
    assert again.headers['Idempotent-Replayed'] == 'true', 'the new hash was remembered'
    other = send(hub, token, name, [signup(name)], key='old-key')
    assert other.status_code == 422 and other.json()['code'] == 'idempotency_key_reused'


def test_a_kiosk_over_its_rate_gets_429_with_retry_after_from_every_hub_process(hub, hub_factory, kiosk):
    name, token = kiosk
    second_hub = hub_factory(rate_per_minute='30')  # behind one balancer, the two count together
    answers = [send(hub if turn % 2 else second_hub, token, name, [signup(name)]).status_code for turn in range(31)]
    assert answers[:30] == [200] * 30 and answers[30] == 429
    limited = send(hub, token, name, [signup(name)])
    assert 1 <= int(limited.headers['Retry-After']) <= 60


def test_heartbeat_keeps_the_latest_per_kiosk_and_head_checks_the_token(hub, kiosk, database):
    name, token = kiosk
    auth = {'Authorization': f'Bearer {token}'}
    for queued in (3, 0):
        assert httpx.post(hub.url + '/api/v1/heartbeat', json={'queued': queued, 'content_hash': 'abc'},
                          headers=auth).status_code == 204
    with psycopg.connect(database) as conn:
        (body,) = conn.execute('SELECT body FROM heartbeats WHERE kiosk = %s', (name,)).fetchone()
    assert body == {'queued': 0, 'content_hash': 'abc'}
    assert httpx.head(hub.signups_url, headers=auth).status_code == 204
    assert httpx.post(hub.url + '/api/v1/heartbeat', json={}, headers={'Authorization': 'Bearer x'}).status_code == 401
