"""Every visible string goes through `t(key, language)`; catalogs live in `assets/i18n/<language>.toml`."""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import cache

from babel.dates import format_date, format_time

from kiosk.config import LANGUAGES, Language
from kiosk.paths import ASSETS_DIR

CATALOG_DIR = ASSETS_DIR / 'i18n'
# Dates and times as written in the United States: "7:00 PM", and in US Spanish "7:00 p.m." (CLDR's es_US),
# the style the programs file uses too, rather than Spain's 24-hour "19:00".
LOCALES: dict[Language, str] = {'en': 'en_US', 'es': 'es_US'}


@cache
def catalog(language: Language) -> dict[str, str]:
    with (CATALOG_DIR / f'{language}.toml').open('rb') as file:
        return tomllib.load(file)


def t(key: str, language: Language, **values: object) -> str:
    """The text for `key`; a missing key is a bug that the catalog test catches, so fail loudly."""
    return catalog(language)[key].format(**values)


def other_language(language: Language) -> Language:
    return LANGUAGES[1 - LANGUAGES.index(language)]


def meeting_date(moment: datetime, language: Language) -> str:
    """'Thursday, December 10, 2026' / 'jueves, 10 de diciembre de 2026'."""
    return format_date(moment, 'full', locale=LOCALES[language])


def meeting_time(moment: datetime, language: Language) -> str:
    """'7:00 PM' / '7:00 p.m.', with Babel's narrow no-break space before the period (the slip makes it a space)."""
    return format_time(moment, 'short', locale=LOCALES[language])


def meeting_when(moment: datetime, language: Language) -> str:
    return t('meeting_when', language, date=meeting_date(moment, language), time=meeting_time(moment, language))
