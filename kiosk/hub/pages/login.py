"""Sign in and out: plain HTML forms, so the session cookie is set by an ordinary HTTP answer.

With a second factor, a right password opens no session: it opens a challenge (its id in a cookie of its
own, for CHALLENGE_MINUTES), and the code's form opens the session."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.hub import auth, db
from kiosk.hub.auth import ACCOUNT_LIMIT, CODE_LIMIT, SESSION_COOKIE, client_address, new_session_id, token_digest
from kiosk.hub.hub import Hub
from kiosk.hub.ingest import read_at_most
from kiosk.hub.pages.frame import Session, comes_first, landing, live_viewer, page_head

FORM_MAX_BYTES = 4096  # an email and a password; read as it arrives, like the kiosks' bodies
CSRF_COOKIE = 'kiosk_hub_csrf'
CHALLENGE_COOKIE = 'kiosk_hub_challenge'
FORMS = ('/login', '/login/code', '/password', '/set-password')  # the pages whose form carries the token


class FormToken:
    """A double-submit CSRF token for the sign-in form: the form's GET sets it as a cookie and the page puts
    the same value in a hidden field. Another site can make a browser post the form but can neither read nor
    set the cookie, so its post never carries a matching pair."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http' or scope['method'] != 'GET' or scope['path'] not in FORMS:
            await self.app(scope, receive, send)
            return
        # A second tab keeps the first one's token, so neither form goes stale.
        kept = HTTPConnection(scope).cookies.get(CSRF_COOKIE, '')
        well_formed = len(kept) == 43 and kept.replace('-', '').replace('_', '').isalnum()
        token = kept if well_formed else secrets.token_urlsafe(32)
        scope.setdefault('state', {})['csrf'] = token

        async def send_with_cookie(message: Message) -> None:
            if message['type'] == 'http.response.start':
                MutableHeaders(scope=message).append(
                    'set-cookie', f'{CSRF_COOKIE}={token}; HttpOnly; Secure; SameSite=strict; Path=/')
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def form_token_matches(connection: HTTPConnection, sent: str) -> bool:
    expected = connection.cookies.get(CSRF_COOKIE, '')
    return bool(expected) and hmac.compare_digest(expected.encode(), sent.encode())


