"""Builds the NiceGUI app: static files, the root frame with its screens, and the server settings."""

from __future__ import annotations

import asyncio
import logging
import os

from fastapi import Response
from fastapi.responses import FileResponse
from nicegui import Client, app, background_tasks, ui

from kiosk.appliance.systemd import announce_ready, notify
from kiosk.audit import AuditLog
from kiosk.config import LANGUAGES, Settings
from kiosk.confirm import CHECK_HEADER
from kiosk.export import clear_leftovers
from kiosk.jobs import KioskScheduler
from kiosk.kiosk import Kiosk
from kiosk.pages import attract, home, program, signup, staff
from kiosk.pages.components.frame import frame
from kiosk.pages.components.idle import watch_idle
from kiosk.pages.components.presence import report_presence
from kiosk.pages.components.screens import KioskPages
from kiosk.pages.components.speaker import Speaker
from kiosk.paths import ASSETS_DIR
from kiosk.pin import StaffPin
from kiosk.prepare import prepare_screens
from kiosk.published import PublishedContent
from kiosk.screen import ScreenWatch
from kiosk.slip import SlipPrinter
from kiosk.speech import SpeechCache, espeak
from kiosk.storage.store import SignupStore
from kiosk.sync import Syncer
from kiosk.view_counts import ViewCounter
from kiosk.visit import Visit

log = logging.getLogger('kiosk')
WARM_UP_DELAY_SECONDS = 3
VISITOR_SCREENS = {
    '/': attract.screen,
    '/home': home.screen,
    '/program/{slug}': program.screen,
    '/program/{slug}/signup': signup.screen,
}
# What the visitor screens need in the page head (the files are in assets/static, which the hub serves too).
SCREEN_HEAD = ('<link rel="stylesheet" href="/static/layout.css"><link rel="stylesheet" href="/static/kiosk.css">'
               '<script src="/static/more_below.js"></script>')


def create(settings: Settings) -> Kiosk:
    content = PublishedContent.for_settings(settings)
    content.note_start()  # the second crash within 2 minutes of a switch puts the previous version back
    catalog = content.current().catalog  # the published version that runs, else the factory file
    store = SignupStore(settings.data_dir)
    store.open()  # before serving: recovers from whatever the last shutdown (or power cut) left behind
    clear_leftovers(settings.export_dir)  # CSVs a download left on the SD card while no stick was in
    syncer = Syncer(settings, store)
    printer = SlipPrinter(settings.printer, settings.printer_columns) if settings.printer else None
    # The kiosk is bound below, before the scheduler starts and long before its first heartbeat.
    speech = SpeechCache(settings.data_dir / 'speech', settings.speech_rate) if settings.speech and espeak() else None
    scheduler = KioskScheduler(syncer, store, content, printer, report=lambda: kiosk.report(),
                               prepare=lambda catalog: prepare_screens(catalog, speech))
    kiosk = Kiosk(settings=settings, catalog=catalog, content=content, store=store, syncer=syncer, jobs=scheduler,
                  pin=StaffPin(settings.data_dir), audit=AuditLog(settings.data_dir),
                  view_counts=ViewCounter(settings.data_dir), speech=speech, printer=printer,
                  screen=ScreenWatch(settings.screen_missing_seconds))
    app.on_startup(kiosk.jobs.start)
    app.on_shutdown(kiosk.jobs.shutdown)
    app.on_shutdown(content.note_clean_stop)  # a stop that was asked for is not a crash
    if os.environ.get('NOTIFY_SOCKET'):  # run by systemd (Type=notify): say when `/` is served
        app.on_startup(lambda: background_tasks.create(announce_ready(lambda: _serves_root(settings)),
                                                       name='sd_notify'))
        app.on_shutdown(lambda: notify('STOPPING=1'))

    app.on_startup(lambda: background_tasks.create(warm_up(kiosk), name='warm up'))
    if speech:
        @app.get('/speech/{name}')
        def spoken(name: str) -> Response:
            """Content-addressed WAV files: the name is the hash of what they say, so they never change."""
            path = speech.path(name)
            if path is None:
                return Response(status_code=404)
            return FileResponse(path, media_type='audio/wav',
                                headers={'Cache-Control': 'public, max-age=31536000, immutable'})

    @app.get('/sw.js')
    def service_worker() -> FileResponse:
        """At the root, so its scope covers every screen: a failed navigation gets the "One moment" page."""
        return FileResponse(ASSETS_DIR / 'static' / 'sw.js', media_type='text/javascript',
                            headers={'Cache-Control': 'no-cache'})

    @app.get('/healthz')
    async def healthz() -> dict:
        """For remote monitoring: counts and times only. Reads run off the loop, so a sync never delays it.

        `clients` and `elements` are the live NiceGUI pages and their elements: after visitors leave they
        must fall back, or something holds on to old visits (the memory benchmark and a test watch them).
        """
        report = await asyncio.to_thread(kiosk.report)
        return {**report, 'clients': len(Client.instances),
                'elements': sum(len(client.elements) for client in Client.instances.values())}

    # Quasar's navigation progress bar has role=progressbar but no name; axe rightly flags that.
    app.config.quasar_config['loadingBar']['aria-label'] = 'Loading · Cargando'
    app.colors(primary='#14325c')  # app-wide through Quasar's config: no colour script on every page
    app.add_static_files('/static', ASSETS_DIR / 'static')
    ui.add_head_html(SCREEN_HEAD, shared=True)
    # A long press on a touch panel is a right click: its menu offers "Open image in new tab", which under
    # --kiosk fills the screen with nothing to tap. Captured first, so no element can let it through.
    ui.add_head_html('<link rel="stylesheet" href="/static/touch.css">'
                     '<script>addEventListener("contextmenu", (event) => event.preventDefault(), {capture: true})'
                     '</script>', shared=True)
    ui.add_head_html('<script>navigator.serviceWorker?.register("/sw.js")</script>', shared=True)
    return kiosk


