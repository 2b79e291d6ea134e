"""US phone numbers: stored as E.164 (+13144445371), shown in the friendly form ((314) 444-5371)."""

import re

_NON_DIGITS = re.compile(r'[\s().\-+]')


def to_e164(text: str) -> str | None:
    """The E.164 form of a US number written any common way, or None if it is not one."""
    digits = _NON_DIGITS.sub('', text.strip())
    if not digits.isascii() or not digits.isdigit():
        return None
    if len(digits) == 11 and digits.startswith('1'):
        digits = digits[1:]
    # NANP: area code and exchange never start with 0 or 1.
    if len(digits) != 10 or digits[0] in '01' or digits[3] in '01':
        return None
    return '+1' + digits


def friendly(e164: str) -> str:
    digits = e164.removeprefix('+1')
    return f'({digits[:3]}) {digits[3:6]}-{digits[6:]}'


def tel_uri(e164: str) -> str:
    return f'tel:{e164}'
