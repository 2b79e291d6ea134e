"""Sync: queued sign-ups reach the department's endpoint exactly once, whatever the network does.

A record is marked synced only after a 2xx for a batch that contained it; the receiver de-duplicates
by record id, so sending a batch again after a lost answer is harmless. Outages back off
exponentially with full jitter; a bad record is found by splitting its batch and rejected alone; wrong
credentials pause sync until they change. One pass runs at a time across processes (sync.lock), and
the store's own lock is never held while waiting on the network.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from filelock import FileLock, Timeout
from pydantic import SecretStr

from kiosk.config import Settings
from kiosk.signups import payload
from kiosk.storage.atomic import write_atomically
from kiosk.storage.store import SignupStore

if TYPE_CHECKING:  # httpx is imported on first use: serving the first screen after a power cut does not need it
    import httpx

log = logging.getLogger('kiosk.sync')

STATE_NAME = 'sync-state.json'
RETRYABLE_STATUS = {408, 429}
ERROR_TEXT_MAX = 300
MARK_SYNCED_EVERY = 1000  # acknowledged records marked `synced` on disk per store rewrite


@dataclass
class SyncState:
    """What staff and /healthz see; persisted so a restart neither forgets a pause nor resets backoff."""

    last_attempt: str | None = None
    last_success: str | None = None
    last_error: str | None = None
    failures: int = 0
    failing_since: float | None = None  # wall-clock seconds of the first failure since the last success
    backoff_until: float = 0.0  # wall-clock seconds
    paused_for_token: str | None = None  # fingerprint of the token the receiver refused

    @classmethod
    def load(cls, path: Path) -> SyncState:
        try:
            return cls(**json.loads(path.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return cls()

    def save(self, path: Path) -> None:
        write_atomically(path, json.dumps(asdict(self)).encode())


@dataclass
class SyncReport:
    sent: int = 0  # records that got a final answer: accepted + rejected
    accepted: int = 0
    rejected: int = 0
    queued: int = 0
    error: str | None = None
    skipped: str | None = None  # why no pass ran: 'off', 'backoff', 'paused', 'busy'
    batches: list[int] = field(default_factory=list)


class _Retry(Exception):
    """The endpoint could not take the batch now; try the whole queue again later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Refused(Exception):
    """401/403: the kiosk's credentials are wrong."""


def heartbeat_url(sync_url: str) -> str:
    """Beside the sign-ups endpoint: https://hub/api/v1/signups -> https://hub/api/v1/heartbeat."""
    return urljoin(sync_url, 'heartbeat')


def content_url(sync_url: str) -> str:
    """Beside the sign-ups endpoint: https://hub/api/v1/signups -> https://hub/api/v1/content."""
    return urljoin(sync_url, 'content')


def token_fingerprint(token: SecretStr | None) -> str:
    """Remembers which token was refused without storing it."""
    return hashlib.sha256((token.get_secret_value() if token else '').encode()).hexdigest()[:16]


