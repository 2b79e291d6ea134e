"""The API's contract on a real hub and PostgreSQL: what the schema refuses is a 422 naming the record, never a
500 that would block a kiosk's queue for good; ids in one form; heartbeats bounded; the same key twice in flight."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from tests.support.hub_api import send, signup, stored
from tests.support.processes import add_kiosk


@pytest.fixture(scope='module')
def hub(hub_factory):
    return hub_factory(max_batch='1000', rate_per_minute='1000')


@pytest.fixture
def kiosk(database):
    name = f'lobby-{uuid.uuid4().hex[:8]}'
    return name, add_kiosk(database, name)


def post(hub, token: str, body: bytes, path: str = '/api/v1/signups') -> httpx.Response:
    return httpx.post(hub.url + path, content=body, timeout=30,
                      headers={'Authorization': f'Bearer {token}', 'Content-Type': 'application/json'})


REFUSED = {
    'name with a NUL': {'name': 'Rosa\u0000'},
    'created_at as epoch seconds': {'created_at': '1700000000'},
    'an offset PostgreSQL cannot hold': {'created_at': '2026-11-26T10:58:12-18:58'},
    'created_at without seconds': {'created_at': '2026-11-26T10:58-06:00'},
    'a space for T': {'created_at': '2026-11-26 10:58:12-06:00'},
    'no such day': {'created_at': '2026-02-30T10:58:12-06:00'},
    'a urn id': {'id': 'urn:uuid:' + str(uuid.uuid4())},
    'an id without hyphens': {'id': uuid.uuid4().hex},
    'an id in braces': {'id': '{' + str(uuid.uuid4()) + '}'},
    'a program over 40 characters': {'program': 'p' * 41},
}


@pytest.mark.parametrize('change', REFUSED.values(), ids=REFUSED.keys())
def test_what_the_database_would_refuse_is_a_422_naming_the_record(hub, kiosk, change):
    name, token = kiosk
    answer = send(hub, token, name, [signup(name), signup(name, **change)])
    assert answer.status_code == 422, answer.text
    assert answer.json()['index'] == 1


def test_a_whole_number_age_written_9_0_is_accepted_and_stored_as_9(hub, kiosk, database):
    name, token = kiosk
    record = signup(name)
    body = json.dumps({'kiosk_id': name, 'sent_at': '2026-11-26T17:05:00+00:00', 'signups': [record]})
    answer = post(hub, token, body.replace('"age": 9', '"age": 9.0').encode())
    assert answer.status_code == 200, answer.text
    assert stored(database, record['id'])[0]['body']['age'] == 9


def test_an_upper_case_id_sent_again_is_a_duplicate_not_a_conflict(hub, kiosk, database):
    name, token = kiosk
    record = signup(name, id=str(uuid.uuid4()).upper())
    canonical = record['id'].lower()
    assert send(hub, token, name, [record]).json() == {'accepted': [canonical], 'duplicates': [], 'conflicts': []}
    assert send(hub, token, name, [record]).json() == {'accepted': [], 'duplicates': [canonical], 'conflicts': []}
    with psycopg.connect(database) as conn:
        assert conn.execute('SELECT count(*) FROM signup_conflicts WHERE kiosk = %s', (name,)).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'ingest_conflict' AND actor = %s",
                            (name,)).fetchone()[0] == 0


def test_deeply_nested_json_is_a_422_for_both_endpoints(hub, kiosk):
    _, token = kiosk
    deep = b'{"signups": [' + b'[' * 5000 + b']' * 5000 + b']}'
    assert post(hub, token, deep).status_code == 422
    assert post(hub, token, b'{"a": ' + b'[' * 5000 + b']' * 5000 + b'}', '/api/v1/heartbeat').status_code == 422


@pytest.mark.parametrize('body', [b'{"a": "\\u0000"}', b'{"a": 1e400}', b'{"a": "\\ud800"}', b'{"queued": "x"}',
                                  b'{"warnings": "disk_low"}', b'{"last_sync_success": "yesterday"}', b'[]'],
                         ids=['NUL', 'infinity', 'lone surrogate', 'queued as text', 'warnings as text',
                              'not a time', 'not an object'])
def test_a_heartbeat_the_kiosks_page_could_not_show_is_a_422(hub, kiosk, body):
    _, token = kiosk
    assert post(hub, token, body, '/api/v1/heartbeat').status_code == 422


def test_a_newer_kiosks_extra_heartbeat_fields_are_kept(hub, kiosk, database):
    name, token = kiosk
    beat = {'queued': 1, 'warnings': ['screen_hidden'], 'visit_active': True, 'content_version': '2026-11',
            'last_sync_success': '2026-11-26T17:05:00+00:00', 'printer': None, 'extra': {'nested': [1, 2.5]}}
    assert post(hub, token, json.dumps(beat).encode(), '/api/v1/heartbeat').status_code == 204
    with psycopg.connect(database) as conn:
        assert conn.execute('SELECT body FROM heartbeats WHERE kiosk = %s', (name,)).fetchone()[0] == beat


def test_one_batch_holding_an_id_twice_is_a_422_naming_the_second(hub, kiosk, database):
    name, token = kiosk
    first = signup(name)
    answer = send(hub, token, name, [first, signup(name), {**first, 'name': 'Someone Else'}])
    assert answer.status_code == 422 and answer.json()['index'] == 2
    assert stored(database, first['id']) == []


def test_the_same_idempotency_key_twice_in_flight_gets_one_answer(hub, kiosk):
    name, token = kiosk
    records = [signup(name) for _ in range(1000)]
    body = json.dumps({'kiosk_id': name, 'sent_at': '2026-11-26T17:05:00+00:00', 'signups': records})
    headers = {'Authorization': f'Bearer {token}', 'Idempotency-Key': uuid.uuid4().hex,
               'Content-Type': 'application/json'}
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: httpx.post(hub.signups_url, content=body, headers=headers, timeout=60),
                                range(2)))
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert len(answers[0].json()['accepted']) == 1000
    assert sorted(answer.headers.get('Idempotent-Replayed', '') for answer in answers) == ['', 'true']
