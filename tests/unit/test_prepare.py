"""A new version's QR codes and speech are made before the pointer moves, so the first visitor waits for neither."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.bundle import PROGRAMS, build, parse_public_key, public_key_text
from kiosk.config import LANGUAGES
from kiosk.paths import ASSETS_DIR
from kiosk.prepare import prepare_screens
from kiosk.published import PublishedContent
from kiosk.qr import qr_actions, qr_svg
from kiosk.speech import SpeechCache, espeak, program_text

KEY = Ed25519PrivateKey.generate()
NEW_URL = 'https://www.slmpd.org/citizens-academy-2027'


def changed_programs() -> bytes:
    data = (ASSETS_DIR / 'programs.toml').read_bytes()
    start = data.index(b'slug = "citizens-academy"')
    url_at = data.index(b'url = "', start)
    url_end = data.index(b'"', url_at + len(b'url = "'))
    changed = data[:url_at] + f'url = "{NEW_URL}'.encode() + data[url_end:]
    return changed.replace(b'title = "Citizens Academy"', b'title = "Citizens Police Academy 2027"', 1)


def is_cached(payload: str) -> bool:
    hits = qr_svg.cache_info().hits
    qr_svg(payload)
    return qr_svg.cache_info().hits == hits + 1


def new_texts(catalog) -> list[tuple[str, str]]:
    return [(program_text(catalog.by_slug['citizens-academy'], language, None), language) for language in LANGUAGES]


@pytest.mark.parametrize('with_speech', [False, pytest.param(True, marks=pytest.mark.skipif(
    espeak() is None, reason='espeak-ng is not installed'))])
def test_the_changed_qr_codes_and_speech_are_ready_before_the_switch(tmp_path, with_speech):
    content = PublishedContent(tmp_path, ASSETS_DIR / 'programs.toml', 'lobby-1',
                               parse_public_key(public_key_text(KEY)))
    speech = SpeechCache(tmp_path / 'speech', 130) if with_speech else None
    qr_svg.cache_clear()
    ready_before_switch = []

    def prepare(catalog) -> None:
        prepare_screens(catalog, speech)
        program = catalog.by_slug['citizens-academy']
        payloads = [action.payload for language in LANGUAGES for action in qr_actions(program, language, [])]
        assert NEW_URL in payloads
        spoken = [speech.path(speech.name_for(text, language)) for text, language in new_texts(catalog)] \
            if speech else []
        ready_before_switch.append(content.current().version == 0 and all(map(is_cached, payloads))
                                   and all(path is not None for path in spoken))

    _, switched = content.apply(build({PROGRAMS: changed_programs()}, 1, KEY), prepare)
    assert switched and ready_before_switch == [True]
    assert content.current().catalog.program[0].en.title == 'Citizens Police Academy 2027'
