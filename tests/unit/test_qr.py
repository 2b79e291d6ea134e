"""The QR codes as SVG: a page may hold several, even the same one twice, so they carry no id."""

import xml.etree.ElementTree as ET

from kiosk.qr import qr_svg


def test_a_qr_code_svg_has_no_id_so_codes_on_one_page_never_share_one():
    for text in ('tel:+13144445967', 'http://www.slmpd.org/pal.shtml', 'tel:+13144445967'):  # the last one cached
        svg = ET.fromstring(qr_svg(text))
        assert [element.tag for element in svg.iter() if 'id' in element.attrib] == []
        assert svg.find('{http://www.w3.org/2000/svg}path') is not None
