"""The sync contract on the receiving side: who is sending, how much, whether it was seen before.

A batch is stored in one transaction. A record whose id is already stored with the same content is a
duplicate (the kiosk's answer got lost and it sent again): fine. The same id with other content is a
conflict: kept aside for an admin, never written over the original. The answer names each id under
`accepted`, `duplicates` or `conflicts`. Replies never quote a record's values: they are personal data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from kiosk.hub import db
from kiosk.hub.auth import token_digest
from kiosk.hub.config import HubSettings

HEARTBEAT_MAX_BYTES = 64 * 1024
KioskName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class IncomingSignup(BaseModel):
    """One record of assets/sync-request.schema.json, checked strictly."""

    model_config = ConfigDict(extra='forbid', strict=True)

    id: UUID
    created_at: AwareDatetime
    program: Annotated[str, StringConstraints(pattern=r'^[a-z0-9]+(-[a-z0-9]+)*$', max_length=40)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    participant_name: Annotated[str, StringConstraints(max_length=100)]
    phone: Annotated[str, StringConstraints(pattern=r'^(\+1[2-9][0-9]{2}[2-9][0-9]{6})?$')]
    email: Annotated[str, StringConstraints(max_length=254)]
    contact_method: Literal['phone', 'text', 'email']
    age: Annotated[int, Field(ge=0, le=120)] | None
    note: Annotated[str, StringConstraints(max_length=500)]
    language: Literal['en', 'es']
    consent: Literal[True]
    kiosk_id: KioskName


class IncomingBatch(BaseModel):
    model_config = ConfigDict(extra='forbid', strict=True)

    kiosk_id: KioskName
    sent_at: AwareDatetime
    signups: Annotated[list[IncomingSignup], Field(min_length=1)]


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


UNKNOWN_TOKEN = Answer(401, {'error': 'unknown, expired or revoked token'}, {'WWW-Authenticate': 'Bearer'})


class Receiver:
    def __init__(self, settings: HubSettings, pool: AsyncConnectionPool) -> None:
        self.settings = settings
        self.pool = pool

    async def kiosk_for(self, authorization: str | None) -> str | None:
        async with self.pool.connection() as conn:
            return await _kiosk_for(conn, authorization)

    async def signups(self, authorization: str | None, idempotency_key: str | None,
                      body: AsyncIterator[bytes]) -> Answer:
        """`body` is read only once the token is known, and only up to MAX_BODY_BYTES."""
        token_sha256 = _bearer_digest(authorization)
        if token_sha256 is None:
            return UNKNOWN_TOKEN
        async with self.pool.connection() as conn:  # one round trip for who is asking and whether they may
            kiosk, wait = await db.admit_kiosk(conn, token_sha256, self.settings.rate_per_minute)
        if kiosk is None:
            return UNKNOWN_TOKEN
        if wait:
            return Answer(429, {'error': 'too many requests'}, {'Retry-After': str(wait)})
        raw = await read_at_most(body, self.settings.max_body_bytes)
        if raw is None:
            return Answer(413, {'error': f'body over {self.settings.max_body_bytes} bytes'})
        try:
            data = json.loads(raw)
        except ValueError:
            return Answer(422, {'error': 'not JSON'})
        if not isinstance(data, dict) or not isinstance(data.get('signups'), list):
            return Answer(422, {'error': 'not a sync request', 'index': None})
        if len(data['signups']) > self.settings.max_batch:
            return Answer(413, {'error': f'more than {self.settings.max_batch} records in one batch'})
        try:
            IncomingBatch.model_validate_json(raw)
        except ValidationError as error:
            return Answer(422, _describe(error))
        if data['kiosk_id'] != kiosk:
            return Answer(403, {'error': 'kiosk_id is not the kiosk this token belongs to'})
        digest = hashlib.sha256(raw).digest()
        async with self.pool.connection() as conn, conn.transaction():
            if idempotency_key and (seen := await db.remembered_response(conn, kiosk, idempotency_key)):
                if bytes(seen['body_sha256']) != digest:
                    return Answer(422, {'error': 'this Idempotency-Key was used for another body in the last 24 h'})
                return Answer(200, seen['response'], {'Idempotent-Replayed': 'true'})
            response = await self._store(conn, kiosk, data['signups'])
            if idempotency_key:
                await db.remember_response(conn, kiosk, idempotency_key, digest, response)
        return Answer(200, response)

    async def _store(self, conn, kiosk: str, records: list[dict[str, Any]]) -> dict[str, list[str]]:
        accepted = await db.insert_signups(conn, kiosk, records)
        others = [record for record in records if record['id'] not in accepted]
        stored = await db.stored_bodies(conn, [record['id'] for record in others]) if others else {}
        conflicts = [record for record in others if stored.get(record['id']) != record]
        if conflicts:
            await db.store_conflicts(conn, kiosk, conflicts)
            await db.audit(conn, kiosk, 'ingest_conflict', {'ids': [record['id'] for record in conflicts]})
        conflict_ids = {record['id'] for record in conflicts}
        return {'accepted': [record['id'] for record in records if record['id'] in accepted],
                'duplicates': [record['id'] for record in others if record['id'] not in conflict_ids],
                'conflicts': sorted(conflict_ids)}

    async def heartbeat(self, authorization: str | None, body: AsyncIterator[bytes]) -> Answer:
        kiosk = await self.kiosk_for(authorization)
        if kiosk is None:
            return UNKNOWN_TOKEN
        raw = await read_at_most(body, HEARTBEAT_MAX_BYTES)
        if raw is None:
            return Answer(413, {'error': f'heartbeat over {HEARTBEAT_MAX_BYTES} bytes'})
        try:
            body = json.loads(raw)
        except ValueError:
            return Answer(422, {'error': 'not JSON'})
        if not isinstance(body, dict):
            return Answer(422, {'error': 'a heartbeat is a JSON object'})
        async with self.pool.connection() as conn:
            await db.save_heartbeat(conn, kiosk, body)
        return Answer(204, {})


async def read_at_most(chunks: AsyncIterator[bytes], limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes: the rest is never read, so never held.

    A chunked upload has no Content-Length to check up front; counting as it arrives is the only bound.
    """
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def _kiosk_for(conn: AsyncConnection, authorization: str | None) -> str | None:
    """The kiosk whose live token is in a `Bearer` header, or None."""
    token_sha256 = _bearer_digest(authorization)
    return None if token_sha256 is None else await db.kiosk_for_token(conn, token_sha256)


def _bearer_digest(authorization: str | None) -> bytes | None:
    scheme, _, token = (authorization or '').partition(' ')
    if scheme.lower() != 'bearer' or not token.strip():
        return None
    return token_digest(token.strip())


def _describe(error: ValidationError) -> dict[str, Any]:
    """Where the first problem is (record index and field) and what kind it is, without the value itself."""
    first = error.errors()[0]
    location = list(first['loc'])
    index = location[1] if len(location) >= 2 and location[0] == 'signups' and isinstance(location[1], int) else None
    where = '.'.join(str(part) for part in (location[2:] if index is not None else location))
    return {'error': f'{where or "body"}: {first["type"]}', 'index': index}

