"""A calendar event as a calendar app receives it, for the tests of the event and of its QR code on screen."""

import vobject


def strictly_parsed(event: str):
    """The event as a calendar app receives it, checked by vobject, the strict parser (the lenient ones accept more)."""
    calendar = '\r\n'.join(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//SLMPD//Kiosk test//EN',
                             event, 'END:VCALENDAR', ''])
    parsed = vobject.readOne(calendar)
    parsed.validate(raiseException=True)
    return parsed.vevent
