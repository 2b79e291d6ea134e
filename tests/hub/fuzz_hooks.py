"""Loaded by the Schemathesis CLI (SCHEMATHESIS_HOOKS): a batch that is valid names the token's own kiosk, or the
hub's 403 would turn every valid batch away (an invalid kiosk_id is left as generated, so invalid stays invalid);
each batch gets its own Idempotency-Key, as a kiosk's batches do (one key for two bodies is a documented 422); and
a record whose id repeats an earlier one of its batch gets a fresh id (one id twice is a 422 JSON Schema cannot
express)."""

import os
import re
import uuid

import schemathesis

KIOSK = os.environ['KIOSK_FUZZ_KIOSK']
UUID = re.compile(r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')


@schemathesis.hook
def map_body(context, body):
    name = body.get('kiosk_id') if isinstance(body, dict) else None
    if not isinstance(body, dict):
        return body
    if isinstance(name, str) and 1 <= len(name) <= 100 and '\x00' not in name and 'signups' in body:
        body = {**body, 'kiosk_id': KIOSK}
    if isinstance(body.get('signups'), list):
        body = {**body, 'signups': _unique_ids(body['signups'])}
    return body


def _unique_ids(records):
    seen, out = set(), []
    for record in records:
        if isinstance(record, dict) and isinstance(record.get('id'), str) and UUID.fullmatch(record['id']):
            if record['id'].lower() in seen:
                record = {**record, 'id': str(uuid.uuid4())}
            seen.add(record['id'].lower())
        out.append(record)
    return out


@schemathesis.hook
def map_headers(context, headers):
    if headers and 'Idempotency-Key' in headers:
        return {**headers, 'Idempotency-Key': f'{headers["Idempotency-Key"]}-{uuid.uuid4().hex}'}
    return headers
