"""Sign in and out: a plain HTML form, so the session cookie is set by an ordinary HTTP answer."""

from __future__ import annotations

import math

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from kiosk.hub import db
from kiosk.hub.auth import SESSION_COOKIE, new_session_id, sign_in, token_digest
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import Session, page_head


def register(hub: Hub) -> None:
    @ui.page('/')
    async def start(request: Request) -> RedirectResponse:
        return RedirectResponse('/signups' if await Session.of(hub, request) else '/login', status_code=303)

    @ui.page('/login')
    def login(failed: bool = False, locked: int = 0, idle: bool = False, out: bool = False) -> None:
        page_head('Sign in')
        with ui.column().classes('hub-login items-stretch gap-4'):
            ui.html('<h1>SLMPD Kiosk Hub</h1>')
            message = ('Wrong email or password.' if failed else
                       f'Too many tries. Try again in {locked} minute{"s" if locked != 1 else ""}.' if locked else
                       f'You were signed out after {hub.settings.session_idle_minutes} idle minutes.' if idle else
                       'You are signed out.' if out else '')
            if message:
                ui.label(message).classes('hub-message').props('role=alert')
            with ui.element('form').props('method=post action=/login').classes('column gap-4'):
                ui.input('Email').props('name=email type=email autocomplete=username outlined autofocus') \
                    .mark('email')
                ui.input('Password', password=True).props('name=password autocomplete=current-password outlined') \
                    .mark('password')
                ui.button('Sign in', color=None).props('type=submit no-caps').classes('hub-primary').mark('sign-in')

    @app.post('/login')
    async def check(request: Request) -> RedirectResponse:
        form = await request.form()
        email = str(form.get('email', '')).strip().lower()[:254]
        password = str(form.get('password', ''))
        async with hub.pool.connection() as conn:
            attempt = await sign_in(conn, email, password)
            if attempt.ok:
                session = new_session_id()
                await db.open_session(conn, token_digest(session), email)
                await db.audit(conn, email, 'login')
            else:
                await db.audit(conn, email or '(blank)', 'login_failed', {'locked': attempt.locked_for > 0})
        if not attempt.ok:
            target = f'/login?locked={math.ceil(attempt.locked_for / 60)}' if attempt.locked_for else '/login?failed=1'
            return RedirectResponse(target, status_code=303)
        answer = RedirectResponse('/signups', status_code=303)
        answer.set_cookie(SESSION_COOKIE, session, httponly=True, secure=True, samesite='strict', path='/')
        return answer

    @app.post('/logout')
    async def sign_out(request: Request) -> RedirectResponse:
        if token := request.cookies.get(SESSION_COOKIE):
            async with hub.pool.connection() as conn:
                if email := await db.close_session(conn, token_digest(token)):
                    await db.audit(conn, email, 'logout')
        answer = RedirectResponse('/login?out=1', status_code=303)
        answer.delete_cookie(SESSION_COOKIE, path='/', secure=True, httponly=True, samesite='strict')
        return answer
