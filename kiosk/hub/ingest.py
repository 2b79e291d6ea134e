"""The sync contract on the receiving side: who is sending, how much, whether it was seen before.

A batch is stored in one transaction. A record whose id is already stored with the same content is a
duplicate (the kiosk's answer got lost and it sent again): fine. The same id with other content is a
conflict: kept aside for an admin, never written over the original, unless the stored one was anonymized:
then the copy is dropped and answered as a duplicate, so the personal data never comes back. The answer names
each id under `accepted`, `duplicates` or `conflicts`. Replies never quote a record's values: they are personal
data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from annotated_types import Interval
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypeAliasType

from kiosk.hub import db
from kiosk.hub.auth import token_digest
from kiosk.hub.config import HubSettings

HEARTBEAT_MAX_BYTES = 64 * 1024
IDEMPOTENCY_KEY_REUSED = 'idempotency_key_reused'  # `code` of the 422 that refuses only the key, not the records
MAX_BATCH = 1000
# A JSON string PostgreSQL's jsonb can hold: no NUL (lone surrogates never get past the JSON parser).
NO_NUL = r'^[^\u0000]*$'
# RFC 3339 as the kiosk writes it (isoformat), narrowed to what PostgreSQL and Python both take:
# years 0001-9999, seconds always, at most 6 fractional digits, offsets up to 15:59.
DATE_TIME = (r'^([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])'
             r'T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-5]):[0-5][0-9])$')
UUID_TEXT = r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'


def _real_date(text: str) -> str:
    datetime.fromisoformat(text)  # the pattern lets 2026-02-30 through; the calendar does not
    return text


def _whole_number(value: Any) -> Any:
    """JSON Schema's integer includes 9.0; it is stored as 9."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def Text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_NUL)]


DateTime = Annotated[str, StringConstraints(pattern=DATE_TIME), AfterValidator(_real_date),
                     WithJsonSchema({'type': 'string', 'format': 'date-time', 'pattern': DATE_TIME})]
# Compared and stored in one form everywhere: the database hands uuids back lower-case.
RecordId = Annotated[str, StringConstraints(pattern=UUID_TEXT), AfterValidator(str.lower),
                     WithJsonSchema({'type': 'string', 'format': 'uuid', 'pattern': UUID_TEXT})]
KioskName = Text(100, min_length=1)


class IncomingSignup(BaseModel):
    """One sign-up as the kiosk's `payload()` makes it."""

    model_config = ConfigDict(extra='forbid', strict=True, title='signup')

    id: RecordId = Field(description='Made once on the kiosk; the idempotency key.')
    created_at: DateTime = Field(description="ISO 8601 with the kiosk's UTC offset.")
    program: Annotated[str, StringConstraints(pattern=r'^[a-z0-9]+(-[a-z0-9]+)*$', max_length=40)] = Field(
        description='citizens-academy, police-explorers, hmca, pal or outreach')
    name: Text(100, min_length=1) = Field(description='The person to contact.')
    participant_name: Text(100) = Field(description="The child's first name for PAL; empty otherwise.")
    phone: Annotated[str, StringConstraints(pattern=r'^(\+1[2-9][0-9]{2}[2-9][0-9]{6})?$')] = Field(
        description='E.164 or empty.')
    email: Text(254)
    contact_method: Literal['phone', 'text', 'email']
    age: Annotated[int, Interval(ge=0, le=120), BeforeValidator(_whole_number)] | None
    note: Text(500)
    language: Literal['en', 'es']
    consent: Literal[True]
    kiosk_id: KioskName


class IncomingBatch(BaseModel):
    """Body of POST <KIOSK_SYNC_URL>. Headers: Authorization: Bearer <token>, Content-Type: application/json,
    Idempotency-Key: sha256 hex of the batch's signups sorted by id, as canonical JSON (sorted keys, no spaces,
    UTF-8); the same records always carry the same key. Any 2xx accepts every record in the batch. The receiver
    must de-duplicate by record id: a batch may arrive again after a lost answer."""

    model_config = ConfigDict(extra='forbid', strict=True, title='Kiosk sign-up sync request')

    kiosk_id: KioskName
    sent_at: DateTime
    signups: Annotated[list[IncomingSignup], Field(min_length=1, max_length=MAX_BATCH)]

    @field_validator('signups')
    @classmethod
    def _one_copy_per_id(cls, signups: list[IncomingSignup]) -> list[IncomingSignup]:
        seen: set[str] = set()
        for index, record in enumerate(signups):
            if record.id in seen:
                raise PydanticCustomError('duplicate_id', 'record {index} repeats an earlier id', {'index': index})
            seen.add(record.id)
        return signups


KEY = {'maxLength': 100, 'pattern': NO_NUL}  # pydantic's schema leaves a dict key's pattern out
# What a heartbeat may carry beyond the fields the hub reads: plain JSON, bounded, storable in jsonb.
JsonValue = TypeAliasType('JsonValue', Union[  # noqa: UP007 (a recursive alias needs the explicit Union)
    StrictBool, Annotated[int, Field(ge=-(2 ** 63), le=2 ** 63 - 1)],
    Annotated[float, Field(allow_inf_nan=False)], Text(1000),
    Annotated[list['JsonValue'], Field(max_length=100)],
    Annotated[dict[Text(100), 'JsonValue'], Field(max_length=100, json_schema_extra={'propertyNames': KEY})], None])
