"""A large QR code with a one-line caption: the way a visitor takes a program home on their phone."""

from nicegui import ui

from kiosk.qr import qr_svg


def qr_card(payload: str, caption: str, *, big_text: str | None = None, mark: str | None = None) -> None:
    with ui.column().classes('qr-card') as card:
        # Trusted SVG made by qr_svg from program content, never from visitor input.
        ui.html(qr_svg(payload), sanitize=False).classes('qr').props(f'role=img aria-label="{caption}"')
        ui.label(caption).classes('caption')
        if big_text:
            ui.label(big_text).classes('big-number')
    if mark:
        card.mark(mark)
