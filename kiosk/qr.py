"""QR codes as inline SVG, made locally (nothing leaves the kiosk) and cached per text."""

from functools import lru_cache


@lru_cache(maxsize=256)
def qr_svg(text: str) -> str:
    """A scalable SVG with a white background and the standard 4-module quiet zone.

    Error correction M survives screen glare and a slightly shaky phone. qrcode is imported here, not
    at start-up: the app renders every code it shows just after starting (app.warm_up).
    """
    import qrcode.constants
    from qrcode.image.svg import SvgPathFillImage

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                         image_factory=SvgPathFillImage)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image().to_string(encoding='unicode')
