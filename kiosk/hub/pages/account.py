"""My account: who I am here, which mail the hub sends me (instant, a daily digest, or none), and my two-factor
sign-in."""

from __future__ import annotations

from nicegui import ui

from kiosk.hub import db
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import Session, screen
from kiosk.hub.pages.two_factor import enrolment, replace_recovery_codes

CHOICES = {'instant': 'Instant: a mail soon after new sign-ups arrive (at most one every {gap} minutes)',
           'daily': 'Daily: one digest a day at {hour:02d}:00',
           'off': 'Off: no mail; I look at the hub myself'}


def register(hub: Hub) -> None:
    screen(hub, '/account')(lambda session: _screen(hub, session))


async def _screen(hub: Hub, session: Session) -> None:
    viewer, settings = session.viewer, hub.settings
    ui.label(f'Signed in as {viewer.email}: '
             + ('admin, all programs' if viewer.sees_all else
                'publisher: what the kiosks say (the Content page), no sign-ups' if viewer.role == 'publisher' else
                f'coordinator of {", ".join(hub.programs.get(p, p) for p in viewer.programs) or "no programs yet"}'))
    ui.html('<h2>Notifications by email</h2>')
    if not settings.smtp_url:
        ui.label('The hub sends no mail yet (IT has not set up a mail server); your choice applies once it does.')\
            .mark('mail-off')
    ui.label('Mail counts new sign-ups in ' + ('all programs' if viewer.sees_all else 'your programs')
             + ' and links to the list' + ('; it names no one.' if not settings.mail_names else
                                           ', with first names.'))
    async with hub.pool.connection() as conn:
        current = await db.notify_choice(conn, viewer.email)
    gap = round(settings.mail_instant_gap_seconds / 60)
    options = {key: text.format(gap=gap, hour=settings.digest_hour) for key, text in CHOICES.items()}

    async def save(choice: str) -> None:
        if not await session.renew():
            return
        async with hub.pool.connection() as conn:
            await db.set_notify(conn, session.viewer.email, choice)
            await db.audit(conn, session.viewer.email, 'notify_changed', {'notify': choice})
        ui.notify('Saved.')

    ui.radio(options, value=current, on_change=lambda event: save(event.value)).props('aria-label="Mail"')\
        .mark('notify')
    await _two_factor(hub, session)


async def _two_factor(hub: Hub, session: Session) -> None:
    ui.html('<h2>Two-factor sign-in</h2>')
    if session.viewer.second_factor:
        async with hub.pool.connection() as conn:
            left = await db.recovery_codes_left(conn, session.viewer.email)
        ui.label(f'On: every sign-in asks for a code from your authenticator app. {left} unused recovery '
                 f'code{"" if left == 1 else "s"} left. Lost your phone? An admin can reset it on the Users screen.')\
            .mark('two-factor-on')
        await replace_recovery_codes(hub, session)
        return
    ui.label('Off: your password alone signs you in. Turn it on, and a stolen password is not enough.')\
        .mark('two-factor-off')
    area = ui.column()

    async def start() -> None:
        button.delete()
        with area:
            await enrolment(hub, session)

    button = ui.button('Set up two-factor sign-in', on_click=start, color=None).props('no-caps')\
        .classes('hub-primary').mark('enrol-start')
