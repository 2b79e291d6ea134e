"""Every signed-in hub screen: who is signed in, the way to the other screens, and the idle sign-out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from kiosk.hub import db
from kiosk.hub.auth import SESSION_COOKIE, must_enrol, token_digest
from kiosk.hub.db import Viewer
from kiosk.hub.hub import Hub

SESSION_CHECK_SECONDS = 60
ADMINS, PUBLISHERS = frozenset({'admin'}), frozenset({'admin', 'publisher'})
STAFF, EVERYONE = frozenset({'admin', 'coordinator'}), frozenset({'admin', 'coordinator', 'publisher'})
# Each screen with the roles that may open it: a publisher edits what the kiosks say and sees no sign-up.
SCREENS = (('/signups', 'Sign-ups', STAFF), ('/kiosks', 'Kiosks', STAFF), ('/activity', 'Activity', STAFF),
           ('/conflicts', 'Conflicts', ADMINS), ('/audit', 'Audit log', ADMINS), ('/users', 'Users', ADMINS),
           ('/content', 'Content', PUBLISHERS), ('/account', 'My account', EVERYONE))
TITLES = {path: title for path, title, _ in SCREENS}
OPEN_TO = {path: roles for path, _, roles in SCREENS}


def first_screen(role: str) -> str:
    """Where a role lands: the first screen it may open (Sign-ups for staff, Content for a publisher)."""
    return next(path for path, _, roles in SCREENS if role in roles)


class Session:
    """A signed-in page and its viewer.

    Call `renew()` before each action: what a person does is what keeps a session alive, and it brings the
    viewer up to date, so a changed role or set of programs applies at that action. `still_open()` only
    looks: the page's timer uses it, so an open tab nobody touches still ends.
    """

    def __init__(self, hub: Hub, token: str, viewer: Viewer) -> None:
        self.hub = hub
        self.token = token
        self.viewer = viewer

    @classmethod
    async def of(cls, hub: Hub, request: Request) -> Session | None:
        """The session of a page being loaded (a load is an action: it renews)."""
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        viewer = await live_viewer(hub, token, renew=True)
        # A one-time password, or a second factor the hub requires and the user lacks, opens no screen: the
        # sign-in sends its user to /password or /two-factor first.
        return cls(hub, token, viewer) if viewer and comes_first(hub, viewer) is None else None

    async def renew(self) -> bool:
        viewer = await live_viewer(self.hub, self.token, renew=True)
        if viewer is not None:
            self.viewer = viewer
        return self._or_sign_in(viewer)

    async def still_open(self) -> bool:
        return self._or_sign_in(await live_viewer(self.hub, self.token, renew=False))

    @staticmethod
    def _or_sign_in(viewer: Viewer | None) -> bool:
        if viewer is None:
            ui.navigate.to('/login?idle=1')
        return viewer is not None

    async def audit(self, action: str, detail: dict | None = None) -> None:
        async with self.hub.pool.connection() as conn:
            await db.audit(conn, self.viewer.email, action, detail)


def comes_first(hub: Hub, viewer: Viewer) -> str | None:
    """What a signed-in user must do before any screen opens: their own password if theirs is one-time, then the
    second factor if the hub requires one they lack; None when nothing is left."""
    if viewer.must_change_password:
        return '/password'
    if must_enrol(viewer, hub.settings.require_2fa):
        return '/two-factor'
    return None


def landing(hub: Hub, viewer: Viewer) -> str:
    """Where a signed-in user goes: what comes first, else the first screen of their role."""
    return comes_first(hub, viewer) or first_screen(viewer.role)


async def open_screen(hub: Hub, request: Request, path: str) -> Session | RedirectResponse:
    """The session of a screen being loaded, or where to go instead: the sign-in, or the first screen of the
    viewer's role when the role may not open this one."""
    session = await Session.of(hub, request)
    if session is None:
        return RedirectResponse('/login', status_code=303)
    if session.viewer.role not in OPEN_TO.get(path, EVERYONE):
        return RedirectResponse(first_screen(session.viewer.role), status_code=303)
    async with hub.pool.connection() as conn:
        await hub.programs.refresh(conn)  # a program published since, by any hub process, is named on this screen
    return session


def screen(hub: Hub, path: str, title: str | None = None) -> Callable[[Callable[..., Awaitable[None]]], None]:
    """Registers `draw` as the signed-in screen at `path`, in the frame, with its title from SCREENS.

    A path with parameters (`/signups/{signup_id}`) is a screen within the first part's one: it gives its own
    title, the navigation marks the screen it belongs to, and `draw` gets the parameters as keyword arguments.
    """
    belongs_to = '/' + path.split('/')[1]

    def register(draw: Callable[..., Awaitable[None]]) -> None:
        @ui.page(path)
        async def page(request: Request) -> RedirectResponse | None:
            session = await open_screen(hub, request, belongs_to)
            if isinstance(session, RedirectResponse):
                return session
            with frame(session, title or TITLES[path], belongs_to):
                await draw(session, **request.path_params)
            return None

    return register


async def live_viewer(hub: Hub, token: str, *, renew: bool) -> Viewer | None:
    async with hub.pool.connection() as conn:
        return await db.session_viewer(conn, token_digest(token), hub.settings.session_idle_minutes,
                                       hub.settings.session_max_hours, renew=renew)


def page_head(title: str) -> None:
    ui.page_title(f'{title} · SLMPD Kiosk Hub')
    ui.add_head_html('<link rel="stylesheet" href="/static/layout.css"><link rel="stylesheet" href="/static/hub.css">'
                     '<script>document.documentElement.lang = "en"</script>')


@contextmanager
def frame(session: Session, title: str, current: str) -> Iterator[None]:
    page_head(title)
    viewer = session.viewer
    with ui.header().classes('hub-header items-center'):
        ui.label('SLMPD Kiosk Hub').classes('hub-brand')
        with ui.element('nav').props('aria-label="Screens"').classes('row gap-2'):
            for path, name, roles in SCREENS:
                if viewer.role not in roles:
                    continue
                link = ui.link(name, path).classes('hub-nav')
                if path == current:
                    link.props('aria-current=page')
        ui.space()
        who = viewer.role if viewer.role != 'coordinator' else \
            f'coordinator: {", ".join(viewer.programs) or "no programs yet"}'
        ui.label(f'{viewer.email} ({who})').classes('hub-who')
        with ui.element('form').props('method=post action=/logout'):
            ui.button('Sign out', color=None).props('type=submit flat no-caps').classes('hub-signout')

    ui.timer(SESSION_CHECK_SECONDS, session.still_open)
    with ui.column().classes('hub-main w-full'):
        ui.html(f'<h1>{title}</h1>')
        yield
