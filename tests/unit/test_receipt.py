"""The receipt reader the slip's tests rely on: it reads what a printer prints and refuses what it does not know."""

import pytest

from kiosk.receipt import Cut, PrintedLine, PrintedQr, UnknownCommand, read_receipt

QR_DATA = b'\x1d(k\x08\x001P0tel:1'  # store "tel:1" (length 8: cn, fn, m and 5 bytes)
QR_PRINT = b'\x1d(k\x03\x001Q0'


def test_text_code_page_size_alignment_qr_and_cut_read_as_printed():
    data = (b'\x1bt\x02\x1ba\x01\x1b!\x30Reuni\xa2n\n\x1b!\x00\x1ba\x00a\xa4o\n'
            b'\x1d(k\x03\x001C\x05' + QR_DATA + QR_PRINT + b'\x1bd\x02\x1dV\x00')
    assert read_receipt(data) == [
        PrintedLine('Reunión', 'center', False, 2, 2), PrintedLine('año'),
        PrintedQr('tel:1', 5, 'L', 'left'), PrintedLine(''), PrintedLine(''), Cut()]


def test_other_two_d_symbols_are_skipped_by_their_length_even_with_a_line_feed_inside():
    assert read_receipt(b'\x1d(k\x05\x000P\n\x1b@ok\n') == [PrintedLine('ok')]


@pytest.mark.parametrize('data', [
    b'\x1bXhi\n',  # an ESC command it does not know
    b'hi\r\n',  # a control byte
    b'a\xa4o\n',  # text above 0x7F before any ESC t
    b'\x1bt\x06x\n',  # a slot the profile does not name
    b'unprinted',  # text with no line feed
    b'\x1d(k\x09\x001P0ab',  # a GS ( k cut short
    QR_PRINT,  # a QR print with nothing stored
], ids=['esc', 'control', 'no-code-page', 'unknown-slot', 'no-line-feed', 'short', 'empty-qr'])
def test_what_a_printer_would_not_print_as_meant_is_an_error(data):
    with pytest.raises(UnknownCommand):
        read_receipt(data)
