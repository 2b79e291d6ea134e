"""The QR codes as SVG: a page may hold several, even the same one twice, so they carry no id."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from kiosk.content import load_catalog
from kiosk.paths import ASSETS_DIR
from kiosk.qr import SCREEN_MAX_VERSION, qr_svg, qr_version, too_dense


def test_a_qr_code_svg_has_no_id_so_codes_on_one_page_never_share_one():
    for text in ('tel:+13144445967', 'http://www.slmpd.org/pal.shtml', 'tel:+13144445967'):  # the last one cached
        svg = ET.fromstring(qr_svg(text))
        assert [element.tag for element in svg.iter() if 'id' in element.attrib] == []
        assert svg.find('{http://www.w3.org/2000/svg}path') is not None


def test_the_screens_codes_stay_small_enough_to_scan_and_a_longer_text_is_told_apart():
    """Every factory code is far below the screen's limit; a text past it, or past any QR code, is caught."""
    catalog = load_catalog(ASSETS_DIR / 'programs.toml')
    assert too_dense(catalog, datetime(2026, 12, 7, tzinfo=UTC)) == []
    assert qr_version('x' * 100) < SCREEN_MAX_VERSION < qr_version('x' * 1200) < qr_version('x' * 3000) == 41
