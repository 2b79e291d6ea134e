"""The `Kiosk` bundle: everything the screens need, built once at start-up (as kiosk/hub/hub.py is for the hub).

In its own module, free of NiceGUI, so that a screen can say `kiosk: Kiosk` without importing kiosk/app.py,
which imports the screens.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kiosk.audit import AuditLog
from kiosk.config import Settings
from kiosk.content import Catalog
from kiosk.health import health
from kiosk.jobs import KioskScheduler
from kiosk.pin import StaffPin
from kiosk.published import PublishedContent
from kiosk.screen import ScreenWatch
from kiosk.slip import SlipPrinter
from kiosk.speech import SpeechCache
from kiosk.storage.store import SignupStore
from kiosk.sync import Syncer
from kiosk.view_counts import ViewCounter


@dataclass(frozen=True)
class Kiosk:
    """Everything the screens need, built once at start-up."""

    settings: Settings
    catalog: Catalog  # what this visit shows: fixed for the whole page load (see for_visit)
    content: PublishedContent  # the published versions on disk, and the one that runs
    store: SignupStore
    syncer: Syncer
    jobs: KioskScheduler
    pin: StaffPin
    audit: AuditLog
    view_counts: ViewCounter
    speech: SpeechCache | None  # None: speech is off, or espeak-ng is missing (`kiosk doctor` says which)
    printer: SlipPrinter | None  # None: no KIOSK_PRINTER, and nothing about printing appears
    screen: ScreenWatch

    def for_visit(self) -> Kiosk:
        """The kiosk as one page load sees it: the content that runs now, kept for the whole visit, so a switch
        shows at the next page load and never changes a screen under a visitor's finger."""
        catalog = self.content.current().catalog
        return self if catalog is self.catalog else replace(self, catalog=catalog)

    def report(self) -> dict:
        """The health report of /healthz, the heartbeat and the staff console (blocking: it reads the store)."""
        return health(self.store, self.syncer, self.printer, self.pin, self.screen, self.content)
