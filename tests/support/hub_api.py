"""A kiosk's side of the hub's API in tests: a sign-up as a kiosk sends it, the POST itself, and what the hub stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import psycopg


def signup(kiosk: str, **fields) -> dict:
    return {'id': str(uuid.uuid4()), 'created_at': '2026-11-26T10:58:12-06:00', 'program': 'pal',
            'name': 'Rosa Díaz', 'participant_name': 'Ana', 'phone': '+13145550134', 'email': '',
            'contact_method': 'phone', 'age': 9, 'note': '', 'language': 'es', 'consent': True, 'kiosk_id': kiosk,
            **fields}


def send(hub, token: str, kiosk: str, records: list[dict], key: str | None = None, **extra) -> httpx.Response:
    body = {'kiosk_id': kiosk, 'sent_at': datetime.now(UTC).isoformat(), 'signups': records, **extra}
    headers = {'Authorization': f'Bearer {token}', 'Idempotency-Key': key or uuid.uuid4().hex}
    return httpx.post(hub.signups_url, json=body, headers=headers, timeout=30)


def stored(database: str, *ids: str) -> list[dict]:
    with psycopg.connect(database, row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute('SELECT id::text, kiosk, name, body FROM signups WHERE id = ANY(%s::uuid[]) ORDER BY name',
                            (list(ids),)).fetchall()
