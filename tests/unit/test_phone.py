import pytest

from kiosk.phone import friendly, tel_uri, to_e164


@pytest.mark.parametrize('text', ['(314) 444-5371', '314-444-5371', '314.444.5371', '3144445371', '+1 314 444 5371',
                                  '1-314-444-5371'])
def test_common_ways_of_writing_a_us_number(text):
    assert to_e164(text) == '+13144445371'


@pytest.mark.parametrize('text', ['', '444-5371', '314-444-537', '(014) 444-5371', '314-044-5371', 'call me',
                                  '３１４４４４５３７１', '+44 20 7946 0958'])
def test_not_a_us_number(text):
    assert to_e164(text) is None


def test_friendly_and_tel_forms():
    assert friendly('+13144445371') == '(314) 444-5371'
    assert tel_uri('+13144445371') == 'tel:+13144445371'
