"""Wires the hub: the database pool for the app's lifetime, the kiosks' API, the screens, nightly retention, mail
and the content rollout's steps."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from nicegui import app, ui
from nicegui.middlewares import RedirectWithPrefixMiddleware, SetCacheControlMiddleware
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.hub import db, rollout
from kiosk.hub.api_schema import openapi
from kiosk.hub.auth import CLIENT_LIMIT, SignIns, is_trusted
from kiosk.hub.config import HubSettings
from kiosk.hub.content import ProgramTitles, newest_for_kiosk
from kiosk.hub.hub import Hub
from kiosk.hub.ingest import Answer, Receiver
from kiosk.hub.mail import Mailer
from kiosk.hub.pages import (
    account,
    activity,
    audit,
    conflicts,
    fleet,
    login,
    password,
    preview,
    signup,
    two_factor,
    users,
)
from kiosk.hub.pages import content as content_page
from kiosk.hub.pages import signups as signups_page
from kiosk.paths import ASSETS_DIR

log = logging.getLogger('kiosk.hub')

# NiceGUI renders its elements through Vue templates compiled in the page ('unsafe-eval') and starts each
# page with an inline script ('unsafe-inline'); everything else it needs is served by the hub itself.
CONTENT_SECURITY_POLICY = '; '.join((
    "default-src 'self'", "script-src 'self' 'unsafe-inline' 'unsafe-eval'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:", "font-src 'self' data:", "connect-src 'self'", "worker-src 'self' blob:",
    "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'"))
SECURITY_HEADERS = {'content-security-policy': CONTENT_SECURITY_POLICY, 'referrer-policy': 'no-referrer',
                    'x-content-type-options': 'nosniff'}
# The Content page shows the kiosk's screens for a draft in frames of the hub's own pages, and only there.
FRAMED_BY_THE_HUB = {**SECURITY_HEADERS, 'content-security-policy': CONTENT_SECURITY_POLICY.replace(
    "frame-ancestors 'none'", "frame-ancestors 'self'")}
PAGE_MIDDLEWARE = (RedirectWithPrefixMiddleware, SetCacheControlMiddleware, GZipMiddleware)
HSTS = 'max-age=31536000'  # a year; not includeSubDomains: the department's other hosts are not ours to bind


class SecurityHeaders:
    """Adds the security headers to every HTTP answer, and HSTS when the request came over TLS: its own
    scheme, or X-Forwarded-Proto from a trusted proxy (anyone else's say is not believed)."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[IPv4Network | IPv6Network]) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        headers = dict(FRAMED_BY_THE_HUB if scope['path'] == preview.PATH else SECURITY_HEADERS)
        if self._over_tls(scope):
            headers['strict-transport-security'] = HSTS

        async def send_with_headers(message: Message) -> None:
            if message['type'] == 'http.response.start':
                MutableHeaders(scope=message).update(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _over_tls(self, scope: Scope) -> bool:
        if scope.get('scheme') == 'https':
            return True
        peer = (scope.get('client') or (None,))[0]
        if not peer or not is_trusted(peer, self.trusted_proxies):
            return False
        forwarded = [value for key, value in scope['headers'] if key == b'x-forwarded-proto']
        return bool(forwarded) and forwarded[-1].decode('latin-1').split(',')[-1].strip().lower() == 'https'


def create(settings: HubSettings) -> Hub:
    # `check`: a connection broken by a database restart is replaced before use, not handed to a request.
    pool = AsyncConnectionPool(settings.database_url, open=False, min_size=1, max_size=10,
                               kwargs={'row_factory': dict_row}, check=AsyncConnectionPool.check_connection)
    receiver = Receiver(settings, pool)
    hub = Hub(settings, pool, receiver, SignIns(pool), ProgramTitles())
    scheduler = AsyncIOScheduler(timezone=ZoneInfo(settings.timezone))

    async def retention() -> None:
        async with pool.connection() as conn:
            deleted = await db.delete_closed_signups(conn, settings.retention_days, settings.session_idle_minutes,
                                                     settings.session_max_hours, CLIENT_LIMIT[1])
        log.info('retention: deleted %d sign-up(s) closed more than %d days ago', deleted, settings.retention_days)

    # 'cron' by name, so the hour is the hub's local time: a CronTrigger made here takes the machine's zone.
    scheduler.add_job(retention, 'cron', hour=3, minute=30, id='retention', coalesce=True,
                      misfire_grace_time=6 * 3600)
    if settings.smtp_url:
        schedule_mail(scheduler, Mailer(settings, pool))

    async def advance_rollout() -> None:
        """Every hub process runs it; the advisory lock and the stage guard make each step happen once."""
        async with pool.connection() as conn:
            step = await rollout.advance(conn, settings.rollout_soak_minutes, settings.stale_minutes)
        if step in ('to_all', 'soak_restarted'):
            log.info('content rollout: %s', step.replace('_', ' '))

    scheduler.add_job(advance_rollout, IntervalTrigger(seconds=settings.rollout_check_seconds), id='rollout')

    async def start() -> None:
        await pool.open(wait=True, timeout=60)
        scheduler.start()
        route_api_past_page_middleware()

    async def stop() -> None:
        scheduler.shutdown(wait=False)
        await pool.close()

    app.on_startup(start)
    app.on_shutdown(stop)

    @app.post('/api/v1/signups')
    async def signups(request: Request) -> Response:
        return _reply(await receiver.signups(request.headers.get('authorization'),
                                             request.headers.get('idempotency-key'), request.stream()))

    @app.head('/api/v1/signups')
    async def check_token(request: Request) -> Response:
        """What `kiosk doctor` asks: is the hub there, and does it know this token?"""
        known = await receiver.kiosk_for(request.headers.get('authorization')) is not None
        return Response(status_code=204 if known else 401)

    @app.get('/api/v1/content')
    async def content(request: Request) -> Response:
        """The newest signed content bundle meant for this kiosk; 304 for the one it has (If-None-Match)."""
        delivery = await newest_for_kiosk(pool, request.headers.get('authorization'),
                                          request.headers.get('if-none-match'))
        return Response(delivery.body, status_code=delivery.status, headers=delivery.headers,
                        media_type=delivery.media_type)

    @app.post('/api/v1/heartbeat')
    async def heartbeat(request: Request) -> Response:
        return _reply(await receiver.heartbeat(request.headers.get('authorization'), request.stream()))

    app.add_middleware(SecurityHeaders, trusted_proxies=settings.trusted_proxies)
    app.add_middleware(login.FormToken)
    contract = openapi()

    @app.get('/api/v1/openapi.json')
    async def api_description() -> JSONResponse:
        """The kiosks' API as OpenAPI 3.1, built from the models the hub validates with."""
        return JSONResponse(contract)

    app.add_static_files('/static', ASSETS_DIR / 'static')
    # Quasar's navigation progress bar has role=progressbar but no name; axe rightly flags that.
    app.config.quasar_config['loadingBar']['aria-label'] = 'Loading'
    app.colors(primary='#14325c')
    for screen in (login, password, two_factor, signups_page, signup, fleet, activity, conflicts, audit, users,
                   content_page, preview,
                   account):
        screen.register(hub)
    return hub


def schedule_mail(scheduler: AsyncIOScheduler, mailer: Mailer) -> None:
    """Instant mail every mail_check_seconds, the digests at digest_hour, and the outbox every mail_send_seconds
    (and at once after something is queued). Every hub process runs them: the outbox and the users' row locks
    keep each mail single."""
    settings = mailer.settings

    async def instant() -> None:
        if await mailer.queue_instant():
            await mailer.send_due()

    async def digests() -> None:
        queued = await mailer.queue_digests()
        log.info('mail: %d daily digest(s) queued', queued)
        await mailer.send_due()

    scheduler.add_job(instant, IntervalTrigger(seconds=settings.mail_check_seconds), id='mail-instant')
    scheduler.add_job(mailer.send_due, IntervalTrigger(seconds=settings.mail_send_seconds), id='mail-send')
    scheduler.add_job(digests, 'cron', hour=settings.digest_hour, id='mail-digest', coalesce=True,
                      misfire_grace_time=6 * 3600)  # by name: the scheduler's zone, the hub's local time


def route_api_past_page_middleware() -> None:
    """The kiosks' API skips the middlewares NiceGUI adds for its pages (prefix redirects, cache headers for its
    own files, gzip). Two of them start a task group per request: a sixth of the hub's time per ingested batch.

    Called at start-up, once ui.run has added them and the app has built its stack; the API keeps the rest
    (security headers, error handling)."""
    everything = app.middleware_stack or app.build_middleware_stack()
    added = app.user_middleware
    app.user_middleware = [entry for entry in added if entry.cls not in PAGE_MIDDLEWARE]
    api = app.build_middleware_stack()
    app.user_middleware = added

    async def front_door(scope: Scope, receive: Receive, send: Send) -> None:
        chosen = api if scope['type'] == 'http' and scope['path'].startswith('/api/') else everything
        await chosen(scope, receive, send)

    app.middleware_stack = front_door


def _reply(answer: Answer) -> Response:
    if answer.status == 204:
        return Response(status_code=204, headers=answer.headers)
    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)


def serve(settings: HubSettings) -> None:
    applied = db.migrate_if_owner(settings.owner_url)
    if applied:
        log.info('applied migrations: %s', ', '.join(applied))
    create(settings)
    ui.run(host=settings.host, port=settings.port, title='SLMPD Kiosk Hub', reload=False, show=False,
           show_welcome_message=False, favicon=ASSETS_DIR / 'static' / 'logo.svg', tailwind=False,
           # Uvicorn would believe X-Forwarded-* from 127.0.0.1 whatever trusted_proxies says; the hub decides.
           proxy_headers=False)
