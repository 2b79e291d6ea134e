"""Read aloud: one plain <audio> per page load. A screen adds its button; a second tap, leaving the screen,
a new language (the screen is rebuilt) or the idle reset (a full page load) all stop the voice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nicegui import ui

from kiosk.i18n import t
from kiosk.speech import SpeechCache
from kiosk.visit import Visit

_AUDIO = '''<audio id="kiosk-speech" preload="none"></audio>
<script>
document.getElementById("kiosk-speech")
  .addEventListener("ended", () => window.emitEvent && emitEvent("kiosk_speech_ended"));
</script>'''


class Speaker:
    def __init__(self, cache: SpeechCache | None, visit: Visit) -> None:
        self.cache = cache
        self.visit = visit
        self._button: ui.button | None = None
        if cache is None:
            return
        ui.add_body_html(_AUDIO)
        ui.on('kiosk_speech_ended', self._stopped)
        ui.context.client.sub_pages_router.on_path_changed(lambda _path: self.stop())

    def button(self, text: Callable[[], str]) -> None:
        """A large Read aloud button for this screen's `text()`; nothing at all when speech is unavailable."""
        if self.cache is None:
            return
        language = self.visit.language

        async def toggle() -> None:
            if self._button is button:
                self.stop()
                return
            self.stop()
            name = await asyncio.to_thread(self.cache.render, text(), language)
            ui.run_javascript(f'const voice = document.getElementById("kiosk-speech"); '
                              f'voice.src = "/speech/{name}"; voice.play();')
            self._button = button
            button.text = t('stop_reading', language)
            button.props('aria-pressed=true')

        button = ui.button(t('read_aloud', language), on_click=toggle, color=None) \
            .classes('secondary-action read-aloud').props('no-caps aria-pressed=false').mark('read-aloud')

    def stop(self) -> None:
        if self._button is not None:
            ui.run_javascript('document.getElementById("kiosk-speech")?.pause()')
            self._stopped()

    def _stopped(self) -> None:
        if self._button is not None and not self._button.is_deleted:
            self._button.text = t('read_aloud', self.visit.language)
            self._button.props('aria-pressed=false')
        self._button = None
