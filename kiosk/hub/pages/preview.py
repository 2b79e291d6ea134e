"""The Content page's preview: the kiosk's own screens (kiosk/app.py's `screens`, kiosk/pages/) run in the hub on
the saved draft, for admins and publishers, one screen per page load, framed by the Content page at a kiosk's size.

Nothing is imitated: the same page code, the same style sheets and the same QR codes. Nothing is kept either: the
preview's store refuses every sign-up (the screen then says what a kiosk says when it cannot save), its visit
counts no view, and it has no speech, printer or idle reset.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from kiosk.app import SCREEN_HEAD, VISITOR_SCREENS, screens
from kiosk.config import LANGUAGES, Settings
from kiosk.content import Catalog, ContentError, parse_catalog
from kiosk.hub.content import current_draft
from kiosk.hub.hub import Hub
from kiosk.hub.pages.frame import open_screen
from kiosk.kiosk import Kiosk
from kiosk.storage.store import StoreUnavailable
from kiosk.visit import Visit

PATH = '/preview'


class NoSignups:
    """The preview's store: a sign-up sent from a preview is never kept."""

    def add(self, record: dict) -> None:
        raise StoreUnavailable('a preview keeps no sign-ups')


def preview_kiosk(catalog: Catalog) -> Kiosk:
    """A kiosk with the draft's programs and nothing behind it: no store, sync, speech, printer or clock jobs."""
    settings = Settings.model_construct()  # the defaults, whatever KIOSK_* the hub's own environment holds
    return Kiosk(settings=settings, catalog=catalog, content=None, store=NoSignups(), syncer=None, jobs=None,
                 pin=None, audit=None, view_counts=None, speech=None, printer=None, screen=None)


def screen_paths(catalog: Catalog) -> dict[str, str]:
    """Every screen a preview shows: path -> what the Content page calls it."""
    paths = {'/': 'Attract (what a passer-by sees)', '/home': 'Home (the program cards)'}
    for program in catalog.program:
        paths[f'/program/{program.slug}'] = program.en.title
        if program.signup:
            paths[f'/program/{program.slug}/signup'] = f'{program.en.title}: sign-up'
    return paths


def register(hub: Hub) -> None:
    @ui.page(PATH)
    async def preview(request: Request, screen: str = '/', lang: str = 'en') -> RedirectResponse | None:
        session = await open_screen(hub, request, '/content')
        if isinstance(session, RedirectResponse):
            return session
        async with hub.pool.connection() as conn:
            draft = await current_draft(conn)
        try:
            catalog = parse_catalog(draft.programs.encode(), 'draft')
        except ContentError as error:
            ui.add_head_html('<script>document.documentElement.lang = "en"</script>')
            ui.label(f'The draft has {len(error.problems)} problem(s); the preview shows once they are fixed.')
            return None
        language = lang if lang in LANGUAGES else 'en'
        ui.add_head_html(SCREEN_HEAD)
        ui.add_head_html(f'<script>document.documentElement.lang = {language!r}</script>')
        # A tap moves between screens as on a kiosk; the address keeps naming the preview, so a reload stays here.
        ui.add_head_html('<script>{ const push = history.pushState.bind(history); history.pushState = (state, title, '
                         f'path) => push(state, title, "{PATH}?lang={language}&screen=" + encodeURIComponent(path)); }}'
                         '</script>')
        # The screen to show, as if the kiosk's browser were at that path; the kiosk's own router does the rest.
        ui.context.client.sub_pages_router.current_path = screen if screen in screen_paths(catalog) else '/'
        visit = Visit(language=language, viewed=set(catalog.by_slug))  # already "seen": a preview counts no view
        screens(preview_kiosk(catalog), visit, VISITOR_SCREENS)
        return None
