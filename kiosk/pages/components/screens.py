"""The router for visitor screens: a NiceGUI sub_pages that never shows a traceback or a bare 404."""

import logging

from nicegui import ui

from kiosk.i18n import t

log = logging.getLogger('kiosk')


class KioskPages(ui.sub_pages):
    """Errors and unknown paths get a calm screen in the visitor's language, with a way home."""

    def _render_error(self, error: Exception) -> None:
        log.error('screen %s failed', self._router.current_path, exc_info=error)
        self._calm_screen('screen_error')

    def _render_404(self) -> None:
        self._calm_screen('screen_not_found')

    def _calm_screen(self, key: str) -> None:
        language = self._data['visit'].language
        with ui.column().classes('screen items-center'):
            ui.label(t(key, language)).classes('text-h4')
            ui.button(t('home', language), on_click=lambda: ui.navigate.to('/home'), color=None) \
                .classes('primary-action')
