"""Builds the NiceGUI app: static files, the root frame with its screens, and the server settings."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.responses import FileResponse
from nicegui import Client, app, background_tasks, run, ui

from kiosk.audit import AuditLog
from kiosk.config import Settings
from kiosk.content import Catalog, load_catalog
from kiosk.health import health
from kiosk.pages import attract, home, program, signup, staff
from kiosk.pages.components.frame import frame
from kiosk.pages.components.idle import watch_idle
from kiosk.pages.components.screens import KioskPages
from kiosk.paths import ASSETS_DIR
from kiosk.pin import StaffPin
from kiosk.scheduler import KioskScheduler
from kiosk.storage.store import SignupStore
from kiosk.sync import Syncer
from kiosk.systemd import announce_ready, notify
from kiosk.views import ViewCounter
from kiosk.visit import Visit


@dataclass(frozen=True)
class Kiosk:
    """Everything the screens need, built once at start-up."""

    settings: Settings
    catalog: Catalog
    store: SignupStore
    syncer: Syncer
    scheduler: KioskScheduler
    pin: StaffPin
    audit: AuditLog
    views: ViewCounter


def create(settings: Settings) -> Kiosk:
    catalog = load_catalog(settings.content)
    store = SignupStore(settings.data_dir)
    store.open()  # before serving: recovers from whatever the last shutdown (or power cut) left behind
    syncer = Syncer(settings, store)
    scheduler = KioskScheduler(syncer, store, content_hash(settings.content))
    kiosk = Kiosk(settings=settings, catalog=catalog, store=store, syncer=syncer, scheduler=scheduler,
                  pin=StaffPin(settings.data_dir), audit=AuditLog(settings.data_dir),
                  views=ViewCounter(settings.data_dir))
    app.on_startup(kiosk.scheduler.start)
    app.on_shutdown(kiosk.scheduler.shutdown)
    if os.environ.get('NOTIFY_SOCKET'):  # run by systemd (Type=notify): say when `/` is served
        app.on_startup(lambda: background_tasks.create(announce_ready(lambda: _serves_root(settings)),
                                                       name='sd_notify'))
        app.on_shutdown(lambda: notify('STOPPING=1'))

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
        report = await run.io_bound(health, store, syncer)
        return {**report, 'clients': len(Client.instances),
                'elements': sum(len(client.elements) for client in Client.instances.values())}

    # Quasar's navigation progress bar has role=progressbar but no name; axe rightly flags that.
    app.config.quasar_config['loadingBar']['aria-label'] = 'Loading · Cargando'
    app.colors(primary='#14325c')  # app-wide through Quasar's config: no colour script on every page
    app.add_static_files('/static', ASSETS_DIR / 'static')
    ui.add_head_html('<link rel="stylesheet" href="/static/kiosk.css">', shared=True)
    ui.add_head_html('<script>navigator.serviceWorker?.register("/sw.js")</script>', shared=True)
    return kiosk


async def _serves_root(settings: Settings) -> bool:
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            return (await client.get(settings.local_url + '/')).status_code == 200
    except httpx.TransportError:
        return False


def content_hash(path: Path) -> str:
    """Which version of the programs file this kiosk shows; the hub's fleet page compares them."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def root(kiosk: Kiosk) -> None:
    """One page load is one visit: all per-visitor state lives in this call and dies with it."""
    visit = Visit(language=kiosk.settings.language)
    routes = {
        '/': attract.screen,
        '/home': home.screen,
        '/program/{slug}': program.screen,
        '/program/{slug}/signup': signup.screen,
        '/staff': staff.screen,
    }
    watch_idle(visit, kiosk.settings)
    with frame(visit):
        KioskPages(routes, data={'kiosk': kiosk, 'visit': visit})


def serve(settings: Settings) -> None:
    kiosk = create(settings)
    ui.run(lambda: root(kiosk),
           host=settings.host, port=settings.port, title='SLMPD Community Programs',
           favicon=ASSETS_DIR / 'static' / 'logo.svg', reload=False, show=False,
           show_welcome_message=False, reconnect_timeout=10)
