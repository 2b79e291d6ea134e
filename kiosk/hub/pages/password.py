"""Choose a password: where a one-time password from `add-user` leads, before any screen opens, and where a
set-password link from the Users screen leads (one use, 24 hours; the token is in the URL, which the
hub never logs, and only its SHA-256 is stored)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from urllib.parse import parse_qs, quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from kiosk.hub import db
from kiosk.hub.auth import MIN_PASSWORD, PASSWORD_LINK_HOURS, SESSION_COOKIE, hash_password, token_digest
from kiosk.hub.hub import Hub
from kiosk.hub.ingest import read_at_most
from kiosk.hub.pages.frame import landing, live_viewer, page_head
from kiosk.hub.pages.login import FORM_MAX_BYTES, form_token_matches

MESSAGES = {'short': f'A password needs at least {MIN_PASSWORD} characters.',
            'mismatch': 'The two passwords differ. Type the same one twice.',
            'expired': 'The form had expired. Please try again.'}


def register(hub: Hub) -> None:
    @ui.page('/password')
    async def choose(request: Request, problem: str = '') -> RedirectResponse | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token or not await live_viewer(hub, token, renew=True):
            return RedirectResponse('/login', status_code=303)
        page_head('Choose a new password')
        with ui.column().classes('hub-login items-stretch gap-4'):
            ui.html('<h1>Choose a new password</h1>')
            ui.label('The password you were given works only once. Choose your own to go on.')
            if problem in MESSAGES:
                ui.label(MESSAGES[problem]).classes('hub-message').props('role=alert')
            with ui.element('form').props('method=post action=/password').classes('column gap-4'):
                ui.element('input').props(f'type=hidden name=csrf value={request.state.csrf}')
                ui.input('New password', password=True) \
                    .props('name=password autocomplete=new-password outlined autofocus')
                ui.input('New password again', password=True).props('name=again autocomplete=new-password outlined')
                ui.button('Save the new password', color=None).props('type=submit no-caps').classes('hub-primary')
        return None

    @app.post('/password')
    async def change(request: Request) -> RedirectResponse:
        token = request.cookies.get(SESSION_COOKIE)
        viewer = await live_viewer(hub, token, renew=True) if token else None
        if viewer is None:
            return RedirectResponse('/login', status_code=303)
        _, hashed, problem = await _new_password(hub, request)
        if problem:
            return RedirectResponse(f'/password?problem={problem}', status_code=303)
        async with hub.pool.connection() as conn:
            await db.change_own_password(conn, viewer.email, hashed, token_digest(token))
            await db.audit(conn, viewer.email, 'password_changed')
        return RedirectResponse(landing(hub, replace(viewer, must_change_password=False)), status_code=303)

    @ui.page('/set-password')
    async def choose_by_link(request: Request, token: str = '', problem: str = '') -> None:
        async with hub.pool.connection() as conn:
            email = await db.password_link_email(conn, token_digest(token), PASSWORD_LINK_HOURS) if token else None
        page_head('Choose your password')
        with ui.column().classes('hub-login items-stretch gap-4'):
            ui.html('<h1>Choose your password</h1>')
            if email is None:
                ui.label(f'This link does not work: it was used already, is more than {PASSWORD_LINK_HOURS} hours '
                         'old, or a newer link replaced it. Ask an admin for a new one.')\
                    .classes('hub-message').props('role=alert').mark('link-dead')
                ui.link('Sign in', '/login').classes('hub-link')
                return
            ui.label(f'For {email}. Choose a password of {MIN_PASSWORD} characters or more; then sign in with it.')
            if problem in MESSAGES:
                ui.label(MESSAGES[problem]).classes('hub-message').props('role=alert')
            with ui.element('form').props('method=post action=/set-password').classes('column gap-4'):
                ui.element('input').props(f'type=hidden name=csrf value={request.state.csrf}')
                ui.element('input').props(f'type=hidden name=token value={token}')
                ui.element('input').props(f'type=hidden name=email autocomplete=username value={email}')
                ui.input('New password', password=True) \
                    .props('name=password autocomplete=new-password outlined autofocus')
                ui.input('New password again', password=True).props('name=again autocomplete=new-password outlined')
                ui.button('Save my password', color=None).props('type=submit no-caps').classes('hub-primary')

    @app.post('/set-password')
    async def set_by_link(request: Request) -> RedirectResponse:
        form, hashed, problem = await _new_password(hub, request)
        token = (form.get('token') or [''])[0][:100]
        if problem:
            return RedirectResponse(f'/set-password?token={quote(token)}&problem={problem}', status_code=303)
        async with hub.pool.connection() as conn:
            email = await db.use_password_link(conn, token_digest(token), PASSWORD_LINK_HOURS, hashed)
        return RedirectResponse('/login?password_set=1' if email else f'/set-password?token={quote(token)}',
                                status_code=303)


async def _new_password(hub: Hub, request: Request) -> tuple[dict[str, list[str]], str, str]:
    """The posted form, the new password's hash, and what is wrong ('' when nothing: then the hash is made): a form
    from an old page, a password too short, or two entries that differ."""
    raw = await read_at_most(request.stream(), FORM_MAX_BYTES)
    form = parse_qs((raw or b'').decode(errors='replace'), max_num_fields=10)
    password, again = ((form.get(name) or [''])[0][:1024] for name in ('password', 'again'))
    problem = ('expired' if not form_token_matches(request, (form.get('csrf') or [''])[0]) else
               'short' if len(password) < MIN_PASSWORD else 'mismatch' if password != again else '')
    if problem:
        return form, '', problem
    async with hub.sign_ins.hashing:
        return form, await asyncio.to_thread(hash_password, password), ''