Count = Annotated[int, Interval(ge=0, le=2 ** 31 - 1), BeforeValidator(_whole_number)] | None


class Heartbeat(BaseModel):
    """What a kiosk's scheduler sends every sync interval (kiosk/health.py, and what content runs from
    kiosk/published.py). The fields the Kiosks page reads are typed; newer kiosks' extra fields (`content_version`,
    `content_sha256`, `content_staged`, `content_error` among them) pass if they are plain, bounded JSON."""

    model_config = ConfigDict(extra='allow', strict=True, title='Heartbeat', json_schema_extra={'propertyNames': KEY})
    __pydantic_extra__: dict[Text(100), JsonValue]

    status: Text(40) | None = None
    queued: Count = None
    synced: Count = None
    rejected: Count = None
    last_sync_attempt: DateTime | None = None
    last_sync_success: DateTime | None = None
    last_sync_error: Text(1000) | None = None
    disk_free_mb: Annotated[int, Interval(ge=0, le=2 ** 63 - 1), BeforeValidator(_whole_number)] | None = None
    version: Text(100) | None = None
    kiosk_id: KioskName | None = None
    printer: Text(40) | None = None
    warnings: Annotated[list[Text(100)], Field(max_length=50)] = Field(default_factory=list)
    content_hash: Text(128) | None = None


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
            return await kiosk_for_bearer(conn, authorization)

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
            batch = IncomingBatch.model_validate_json(raw)
        except ValidationError as error:
            return Answer(422, _describe(error))
        if len(batch.signups) > self.settings.max_batch:
            return Answer(413, {'error': f'more than {self.settings.max_batch} records in one batch'})
        if batch.kiosk_id != kiosk:
            return Answer(403, {'error': 'kiosk_id is not the kiosk this token belongs to'})
        records = [record.model_dump() for record in batch.signups]
        canonical = canonical_json(records)
        digest = hashlib.sha256(canonical.encode()).digest()
        async with self.pool.connection() as conn, conn.transaction():
            if idempotency_key:  # the same key in flight twice: the second waits for the first's answer
                await db.lock_idempotency_key(conn, kiosk, idempotency_key)
            if idempotency_key and (seen := await db.remembered_response(conn, kiosk, idempotency_key)):
                if bytes(seen['body_sha256']) == digest:
                    return Answer(200, seen['response'], {'Idempotent-Replayed': 'true'})
                if _answered_ids(seen['response']) != {record['id'] for record in records}:
                    return Answer(422, {'error': 'this Idempotency-Key was used for other records in the last 24 h',
                                        'code': IDEMPOTENCY_KEY_REUSED})
                # The same records, hashed otherwise (remembered by a hub that hashed the whole body): storing
                # them again is safe, since records are de-duplicated by id; the new hash is remembered.
            response = await self._store(conn, kiosk, records, canonical)
            if idempotency_key:
                await db.remember_response(conn, kiosk, idempotency_key, digest, response)
        return Answer(200, response)

    async def _store(self, conn, kiosk: str, records: list[dict[str, Any]], canonical: str) -> dict[str, list[str]]:
        accepted = await db.insert_signups(conn, kiosk, canonical)
        others = [record for record in records if record['id'] not in accepted]
        stored = await db.stored_bodies(conn, [record['id'] for record in others]) if others else {}
        conflicts = [record for record in others if stored.get(record['id']) != record]
        if conflicts:  # an anonymized sign-up's later copy is answered as stored, and nothing of it is kept
            anonymized = await db.anonymized_among(conn, [record['id'] for record in conflicts])
            conflicts = [record for record in conflicts if record['id'] not in anonymized]
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
            heartbeat = Heartbeat.model_validate_json(raw)
        except ValidationError as error:
            return Answer(422, _describe(error))
        async with self.pool.connection() as conn:
            await db.save_heartbeat(conn, kiosk, heartbeat.model_dump(exclude_unset=True))
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


def canonical_json(signups: list[Any]) -> str:
    """The records as the hub hashes and stores them: an Idempotency-Key is remembered with the SHA-256 of this
    text, the records only, so that a retry with a new `sent_at` (or other spacing or key order) is recognised as
    the same request."""
    return json.dumps(signups, sort_keys=True, separators=(',', ':'), ensure_ascii=False)


def _answered_ids(response: dict[str, Any]) -> set[str]:
    return {record_id for outcome in ('accepted', 'duplicates', 'conflicts') for record_id in response.get(outcome, [])}


async def kiosk_for_bearer(conn: AsyncConnection, authorization: str | None) -> str | None:
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
    if first['type'] == 'duplicate_id':
        location = ['signups', first['ctx']['index'], 'id']
    index = location[1] if len(location) >= 2 and location[0] == 'signups' and isinstance(location[1], int) else None
    where = '.'.join(str(part) for part in (location[2:] if index is not None else location))
    return {'error': f'{where or "body"}: {first["type"]}', 'index': index}

