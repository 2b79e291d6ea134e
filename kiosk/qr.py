"""Which QR codes a program offers, and each as inline SVG, made locally (nothing leaves the kiosk) and cached."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from kiosk.content import Program
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


@lru_cache(maxsize=256)
def qr_svg(text: str) -> str:
    """A scalable SVG with a white background and the standard 4-module quiet zone.

    Error correction M survives screen glare and a slightly shaky phone. qrcode is imported here, not
    at start-up: the app renders every code it shows just after starting (app.warm_up).
    """
    import qrcode.constants
    from qrcode.image.svg import SvgPathFillImage

    class WithoutId(SvgPathFillImage):
        """qrcode names every path `qr-path`: two codes on one screen would share an id, which HTML forbids."""

        def process(self) -> None:
            super().process()
            del self.path.attrib['id']

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, image_factory=WithoutId)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image().to_string(encoding='unicode')
