"""The spoken files as a person would hear them: real WAV from espeak-ng, about as long as the text, not silent."""

from __future__ import annotations

import array
import math
import wave

import pytest

from kiosk.config import load_settings
from kiosk.content import load_catalog
from kiosk.speech import SpeechCache, program_text

pytestmark = pytest.mark.needs_tool('espeak-ng')


def listen(path) -> tuple[float, float]:
    """(seconds, RMS of the 16-bit samples)."""
    with wave.open(str(path)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth()) == (1, 2)
        frames = audio.readframes(audio.getnframes())
        seconds = audio.getnframes() / audio.getframerate()
    samples = array.array('h', frames)
    return seconds, math.sqrt(sum(sample * sample for sample in samples) / len(samples))


@pytest.fixture
def pal_text():
    return program_text(load_catalog(load_settings().content).by_slug['pal'], 'en', None)


def test_a_program_is_spoken_at_a_pace_seniors_can_follow(tmp_path, pal_text):
    cache = SpeechCache(tmp_path / 'speech', rate_wpm=130)
    seconds, rms = listen(cache.path(cache.render(pal_text, 'en')))
    words = len(pal_text.split())
    expected = words / 130 * 60
    assert 0.6 * expected < seconds < 1.8 * expected, (seconds, expected)
    assert rms > 500, 'not silent'


def test_spanish_is_spoken_too(tmp_path):
    text = program_text(load_catalog(load_settings().content).by_slug['pal'], 'es', None)
    cache = SpeechCache(tmp_path / 'speech', rate_wpm=130)
    seconds, rms = listen(cache.path(cache.render(text, 'es')))
    assert seconds > 10 and rms > 500


def test_each_text_is_rendered_once_and_a_change_renders_only_that_text(tmp_path, pal_text):
    cache = SpeechCache(tmp_path / 'speech', rate_wpm=130)
    first = cache.render(pal_text, 'en')
    made = cache.path(first).stat().st_mtime_ns
    assert cache.render(pal_text, 'en') == first and cache.path(first).stat().st_mtime_ns == made
    changed = cache.render(pal_text + ' Bring water.', 'en')
    assert changed != first
    slower = SpeechCache(tmp_path / 'speech', rate_wpm=100)
    assert slower.render(pal_text, 'en') not in (first, changed), 'the speed is part of the key'
    assert listen(slower.path(slower.name_for(pal_text, 'en')))[0] > listen(cache.path(first))[0]
    assert cache.keep_only({first}) == 2 and [path.name for path in (tmp_path / 'speech').glob('*.wav')] == [first]
    assert cache.path('../../etc/passwd') is None and cache.path('0' * 64 + '.wav') is None
