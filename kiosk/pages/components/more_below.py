"""A "More below" cue for screens taller than the panel: a senior may not know that a kiosk scrolls.

It shows while there is more under the fold and goes at the end (`/static/more_below.js` follows the
scroll); a touch on it scrolls most of a screen down.
"""

from nicegui import ui

from kiosk.config import Language
from kiosk.i18n import t


def more_below(language: Language) -> None:
    ui.button('↓ ' + t('more_below', language), color=None).classes('more-below-cue').props('no-caps') \
        .on('click', js_handler='() => window.scrollBy({top: innerHeight * 0.7, behavior: "smooth"})') \
        .mark('more-below')