async def _serves_root(settings: Settings) -> bool:
    import httpx  # only under systemd, and only at start: not worth importing for every other start

    try:
        async with httpx.AsyncClient(timeout=5) as client:
            return (await client.get(settings.local_url + '/')).status_code == 200
    except httpx.TransportError:
        return False


async def warm_up(kiosk: Kiosk) -> None:
    """Just after start-up, not during it: every QR code and spoken text ready before a visitor asks, stale speech
    dropped; then the screens of a version switched to while the server was down (or just before a crash) are
    checked."""
    await asyncio.sleep(WARM_UP_DELAY_SECONDS)
    await asyncio.to_thread(keep_only_current_speech, kiosk.for_visit())
    await kiosk.jobs.confirm_switch()


def keep_only_current_speech(kiosk: Kiosk) -> None:
    names = prepare_screens(kiosk.catalog, kiosk.speech)
    if kiosk.speech is not None and names is not None:
        kiosk.speech.keep_only(names)


def root(kiosk: Kiosk) -> None:
    """One page load is one visit: all per-visitor state lives in this call and dies with it."""
    kiosk = kiosk.for_visit()
    checked_in = ui.context.client.request.headers.get(CHECK_HEADER)  # the server's own check after a switch
    visit = Visit(language=checked_in if checked_in in LANGUAGES else kiosk.settings.language,
                  counts_views=checked_in is None)
    watch_idle(visit, kiosk.settings)
    report_presence(kiosk.screen)
    screens(kiosk, visit, {**VISITOR_SCREENS, '/staff': staff.screen})


def screens(kiosk: Kiosk, visit: Visit, routes: dict) -> None:
    """The frame and the screens: the hub runs this same code on a draft (kiosk/hub/pages/preview.py)."""
    with frame(visit):
        speaker = Speaker(kiosk.speech, visit)
        KioskPages(routes, data={'kiosk': kiosk, 'visit': visit, 'speaker': speaker})


def serve(settings: Settings) -> None:
    kiosk = create(settings)
    ui.run(lambda: root(kiosk),
           host=settings.host, port=settings.port, title='SLMPD Community Programs',
           favicon=ASSETS_DIR / 'static' / 'logo.svg', reload=False, show=False,
           show_welcome_message=False, reconnect_timeout=10, tailwind=False)
