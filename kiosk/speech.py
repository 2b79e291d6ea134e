"""Read aloud: what a screen says, spoken by espeak-ng on the kiosk itself (no network), cached as WAV files.

Each text is rendered once, off the event loop, into `<data dir>/speech/<hash>.wav`, where the hash
covers the text, language, voice and speed: a content change re-renders only what changed, and a
file is never half-written (rendered to a temporary name, then renamed).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from kiosk.config import Language
from kiosk.content import Catalog, Program
from kiosk.i18n import meeting_when, t
from kiosk.storage.atomic import private_dir

log = logging.getLogger('kiosk.speech')

VOICES: dict[str, str] = {'en': 'en-us', 'es': 'es-419'}  # St. Louis' Spanish speakers mostly learnt it in the Americas
DIGITS = {'en': ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'],
          'es': ['cero', 'uno', 'dos', 'tres', 'cuatro', 'cinco', 'seis', 'siete', 'ocho', 'nueve']}
FILE_NAME = re.compile(r'^[0-9a-f]{64}\.wav$')


def espeak() -> str | None:
    """The speech engine, or None when it is not installed (then there is no Read aloud button)."""
    return shutil.which('espeak-ng')


def spoken_digits(e164: str, language: Language) -> str:
    """'+13144445371' -> 'three one four, four four four, five three seven one': each digit, in groups."""
    digits = e164.removeprefix('+1')
    groups = (digits[:3], digits[3:6], digits[6:])
    return ', '.join(' '.join(DIGITS[language][int(digit)] for digit in group) for group in groups)


def program_text(program: Program, language: Language, next_meeting: datetime | None) -> str:
    """The title, summary and key facts, the phone number digit by digit, and the next meeting with its place."""
    words = program.words(language)
    parts = [words.title + '.', words.summary, *words.facts]
    if program.phone:
        parts.append(t('speech_call', language, digits=spoken_digits(program.phone, language)))
    if program.meetings and next_meeting:
        parts.append(t('speech_meeting', language, when=meeting_when(next_meeting, language),
                       place=program.meetings.location))
    return ' '.join(part if part.endswith(('.', '!', '?')) else part + '.' for part in parts)


def home_text(catalog: Catalog, language: Language) -> str:
    titles = [program.words(language).title for program in catalog.program]
    return t('speech_home', language, programs='; '.join(titles)) + '.'


class SpeechCache:
    def __init__(self, folder: Path, rate_wpm: int) -> None:
        self.folder = folder
        self.rate_wpm = rate_wpm

    def name_for(self, text: str, language: Language) -> str:
        key = '\n'.join((text, language, VOICES[language], str(self.rate_wpm)))
        return hashlib.sha256(key.encode()).hexdigest() + '.wav'

    def path(self, name: str) -> Path | None:
        """The cached file for a name from `name_for`; None for anything else (it comes from a URL)."""
        return self.folder / name if FILE_NAME.match(name) and (self.folder / name).is_file() else None

    def render(self, text: str, language: Language) -> str:
        """The file name of this text spoken in this language; renders it first if needed. Blocking."""
        name = self.name_for(text, language)
        target = self.folder / name
        if target.is_file():
            return name
        private_dir(self.folder)
        descriptor, temporary = tempfile.mkstemp(prefix='.speech.', suffix='.wav', dir=self.folder)
        os.close(descriptor)
        try:
            subprocess.run([espeak() or 'espeak-ng', '-v', VOICES[language], '-s', str(self.rate_wpm), '-w', temporary,
                            '--', text], check=True, capture_output=True, timeout=60)
            os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)
        return name

    def keep_only(self, names: set[str]) -> int:
        """Remove files for texts the kiosk no longer says (old content); returns how many went."""
        removed = 0
        for path in self.folder.glob('*.wav') if self.folder.is_dir() else []:
            if path.name not in names:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
