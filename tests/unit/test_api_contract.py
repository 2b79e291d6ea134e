"""The sync contract has one source: the hub's pydantic models. The committed JSON Schema is what they generate,
and the schema and the models give the same verdict on every record, valid or not."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from pydantic import ValidationError as ModelError

from kiosk.hub.api_schema import SCHEMA_PATH, openapi, schema_text, sync_request_schema
from kiosk.hub.ingest import IncomingBatch
from kiosk.signups import payload

SCHEMA = sync_request_schema()


def _ecma_pattern(validator, pattern, instance, schema):
    """JSON Schema patterns are ECMA-262, where `$` is the end of the text; Python's `re` also lets `$` match
    before a final newline. Checked the ECMA way, as the models check them."""
    if validator.is_type(instance, 'string') and not re.search(re.sub(r'\$$', r'\\Z', pattern), instance):
        yield ValidationError(f'{instance!r} does not match {pattern!r}')


EcmaValidator = validators.extend(Draft202012Validator, {'pattern': _ecma_pattern})
VALIDATOR = EcmaValidator(SCHEMA, format_checker=FormatChecker())


def schema_says(body: dict) -> bool:
    return VALIDATOR.is_valid(body)


def model_says(body: dict) -> bool:
    try:
        IncomingBatch.model_validate_json(json.dumps(body))
    except ModelError:
        return False
    return True


def test_the_committed_schema_is_what_the_models_generate():
    assert SCHEMA_PATH.read_text(encoding='utf-8') == schema_text(), 'run: python -m kiosk.hub.api_schema'


def test_the_schema_checks_formats_here():
    """Without rfc3339-validator jsonschema skips date-time silently, and the agreement below would prove less."""
    assert not schema_says({'kiosk_id': 'k', 'sent_at': '2026-02-30T00:00:00Z', 'signups': [KIOSK_RECORD]})


KIOSK_RECORD = payload({'id': str(uuid.uuid4()), 'created_at': datetime.now(timezone(timedelta(hours=-6)))
                        .isoformat(timespec='seconds'), 'program': 'pal', 'name': 'Rosa Díaz',
                        'participant_name': 'Ana', 'phone': '+13145550134', 'email': '', 'contact_method': 'text',
                        'age': 9, 'note': '', 'language': 'es', 'consent': True, 'kiosk_id': 'lobby',
                        'status': 'queued', 'attempts': 0})


def test_what_the_kiosk_sends_is_valid_for_both():
    body = {'kiosk_id': 'lobby', 'sent_at': datetime.now().astimezone().isoformat(), 'signups': [KIOSK_RECORD]}
    assert schema_says(body) and model_says(body)


text = partial(st.text, st.characters(exclude_categories=('Cs',), exclude_characters='\x00'))
offsets = st.integers(-(16 * 60 - 1), 16 * 60 - 1).map(lambda minutes: timezone(timedelta(minutes=minutes)))
date_times = st.builds(lambda moment, spec, zulu: moment.isoformat(timespec=spec).replace('+00:00', 'Z' if zulu
                                                                                          else '+00:00'),
                       st.datetimes(timezones=offsets), st.sampled_from(['seconds', 'milliseconds', 'microseconds']),
                       st.booleans())
records = st.fixed_dictionaries({
    'id': st.builds(lambda value, upper: str(value).upper() if upper else str(value), st.uuids(), st.booleans()),
    'created_at': date_times,
    'program': st.from_regex(r'\A[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}\Z'),
    'name': text(min_size=1, max_size=100), 'participant_name': text(max_size=100),
    'phone': st.just('') | st.from_regex(r'\A\+1[2-9][0-9]{2}[2-9][0-9]{6}\Z'),
    'email': text(max_size=254), 'contact_method': st.sampled_from(['phone', 'text', 'email']),
    'age': st.none() | st.integers(0, 120) | st.integers(0, 120).map(float), 'note': text(max_size=500),
    'language': st.sampled_from(['en', 'es']), 'consent': st.just(True), 'kiosk_id': text(min_size=1, max_size=100)})
batches = st.fixed_dictionaries({'kiosk_id': text(min_size=1, max_size=100), 'sent_at': date_times,
                                 'signups': st.lists(records, min_size=1, max_size=3,
                                                     unique_by=lambda record: record['id'].lower())})


@settings(max_examples=300, deadline=None)
@given(batches)
def test_every_valid_batch_is_valid_for_both(body):
    assert schema_says(body) and model_says(body), body


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                           | st.text(max_size=50), lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=5)
FIELDS = list(SCHEMA['$defs']['IncomingSignup']['properties'])
TRICKY = st.sampled_from(['', 'pal\n', '\n', '+13145550134\n', 'a\u0000b', 'urn:uuid:' + str(uuid.uuid4()),
                          uuid.uuid4().hex, str(uuid.uuid4()).upper(), '{' + str(uuid.uuid4()) + '}',
                          '2026-11-26T10:58-06:00', '2026-11-26 10:58:12-06:00', '2026-11-26T10:58:12-18:58',
                          '2026-11-26T10:58:12.1234567Z', '0000-01-01T00:00:00Z', '2026-11-26t10:58:12z',
                          '2026-11-26T10:58:60Z', '1700000000', 9.0, 9.5, 1e3, True, 121, -1, 'x' * 41, 'x' * 101])


@settings(max_examples=500, deadline=None)
@given(field=st.sampled_from([*FIELDS, 'extra']), value=json_values | TRICKY,
       where=st.sampled_from(['record', 'batch']))
def test_the_schema_and_the_model_agree_on_a_record_with_one_field_changed(field, value, where):
    record = {**KIOSK_RECORD, field: value}
    body = {'kiosk_id': 'lobby', 'sent_at': '2026-11-26T17:05:00+00:00', 'signups': [record]}
    if where == 'batch':
        body = {**body, 'signups': [KIOSK_RECORD], 'sent_at' if field == 'created_at' else field: value}
    assert schema_says(body) == model_says(body), (field, value, where)


@pytest.mark.parametrize('path, method', [('/api/v1/signups', 'post'), ('/api/v1/signups', 'head'),
                                          ('/api/v1/heartbeat', 'post')])
def test_the_openapi_document_names_every_answer_and_bearer_auth(path, method):
    document = openapi()
    answers = document['paths'][path][method]['responses']
    assert '401' in answers and document['security'] == [{'kioskToken': []}]
    if method == 'post':
        assert {'413', '422', '429'} <= set(answers)
        assert 'Retry-After' in answers['429']['headers']
    assert document['openapi'].startswith('3.1')
