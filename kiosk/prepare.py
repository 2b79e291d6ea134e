"""What the first visitor would otherwise wait for, made ahead: every QR code and spoken text of a catalog.

Run just after start-up (app.warm_up) and, for published content, before the pointer moves to a new version
(PublishedContent.activate_due), so a switch never makes the next visitor wait for espeak-ng or a QR code.
Both caches are content-addressed, so only the texts that changed cost anything.
"""

from __future__ import annotations

import logging
import subprocess
from datetime import UTC, datetime

from kiosk.config import LANGUAGES
from kiosk.content import Catalog
from kiosk.qr import qr_actions, qr_svg
from kiosk.speech import SpeechCache, home_text, program_text

log = logging.getLogger('kiosk')


def prepare_screens(catalog: Catalog, speech: SpeechCache | None, *, qr_codes: bool = True) -> set[str] | None:
    """Render each program's QR codes (in this process's cache) and, with speech on, every text it can read aloud.

    Returns the speech files the catalog uses (None without speech, or if espeak-ng failed). A code too big to
    make is left for the screen to fail on: the check after a switch (kiosk/confirm.py) judges the screens.
    """
    from qrcode.exceptions import DataOverflowError  # qrcode loads after start-up, as in kiosk/qr.py

    now = datetime.now(UTC)
    texts = [(home_text(catalog, language), language) for language in LANGUAGES]
    for shown in catalog.program:
        upcoming = shown.meetings.next_meetings(now, 1) if shown.meetings else []
        for language in LANGUAGES:
            if qr_codes:
                for action in qr_actions(shown, language, upcoming):
                    try:
                        qr_svg(action.payload)
                    except (ValueError, DataOverflowError) as error:  # more than a code holds (qrcode 8: ValueError)
                        log.error('could not prepare a QR code for %s: %s', shown.slug, error)
            texts.append((program_text(shown, language, upcoming[0] if upcoming else None), language))
    if speech is None:
        return None
    try:
        return {speech.render(text, language) for text, language in texts}
    except (OSError, subprocess.SubprocessError) as error:
        log.error('could not prepare speech: %s', error)
        return None