def register(hub: Hub) -> None:
    @ui.page('/')
    async def start(request: Request) -> RedirectResponse:
        session = await Session.of(hub, request)
        return RedirectResponse(landing(hub, session.viewer) if session else '/login', status_code=303)

    @ui.page('/login')
    async def login(request: Request, failed: bool = False, busy: bool = False, idle: bool = False,
                    out: bool = False, expired: bool = False, password_set: bool = False
                    ) -> RedirectResponse | None:
        if (token := request.cookies.get(SESSION_COOKIE)) and \
                (viewer := await live_viewer(hub, token, renew=False)) and (first := comes_first(hub, viewer)):
            # signed in, but a new password or the second factor comes first
            return RedirectResponse(first, status_code=303)
        page_head('Sign in')
        with ui.column().classes('hub-login items-stretch gap-4'):
            ui.html('<h1>SLMPD Kiosk Hub</h1>')
            # One answer for a wrong password, an unknown email and a locked account: none tells which.
            message = (f'Wrong email or password. After {ACCOUNT_LIMIT[0]} wrong tries, wait '
                       f'{ACCOUNT_LIMIT[1].seconds // 60} minutes before trying again.' if failed else
                       'The hub is busy. Try again in a moment.' if busy else
                       f'Your session ended: {hub.settings.session_idle_minutes} minutes without use, '
                       f'{hub.settings.session_max_hours} hours since you signed in, or a change to your account. '
                       'Please sign in again.' if idle else
                       'You are signed out.' if out else
                       'The sign-in form had expired. Please sign in again.' if expired else
                       'Your password is set. Sign in with it.' if password_set else '')
            if message:
                ui.label(message).classes('hub-message').props('role=alert')
            with ui.element('form').props('method=post action=/login').classes('column gap-4'):
                ui.element('input').props(f'type=hidden name=csrf value={request.state.csrf}')
                ui.input('Email').props('name=email type=email autocomplete=username outlined autofocus') \
                    .mark('email')
                ui.input('Password', password=True).props('name=password autocomplete=current-password outlined') \
                    .mark('password')
                ui.button('Sign in', color=None).props('type=submit no-caps').classes('hub-primary').mark('sign-in')
        return None

    @app.post('/login')
    async def check(request: Request) -> RedirectResponse:
        raw = await read_at_most(request.stream(), FORM_MAX_BYTES)
        form = parse_qs((raw or b'').decode(errors='replace'), max_num_fields=10)
        email = (form.get('email') or [''])[0].strip().lower()[:254]
        password = (form.get('password') or [''])[0][:1024]
        if not form_token_matches(request, (form.get('csrf') or [''])[0]):
            return RedirectResponse('/login?expired=1', status_code=303)
        client = client_address(request.client.host if request.client else None,
                                request.headers.get('x-forwarded-for'), hub.settings.trusted_proxies)
        attempt = await hub.sign_ins.check(email, password, client)
        if attempt.busy:
            return RedirectResponse('/login?busy=1', status_code=303)
        if not attempt.ok:
            if attempt.checked:
                async with hub.pool.connection() as conn:
                    await db.audit(conn, email or '(blank)', 'login_failed')
            return RedirectResponse('/login?failed=1', status_code=303)
        async with hub.pool.connection() as conn:
            viewer = await db.viewer(conn, email)
            if viewer.second_factor:
                challenge = new_session_id()
                await db.open_challenge(conn, token_digest(challenge), email)
        if viewer.second_factor:
            answer = RedirectResponse('/login/code', status_code=303)
            answer.set_cookie(CHALLENGE_COOKIE, challenge, httponly=True, secure=True, samesite='strict', path='/',
                              max_age=auth.CHALLENGE_MINUTES * 60)
            return answer
        return await _signed_in(viewer, {})

    async def _signed_in(viewer: db.Viewer, detail: dict) -> RedirectResponse:
        session = new_session_id()
        async with hub.pool.connection() as conn:
            await db.open_session(conn, token_digest(session), viewer.email)
            await db.audit(conn, viewer.email, 'login', detail)
        answer = RedirectResponse(landing(hub, viewer), status_code=303)
        answer.set_cookie(SESSION_COOKIE, session, httponly=True, secure=True, samesite='strict', path='/')
        answer.delete_cookie(CHALLENGE_COOKIE, path='/', secure=True, httponly=True, samesite='strict')
        return answer

    async def _challenged(request: Request) -> str | None:
        if not (challenge := request.cookies.get(CHALLENGE_COOKIE)):
            return None
        async with hub.pool.connection() as conn:
            return await db.challenge_email(conn, token_digest(challenge), auth.CHALLENGE_MINUTES)

    @ui.page('/login/code')
    async def code_form(request: Request, failed: bool = False) -> RedirectResponse | None:
        if await _challenged(request) is None:
            return RedirectResponse('/login?expired=1', status_code=303)
        page_head('Sign in: your code')
        with ui.column().classes('hub-login items-stretch gap-4'):
            ui.html('<h1>Your sign-in code</h1>')
            ui.label('Type the six-digit code your authenticator app shows for the SLMPD Kiosk Hub. '
                     'Without your phone, type one of your recovery codes instead.')
            if failed:
                ui.label(f'That code is not right, or was used already. After {CODE_LIMIT[0]} wrong codes, wait '
                         f'{CODE_LIMIT[1].seconds // 60} minutes before trying again.').classes('hub-message')\
                    .props('role=alert')
            with ui.element('form').props('method=post action=/login/code').classes('column gap-4'):
                ui.element('input').props(f'type=hidden name=csrf value={request.state.csrf}')
                ui.input('Code').props('name=code autocomplete=one-time-code outlined autofocus spellcheck=false')\
                    .mark('code')
                ui.button('Sign in', color=None).props('type=submit no-caps').classes('hub-primary').mark('send-code')
            ui.link('Start again', '/login').classes('hub-link')
        return None

    @app.post('/login/code')
    async def check_code(request: Request) -> RedirectResponse:
        raw = await read_at_most(request.stream(), FORM_MAX_BYTES)
        form = parse_qs((raw or b'').decode(errors='replace'), max_num_fields=10)
        if not form_token_matches(request, (form.get('csrf') or [''])[0]) or \
                (email := await _challenged(request)) is None:
            return RedirectResponse('/login?expired=1', status_code=303)
        client = client_address(request.client.host if request.client else None,
                                request.headers.get('x-forwarded-for'), hub.settings.trusted_proxies)
        attempt = await hub.sign_ins.check_code(email, (form.get('code') or [''])[0][:64], client)
        if not attempt.ok:
            async with hub.pool.connection() as conn:
                await db.audit(conn, email, 'login_code_failed')
            return RedirectResponse('/login/code?failed=1', status_code=303)
        async with hub.pool.connection() as conn:
            await db.close_challenge(conn, token_digest(request.cookies[CHALLENGE_COOKIE]))
            viewer = await db.viewer(conn, email)
        return await _signed_in(viewer, {'second_factor': True})

    @app.post('/logout')
    async def sign_out(request: Request) -> RedirectResponse:
        if token := request.cookies.get(SESSION_COOKIE):
            async with hub.pool.connection() as conn:
                if email := await db.close_session(conn, token_digest(token)):
                    await db.audit(conn, email, 'logout')
        answer = RedirectResponse('/login?out=1', status_code=303)
        answer.delete_cookie(SESSION_COOKIE, path='/', secure=True, httponly=True, samesite='strict')
        return answer
