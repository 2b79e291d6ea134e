"""My account: who I am here, and which mail the hub sends me (instant, a daily digest, or none)."""

from __future__ import annotations

from nicegui import ui

from kiosk.hub import db
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import Session, screen

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
