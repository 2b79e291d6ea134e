"""The API's contract, generated from the models the hub validates with: the sync request's JSON Schema and the
OpenAPI 3.1 document served at /api/v1/openapi.json. `python -m kiosk.hub.api_schema` rewrites the asset."""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic import BaseModel

from kiosk import version
from kiosk.bundle import MEDIA_TYPE
from kiosk.hub.ingest import Heartbeat, IncomingBatch
from kiosk.paths import ASSETS_DIR

SCHEMA_PATH = ASSETS_DIR / 'sync-request.schema.json'
SCHEMA_ID = 'https://slmpd.example/kiosk/sync-request.schema.json'


def sync_request_schema() -> dict[str, Any]:
    """assets/sync-request.schema.json: a standalone JSON Schema 2020-12 document."""
    return {'$schema': 'https://json-schema.org/draft/2020-12/schema', '$id': SCHEMA_ID,
            **IncomingBatch.model_json_schema()}


def schema_text() -> str:
    return json.dumps(sync_request_schema(), indent=2, ensure_ascii=False) + '\n'


class Accepted(BaseModel):
    """Every record of the batch is kept: each id is named once, under one of the three."""

    accepted: list[str]
    duplicates: list[str]
    conflicts: list[str]


class Problem(BaseModel):
    """Why the request was refused. Never quotes a value: values are personal data."""

    error: str
    index: int | None = None


def openapi() -> dict[str, Any]:
    components: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template='#/components/schemas/{model}')
        components.update(schema.pop('$defs', {}))
        components[model.__name__] = schema
        return {'$ref': f'#/components/schemas/{model.__name__}'}

    def answer(description: str, model: type[BaseModel] | None = Problem, **headers: str) -> dict[str, Any]:
        body: dict[str, Any] = {'description': description}
        if model:
            body['content'] = {'application/json': {'schema': ref(model)}}
        if headers:
            body['headers'] = {name: {'description': text, 'schema': {'type': 'integer' if name == 'Retry-After'
                                                                         else 'string'}}
                               for name, text in headers.items()}
        return body

    unauthorized = answer('Unknown, expired or revoked token', WWW_Authenticate='Bearer')
    unauthorized['headers'] = {'WWW-Authenticate': unauthorized['headers'].pop('WWW_Authenticate')}
    etag = {'description': "The bundle's SHA-256 in quotes (a strong ETag)", 'schema': {'type': 'string'}}
    refusals = {'401': unauthorized,
                '413': answer('Body (or batch) over the hub\'s limit'),
                '422': answer('Not JSON, or not the contract: `index` names the first bad record'),
                '429': answer('Over the kiosk\'s rate', **{'Retry-After': 'Seconds to wait'})}
    return {
        'openapi': '3.1.0',
        'info': {'title': 'SLMPD Kiosk Hub API', 'version': version(),
                 'description': 'What kiosks send the hub (sign-ups, the sync contract, and heartbeats) and what they '
                                'fetch from it (published content).'},
        'paths': {
            '/api/v1/signups': {
                'post': {
                    'operationId': 'sendSignups',
                    'summary': 'Send a batch of sign-ups; stored in one transaction',
                    'parameters': [{'name': 'Idempotency-Key', 'in': 'header', 'required': False,
                                    'schema': {'type': 'string'},
                                    'description': 'The same key again within 24 h replays the answer'}],
                    'requestBody': {'required': True, 'content': {'application/json': {'schema': ref(IncomingBatch)}}},
                    'responses': {'200': answer('Every record is kept (or was already)', Accepted),
                                  **refusals,
                                  '403': answer("kiosk_id is not the token's kiosk")},
                },
                'head': {
                    'operationId': 'checkToken',
                    'summary': 'Is the hub there, and does it know this token? (`kiosk doctor`)',
                    'responses': {'204': answer('Token known', None), '401': answer('Token unknown', None)},
                },
            },
            '/api/v1/content': {
                'get': {
                    'operationId': 'fetchContent',
                    'summary': 'The newest signed content bundle meant for this kiosk (docs/content.md)',
                    'parameters': [{'name': 'If-None-Match', 'in': 'header', 'required': False,
                                    'schema': {'type': 'string'},
                                    'description': 'The ETag of the bundle the kiosk has: 304 if it is still the '
                                                   'newest'}],
                    'responses': {
                        '200': {'description': 'The bundle: a tar of manifest.json, manifest.sig and the files',
                                'headers': {'ETag': etag},
                                'content': {MEDIA_TYPE: {'schema': {'type': 'string', 'format': 'binary'}}}},
                        '204': answer('Nothing is published for this kiosk: it keeps what it has', None),
                        '304': {'description': 'The kiosk has the newest bundle', 'headers': {'ETag': etag}},
                        '401': unauthorized,
                    },
                },
            },
            '/api/v1/heartbeat': {
                'post': {
                    'operationId': 'sendHeartbeat',
                    'summary': "The kiosk's health; the latest per kiosk is kept for the Kiosks page",
                    'requestBody': {'required': True, 'content': {'application/json': {'schema': ref(Heartbeat)}}},
                    'responses': {'204': answer('Kept', None), **refusals},
                },
            },
        },
        'components': {'schemas': components,
                       'securitySchemes': {'kioskToken': {'type': 'http', 'scheme': 'bearer',
                                                          'description': 'Made by `kiosk hub add-kiosk`'}}},
        'security': [{'kioskToken': []}],
    }


def main() -> None:
    SCHEMA_PATH.write_text(schema_text(), encoding='utf-8')
    print(f'wrote {SCHEMA_PATH}', file=sys.stderr)


if __name__ == '__main__':
    main()
