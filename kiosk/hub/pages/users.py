"""Users, for admins: add one, set a role and programs (a user-by-program grid), disable, reset a second factor,
send a set-password link, and see each one's last sign-in. Every change is audited (in db.py), and one that
lowers a user's access ends that user's sessions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from nicegui import ui
from psycopg import AsyncConnection, errors

from kiosk.hub import db
from kiosk.hub.auth import PASSWORD_LINK_HOURS, new_token, token_digest
from kiosk.hub.hub import Hub
from kiosk.hub.mail import password_link_mail
from kiosk.hub.pages.frame import Session, screen

ROLES = {'coordinator': 'Coordinator', 'admin': 'Admin', 'publisher': 'Publisher'}
Allowed = Callable[[], Awaitable[bool]]  # renews the session; True while its user is still an admin
SendLink = Callable[[str], Awaitable[None]]
Change = Callable[[Callable[[AsyncConnection, str], Awaitable[object]], str], Awaitable[None]]


def register(hub: Hub) -> None:
    screen(hub, '/users')(lambda session: _screen(hub, session))


async def _screen(hub: Hub, session: Session) -> None:
    request = ui.context.client.request
    base_url = hub.settings.public_url or str(request.base_url).rstrip('/')
    notice = ui.column().classes('w-full')

    async def allowed() -> bool:
        """Each action checks again: the session may have ended, or its admin been made a coordinator."""
        return await session.renew() and session.viewer.sees_all

    async def send_link(email: str) -> None:
        token = new_token()
        link = f'{base_url}/set-password?token={token}'
        mail = password_link_mail(hub.settings, email, link, PASSWORD_LINK_HOURS) if hub.settings.smtp_url else None
        async with hub.pool.connection() as conn:
            made = await db.create_password_link(conn, email, token_digest(token), session.viewer.email, mail)
        notice.clear()
        if not made:
            return
        with notice, ui.column().classes('hub-message w-full').props('role=status').mark('link-notice'):
            if mail:
                ui.label(f'A set-password link was mailed to {email}. It works once, for {PASSWORD_LINK_HOURS} hours.')
            else:
                ui.label(f'The hub sends no mail, so pass this link to {email} yourself. It is shown only now, and '
                         f'works once, for {PASSWORD_LINK_HOURS} hours:')
                ui.label(link).classes('hub-secret').mark('password-link')

    await _add_form(hub, session, allowed, send_link, lambda: table.refresh())

    @ui.refreshable
    async def table() -> None:
        await _table(hub, session, allowed, send_link, table.refresh)

    await table()


async def _add_form(hub: Hub, session: Session, allowed: Allowed, send_link: SendLink,
                    refresh: Callable[[], None]) -> None:
    ui.html('<h2>Add a user</h2>')
    ui.label('They get a set-password link (mailed, or shown here to pass on); nobody else ever knows their '
             'password. A coordinator sees only the programs ticked here; an admin sees everything; a publisher edits '
             'what the kiosks say and sees no sign-up.')
    with ui.row().classes('items-end gap-4'):
        email = ui.input('Email').props('type=email outlined').mark('new-email')
        role = ui.select(ROLES, value='coordinator', label='Role').props('outlined').classes('min-w-[12rem]') \
            .mark('new-role')
    with ui.row().classes('gap-4'):
        ticked = {slug: ui.checkbox(title).mark(f'new-program-{slug}') for slug, title in hub.programs.items()}

    async def add() -> None:
        if not await allowed():
            return
        address = (email.value or '').strip().lower()
        if '@' not in address or len(address) > 254 or ' ' in address:
            ui.notify('Type the new user’s email address.')
            return
        programs = [slug for slug, box in ticked.items() if box.value] if role.value == 'coordinator' else []
        async with hub.pool.connection() as conn:
            try:
                await db.add_user(conn, address, role.value, programs, None)
            except errors.UniqueViolation:
                ui.notify(f'{address} is a user already.')
                return
            await db.audit(conn, session.viewer.email, 'user_added', {'user': address, 'role': role.value,
                                                                       'programs': programs})
        email.value = ''
        await send_link(address)
        refresh()

    ui.button('Add user', on_click=add, color=None).props('no-caps').classes('hub-primary').mark('add-user')


async def _table(hub: Hub, session: Session, allowed: Allowed, send_link: SendLink,
                 refresh: Callable[[], None]) -> None:
    zone = ZoneInfo(hub.settings.timezone)
    async with hub.pool.connection() as conn:
        users = await db.users_overview(conn)
    me = session.viewer.email
    ui.html('<h2>Everyone</h2>')

    async def change(action: Callable[[AsyncConnection, str], Awaitable[object]], done: str) -> None:
        if not await allowed():
            return
        async with hub.pool.connection() as conn:
            await action(conn, session.viewer.email)
        ui.notify(done)
        refresh()

    with ui.element('table').classes('hub-fleet hub-users').mark('users'):
        with ui.element('thead'), ui.element('tr'):
            for heading in ('User', 'Role', *hub.programs.values(), 'Two-factor', 'Last sign-in', 'Actions'):
                with ui.element('th').props('scope=col'):
                    ui.label(heading)
        with ui.element('tbody'):
            for user in users:
                email = user['email']
                with ui.element('tr').classes('disabled' if user['disabled'] else '').mark(f'user-{email}'):
                    with ui.element('th').props('scope=row'):
                        ui.label(email + (' (disabled)' if user['disabled'] else '')
                                 + ('' if user['has_password'] else ' (no password yet)'))
                    with ui.element('td'):
                        if email == me:
                            ui.label(ROLES[user['role']] + ' (you)')
                        else:
                            ui.select(ROLES, value=user['role'], label='Role',
                                      on_change=lambda event, email=email: change(
                                          lambda conn, actor: db.set_role(conn, email, event.value, actor),
                                          f'{email} is now {ROLES[event.value].lower()}.'))\
                                .props(f'outlined dense aria-label="Role of {email}"').mark(f'role-{email}')
                    for slug, title in hub.programs.items():
                        with ui.element('td'):
                            if user['role'] != 'coordinator':  # an admin sees every program, a publisher none
                                ui.label('all' if user['role'] == 'admin' else '—')
                                continue
                            ui.checkbox(value=slug in user['programs'],
                                        on_change=lambda event, email=email, slug=slug: change(
                                            lambda conn, actor: _toggle(conn, email, slug, event.value, actor),
                                            f'Programs of {email} saved.'))\
                                .props(f'aria-label="{email}: {title}"').mark(f'program-{email}-{slug}')
                    with ui.element('td'):
                        ui.label('on' if user['second_factor'] else 'off')
                    with ui.element('td'):
                        ui.label(_when(user['last_sign_in_at'], zone))
                    with ui.element('td'), ui.row().classes('gap-2'):
                        _actions(user, me, change, send_link, allowed)


def _actions(user: dict, me: str, change: Change, send_link: SendLink, allowed: Allowed) -> None:
    email = user['email']

    async def link() -> None:
        if await allowed():
            await send_link(email)

    if not user['disabled']:  # a disabled user's link would not work
        ui.button('Send set-password link', on_click=link, color=None).props('no-caps dense')\
            .classes('hub-secondary').mark(f'link-{email}')
    if email != me:
        disable = not user['disabled']
        ui.button('Disable' if disable else 'Enable', color=None,
                  on_click=lambda: change(lambda conn, actor: _set_disabled(conn, email, disable, actor),
                                          f'{email} {"disabled; their sessions ended" if disable else "enabled"}.'))\
            .props('no-caps dense').classes('hub-secondary').mark(f'disable-{email}')
    if user['second_factor'] and email != me:
        ui.button('Reset two-factor', color=None,
                  on_click=lambda: change(lambda conn, actor: db.reset_second_factor(conn, email, actor),
                                          f'Two-factor sign-in of {email} reset; they set it up again.'))\
            .props('no-caps dense').classes('hub-secondary').mark(f'reset-{email}')


async def _set_disabled(conn: AsyncConnection, email: str, disabled: bool, actor: str) -> None:
    if await db.set_disabled(conn, email, disabled, actor):
        await db.audit(conn, actor, 'user_disabled' if disabled else 'user_enabled', {'user': email})


async def _toggle(conn: AsyncConnection, email: str, slug: str, on: bool, actor: str) -> None:
    held = set((await db.viewer(conn, email)).programs)
    await db.set_programs(conn, email, sorted(held | {slug} if on else held - {slug}), actor)


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime('%Y-%m-%d %H:%M') if moment else 'never'