def idempotency_key(signups: list[dict[str, Any]]) -> str:
    """The same for the same records however often they are sent: sha256 hex of their canonical JSON, by id."""
    canonical = json.dumps(sorted(signups, key=lambda signup: signup['id']), sort_keys=True, separators=(',', ':'),
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def refuses_only_the_key(response: httpx.Response) -> bool:
    """A 422 about the Idempotency-Key, not about the records: this hub's `code`, or an older hub's words
    (it hashed the whole body, so a retry with a new `sent_at` looked like another request)."""
    if response.status_code != 422:
        return False
    try:
        answer = response.json()
    except ValueError:
        return False
    return isinstance(answer, dict) and (answer.get('code') == 'idempotency_key_reused'
                                         or 'idempotency-key' in str(answer.get('error', '')).lower())


def backoff_delay(failures: int, interval: float, cap: float, rng: Callable[[], float]) -> float:
    """Full jitter: uniform in [0, min(cap, interval * 2**failures)], so it starts near the interval."""
    return rng() * min(cap, interval * 2 ** failures)


class Syncer:
    def __init__(self, settings: Settings, store: SignupStore, *, clock: Callable[[], float] = time.time,
                 rng: Callable[[], float] = random.random, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.rng = rng
        self._transport = transport
        self._state_path = settings.data_dir / STATE_NAME
        self._lock = FileLock(settings.data_dir / 'sync.lock', mode=0o600, thread_local=False)  # acquired off-loop
        self._running = False
        self._again = False

    @property
    def configured(self) -> bool:
        return bool(self.settings.sync_url)

    def state(self) -> SyncState:
        return SyncState.load(self._state_path)

    @property
    def paused(self) -> bool:
        paused_for = self.state().paused_for_token
        return paused_for is not None and paused_for == token_fingerprint(self.settings.sync_token)

    def failing_for(self, state: SyncState) -> float:
        """Seconds since the first failed pass after the last success; 0 while sync works."""
        return max(0.0, self.clock() - state.failing_since) if state.failures and state.failing_since else 0.0

    def request(self) -> bool:
        """Ask for a pass now. Returns False if one is running: it will go round once more instead."""
        if self._running:
            self._again = True
            return False
        return True

    async def sync_pass(self, *, force: bool = False, wait: float = 0) -> SyncReport:
        """Send everything queued, in batches, until the queue is empty or the endpoint stops taking it.

        `force` (staff "Sync now", `kiosk sync`) ignores backoff and a credentials pause.
        """
        if not self.configured:
            return SyncReport(skipped='off')
        try:
            await asyncio.to_thread(self._lock.acquire, timeout=wait)
        except Timeout:
            return SyncReport(skipped='busy')
        self._running = True
        try:
            report = await self._pass(force)
            while self._again:  # a "Sync now" arrived mid-pass: honour it, whatever this pass met
                self._again = False
                report = await self._pass(force=True)
            return report
        finally:
            self._running = self._again = False
            self._lock.release()

    async def _pass(self, force: bool) -> SyncReport:
        state = await asyncio.to_thread(self.state)
        now = self.clock()
        if not force and state.paused_for_token == token_fingerprint(self.settings.sync_token):
            return SyncReport(skipped='paused')
        if not force and now < state.backoff_until:
            return SyncReport(skipped='backoff')
        report = SyncReport()
        state.last_attempt = _iso(now)
        import httpx

        async with httpx.AsyncClient(timeout=self.settings.sync_timeout_seconds, transport=self._transport,
                                     verify=True, follow_redirects=False) as client:
            tried: set[str] = set()
            accepted: dict[str, str] = {}  # acknowledged, not yet marked on disk: id -> synced_at
            size = self.settings.sync_batch_size
            try:
                # One read per round, sent in batches; a new round picks up sign-ups made meanwhile.
                while pending := await asyncio.to_thread(self._queued, tried):
                    for start in range(0, len(pending), size):
                        await self._send(client, pending[start:start + size], report, tried, accepted)
                        if len(accepted) >= MARK_SYNCED_EVERY:
                            await self._mark_synced(accepted)
            except _Retry as retry:
                report.error = str(retry)
                state.failures += 1
                state.failing_since = state.failing_since or now
                cap = self.settings.sync_backoff_cap_seconds
                delay = backoff_delay(state.failures, self.settings.sync_interval_seconds, cap, self.rng)
                # Retry-After is honoured up to the cap: a proxy's "come back tomorrow" must not silence a kiosk
                state.backoff_until = now + max(delay, min(retry.retry_after or 0, cap))
                state.last_error = str(retry)
            except _Refused as refused:
                report.error = str(refused)
                state.paused_for_token = token_fingerprint(self.settings.sync_token)
                state.last_error = str(refused)
                log.error('sync paused: the endpoint refused this kiosk\'s credentials (%s)', refused)
            else:
                state.failures, state.failing_since, state.backoff_until, state.paused_for_token = 0, None, 0.0, None
                state.last_success, state.last_error = _iso(self.clock()), None
            finally:
                await self._mark_synced(accepted)
        report.queued = await asyncio.to_thread(lambda: self.store.counts()['queued'])
        await asyncio.to_thread(state.save, self._state_path)
        if report.error:
            log.warning('sync: %s; %d sign-up(s) still queued', report.error, report.queued)
        return report

    async def send_heartbeat(self, body: dict[str, Any]) -> int | None:
        """Tell the hub this kiosk is alive and how it is (no personal data); the HTTP status, or None.

        Never raises: an endpoint without heartbeats (404) or a network failure must not disturb sync.
        """
        if not self.configured:
            return None
        import httpx

        token = self.settings.sync_token.get_secret_value() if self.settings.sync_token else ''
        try:
            async with httpx.AsyncClient(timeout=self.settings.sync_timeout_seconds, transport=self._transport,
                                         follow_redirects=False) as client:
                response = await client.post(heartbeat_url(self.settings.sync_url), json=body,
                                             headers={'Authorization': f'Bearer {token}'})
        except httpx.HTTPError as error:
            log.debug('heartbeat not delivered (%s)', type(error).__name__)
            return None
        if response.status_code >= 300 and response.status_code != 404:
            log.debug('heartbeat answered HTTP %d', response.status_code)
        return response.status_code

    async def fetch_content(self, known_etags: list[str], limit: int) -> tuple[int, bytes | None]:
        """Ask the hub for newer content, naming the bundles this kiosk has (If-None-Match): (status, bundle).

        The bundle comes only with a 200, read up to `limit` bytes (more is refused unread: status 413). Status 0
        means no answer. Never raises: content waits for the next poll, and sync is not disturbed.
        """
        if not self.configured:
            return 0, None
        import httpx

        token = self.settings.sync_token.get_secret_value() if self.settings.sync_token else ''
        headers = {'Authorization': f'Bearer {token}'}
        if known_etags:
            headers['If-None-Match'] = ', '.join(known_etags)
        try:
            async with httpx.AsyncClient(timeout=self.settings.sync_timeout_seconds, transport=self._transport,
                                         verify=True, follow_redirects=False) as client, \
                    client.stream('GET', content_url(self.settings.sync_url), headers=headers) as response:
                if response.status_code != 200:
                    return response.status_code, None
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > limit:
                        return 413, None
                return 200, bytes(body)
        except httpx.HTTPError as error:
            log.debug('content not fetched (%s)', type(error).__name__)
            return 0, None

    def _queued(self, tried: set[str]) -> list[dict[str, Any]]:
        """Queued records this pass has not settled yet, oldest first."""
        queued = self.store.records(lambda record: record.get('status') == 'queued' and record['id'] not in tried)
        queued.reverse()  # records() is newest first
        return queued

    async def _mark_synced(self, accepted: dict[str, str]) -> None:
        """Acknowledged records become `synced` in groups: one rewrite of the store per group, not per batch.

        A crash before this loses only the mark: those records are sent again, and the receiver
        de-duplicates them by id, as the contract asks. Nothing unacknowledged is ever marked.
        """
        if not accepted:
            return
        marks = dict(accepted)
        accepted.clear()

        def synced(record: dict[str, Any]) -> None:
            record.update(status='synced', synced_at=marks[record['id']], last_error=None,
                          attempts=record.get('attempts', 0) + 1)

        await asyncio.to_thread(self.store.update, set(marks), synced)

    async def _send(self, client: httpx.AsyncClient, batch: list[dict[str, Any]], report: SyncReport,
                    tried: set[str], accepted: dict[str, str]) -> None:
        status, reason, detail, retry_after = await self._post(client, batch)
        report.batches.append(len(batch))
        ids = {record['id'] for record in batch}
        if 200 <= status < 300:
            accepted.update(dict.fromkeys(ids, _iso(self.clock())))
            report.accepted += len(batch)
        elif status in (401, 403):
            raise _Refused(f'HTTP {status}')
        elif status == 0 or status in RETRYABLE_STATUS or status >= 500:
            await asyncio.to_thread(self.store.update, ids, _after_attempt(last_error=reason))
            raise _Retry(reason, retry_after)
        elif len(batch) > 1:  # 413, or another 4xx: split to find the record the endpoint will not take
            middle = len(batch) // 2
            await self._send(client, batch[:middle], report, tried, accepted)
            await self._send(client, batch[middle:], report, tried, accepted)
            return
        else:
            # The endpoint's words may quote the record, so they stay with the record (staff only), not in logs.
            rejected = _after_attempt(status='rejected', last_error=f'{reason}: {detail}' if detail else reason)
            await asyncio.to_thread(self.store.update, ids, rejected)
            report.rejected += 1
            log.warning('sync: the endpoint rejected a sign-up (%s)', reason)
        tried.update(ids)
        report.sent += len(batch)

    async def _post(self, client: httpx.AsyncClient,
                    batch: list[dict[str, Any]]) -> tuple[int, str, str, float | None]:
        """(status, reason, the endpoint's own words, Retry-After seconds); status 0 means no answer at all.

        `reason` is safe for logs and /healthz; the endpoint's words may quote personal data.
        """
        import httpx

        signups = [payload(record) for record in batch]
        body = {'kiosk_id': self.settings.kiosk_id, 'sent_at': _iso(self.clock()), 'signups': signups}
        token = self.settings.sync_token.get_secret_value() if self.settings.sync_token else ''
        headers = {'Authorization': f'Bearer {token}', 'Idempotency-Key': idempotency_key(signups)}
        try:
            response = await client.post(self.settings.sync_url, json=body, headers=headers)
            if refuses_only_the_key(response):
                # Never a reason to reject a record: it is de-duplicated by id, so it goes again without the key.
                del headers['Idempotency-Key']
                response = await client.post(self.settings.sync_url, json=body, headers=headers)
        except httpx.TimeoutException:
            return 0, 'the endpoint did not answer in time', '', None
        except httpx.TransportError as error:
            return 0, f'could not reach the endpoint ({type(error).__name__})', '', None
        return (response.status_code, f'HTTP {response.status_code}', response.text[:ERROR_TEXT_MAX].strip(),
                _retry_after(response, self.clock()))


def _after_attempt(**fields: Any) -> Callable[[dict[str, Any]], None]:
    """A change for store.update: count one more attempt and set these fields."""
    def change(record: dict[str, Any]) -> None:
        record.update(fields, attempts=record.get('attempts', 0) + 1)
    return change


def _retry_after(response: httpx.Response, now: float) -> float | None:
    value = response.headers.get('Retry-After')
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec='seconds')
