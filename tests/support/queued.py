"""Sign-ups waiting on a kiosk in tests: written into a real store, as a visitor's Send would have left them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from kiosk.storage.store import SignupStore


def queue(store: SignupStore, count: int, **fields) -> list[str]:
    ids = []
    base = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(count):
        record = {'id': str(uuid.uuid4()), 'created_at': (base + timedelta(seconds=n)).isoformat(), 'program': 'pal',
                  'name': f'Person {n}', 'participant_name': '', 'phone': '+13145550134', 'email': '',
                  'contact_method': 'phone', 'age': None, 'note': '', 'language': 'en', 'consent': True,
                  'kiosk_id': 'test-kiosk', 'status': 'queued', 'attempts': 0, 'last_error': None,
                  'synced_at': None, 'pulled_at': None, **fields}
        store.add(record)
        ids.append(record['id'])
    return ids
