"""Two-factor sign-in, turned on: the QR code and the secret for an authenticator app, a code to prove it works,
then ten recovery codes shown once. On My account, and at /two-factor for a user the hub requires it of."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from kiosk.hub import db
from kiosk.hub.auth import SESSION_COOKIE, new_recovery_codes, new_totp_secret, recovery_digest, totp_step, totp_uri
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import Session, landing, live_viewer, page_head
from kiosk.qr import qr_svg


def register(hub: Hub) -> None:
    @ui.page('/two-factor')
    async def required(request: Request) -> RedirectResponse | None:
        token = request.cookies.get(SESSION_COOKIE)
        viewer = await live_viewer(hub, token, renew=True) if token else None
        if viewer is None:
            return RedirectResponse('/login', status_code=303)
        if landing(hub, viewer) != '/two-factor':
            return RedirectResponse(landing(hub, viewer), status_code=303)
        page_head('Set up two-factor sign-in')
        with ui.column().classes('hub-login hub-enrol items-stretch gap-4'):
            ui.html('<h1>Set up two-factor sign-in</h1>')
            ui.label('The hub asks ' + ('every user' if hub.settings.require_2fa == 'all' else 'admins')
                     + ' for a second factor: a code from an app on your phone, after your password. '
                       'Set it up once, now; then every sign-in asks for the code.')
            await enrolment(hub, Session(hub, token, viewer))
        return None


async def enrolment(hub: Hub, session: Session) -> None:
    """Draws the enrolment. The secret is stored only once a code from the app proves it was scanned."""
    secret = new_totp_secret()
    email = session.viewer.email
    with ui.column().classes('gap-3') as area:
        ui.label('1. In an authenticator app (Microsoft Authenticator, Google Authenticator, FreeOTP, or the one '
                 'IT gives you), add an account by scanning this code:')
        # Not qr_svg's cache: that would keep the secret in memory after the page is gone.
        ui.html(qr_svg.__wrapped__(totp_uri(secret, email)), sanitize=False).classes('hub-totp-qr')\
            .props('role=img aria-label="QR code for your authenticator app"').mark('totp-qr')
        ui.label('Or type this key into the app by hand (time-based, six digits):')
        ui.label(' '.join(secret[i:i + 4] for i in range(0, len(secret), 4))).classes('hub-secret')\
            .mark('totp-secret')
        ui.label('2. Type the six-digit code the app now shows:')
        code = ui.input('Code from the app').props('autocomplete=one-time-code outlined spellcheck=false')\
            .mark('enrol-code')
        problem = ui.label('').classes('hub-message').props('role=alert')

        async def turn_on() -> None:
            if not await session.renew():
                return
            step = totp_step(secret, code.value or '', None)
            if step is None:
                problem.text = 'That code is not right. Check the app shows the SLMPD Kiosk Hub, and type its ' \
                               'current code.'
                return
            codes = new_recovery_codes()
            async with hub.pool.connection() as conn:
                done = await db.turn_on_second_factor(conn, email, secret, step, [recovery_digest(c) for c in codes])
            area.clear()
            with area:
                if not done:
                    ui.label('Two-factor sign-in is on already (from another window).').mark('enrol-done')
                else:
                    ui.label('Two-factor sign-in is on.').classes('hub-ok').mark('enrol-done')
                    _show_recovery_codes(codes)
                ui.link('Continue', '/').classes('hub-primary hub-continue')  # / leads to the role's first screen

        ui.button('Turn on two-factor sign-in', on_click=turn_on, color=None).props('no-caps')\
            .classes('hub-primary').mark('enrol-turn-on')


async def replace_recovery_codes(hub: Hub, session: Session) -> None:
    """New codes for a user who has used some up or lost the list: the old ones stop working at once."""
    area = ui.column()

    async def replace() -> None:
        if not await session.renew():
            return
        codes = new_recovery_codes()
        async with hub.pool.connection() as conn:
            done = await db.replace_recovery_codes(conn, session.viewer.email, [recovery_digest(c) for c in codes])
        area.clear()
        with area:
            if done:
                ui.label('New recovery codes made; the old ones no longer work.').classes('hub-ok')
                _show_recovery_codes(codes)

    with area:
        ui.button('Make new recovery codes', on_click=replace, color=None).props('no-caps')\
            .classes('hub-secondary').mark('replace-codes')


def _show_recovery_codes(codes: list[str]) -> None:
    ui.label('Your recovery codes, shown this once. Each lets you sign in once without your phone. Write them '
             'down or print this page, and keep them apart from your phone:')
    with ui.element('ul').classes('hub-recovery').mark('recovery-codes'):
        for code in codes:
            with ui.element('li'):
                ui.label(code)
