"""Which QR codes a program offers, and each as inline SVG, made locally (nothing leaves the kiosk) and cached."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from kiosk.config import LANGUAGES
from kiosk.content import Catalog, Program
from kiosk.i18n import t
from kiosk.phone import friendly, tel_uri


class QrAction(NamedTuple):
    payload: str
    caption: str
    big_text: str | None
    mark: str


def qr_actions(program: Program, language: str, next_meeting: list[datetime]) -> list[QrAction]:
    """The QR codes in the order a visitor should use them; call-first programs lead with the phone.

    The screen, the calm could-not-save message and the printed slip all offer exactly these.
    """
    phone = url = calendar = None
    if program.phone:
        phone = QrAction(tel_uri(program.phone), t('scan_to_call', language), friendly(program.phone), 'qr-phone')
    if program.url:
        url = QrAction(str(program.url), t(f'scan_to_{program.url_purpose}', language), None, 'qr-url')
    if program.meetings and next_meeting:
        calendar = QrAction(program.meetings.calendar_event(next_meeting[0], language),
                            t('scan_to_save_date', language), None, 'qr-calendar')
    ordered = [phone, url, calendar] if program.call_first else [url, phone, calendar]
    return [action for action in ordered if action]


# The screen shows a code in a 260 px square (kiosk.css, .qr-card .qr): up to version 26 (121 modules and the
# 4-module quiet zone on each side) each module is at least 2 px, which a phone held at arm's length still reads.
SCREEN_MAX_VERSION = 26


@lru_cache(maxsize=256)
def qr_svg(text: str) -> str:
    """A scalable SVG with a white background and the standard 4-module quiet zone.

    qrcode is imported here, not at start-up: the app renders every code it shows just after starting
    (app.warm_up).
    """
    from qrcode.image.svg import SvgPathFillImage

    class WithoutId(SvgPathFillImage):
        """qrcode names every path `qr-path`: two codes on one screen would share an id, which HTML forbids."""

        def process(self) -> None:
            super().process()
            del self.path.attrib['id']

    return _fitted(text).make_image(image_factory=WithoutId).to_string(encoding='unicode')


@lru_cache(maxsize=256)  # the Content page checks as a publisher types: only the code whose text changed is made
def qr_version(text: str) -> int:
    """The QR version (size, 1 to 40) the screen's code for `text` takes; 41 when no QR code holds it."""
    from qrcode.exceptions import DataOverflowError

    try:
        return _fitted(text).version
    except (ValueError, DataOverflowError):  # qrcode 8 raises ValueError
        return 41


def too_dense(catalog: Catalog, now: datetime) -> list[tuple[int, str, QrAction]]:
    """(program index, language, code) for each code the screen would show too dense to scan, or could not make:
    checked before content is published, since the kiosk can only fall back once it has it."""
    dense = {}  # a link or a number is one code in both languages: said once
    for index, program in enumerate(catalog.program):
        upcoming = program.meetings.next_meetings(now, 1) if program.meetings else []
        for language in LANGUAGES:
            for action in qr_actions(program, language, upcoming):
                if qr_version(action.payload) > SCREEN_MAX_VERSION:
                    dense.setdefault((index, action.payload), (index, language, action))
    return list(dense.values())


def _fitted(text: str):
    """The smallest code for `text`; error correction M survives screen glare and a slightly shaky phone."""
    import qrcode.constants

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code
