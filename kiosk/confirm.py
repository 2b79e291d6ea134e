"""After a switch, every visitor screen is loaded from the running server, as a browser would: the new version is
confirmed, or the screen that fails is the reason to go back (PublishedContent.fall_back).

A real page load is the honest check: it runs the very page code, with the server's settings, and a screen that
raises shows the calm "something went wrong" screen (kiosk/pages/components/screens.py), which is what is looked
for. Each screen is loaded in each language (the check's header names it, and no view is counted). The loads
also fill the server's QR code cache for the new content.
"""

from __future__ import annotations

import httpx

from kiosk.config import LANGUAGES
from kiosk.content import Catalog
from kiosk.i18n import t

CHECK_TIMEOUT_SECONDS = 30
LANGUAGE_NAMES = {'en': 'English', 'es': 'Spanish'}
CHECK_HEADER = 'X-Kiosk-Screen-Check'  # its value is the language to render in; these loads count no views


class CannotCheck(Exception):
    """The server did not answer its own page loads: nothing is judged, the check runs again later."""


def screen_paths(catalog: Catalog) -> list[str]:
    """Attract, home, each program and each sign-up form."""
    paths = ['/', '/home']
    for program in catalog.program:
        paths.append(f'/program/{program.slug}')
        if program.signup:
            paths.append(f'/program/{program.slug}/signup')
    return paths


async def broken_screen(base_url: str, catalog: Catalog) -> str | None:
    """Why a screen of `catalog` fails to render (its path, language and what happened), or None when all load."""
    failures = [t('screen_error', language) for language in LANGUAGES]
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=CHECK_TIMEOUT_SECONDS) as client:
            for language in LANGUAGES:
                for path in screen_paths(catalog):
                    response = await client.get(path, headers={CHECK_HEADER: language})
                    where = f'the screen {path} in {LANGUAGE_NAMES[language]}'
                    if response.status_code != 200:
                        return f'{where} answered HTTP {response.status_code}'
                    if any(failure in response.text for failure in failures):
                        return f'{where} failed to render'
    except httpx.TransportError as error:
        raise CannotCheck(f'the server did not answer ({type(error).__name__})') from error
    return None
