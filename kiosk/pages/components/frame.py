"""The frame around every visitor screen: header with logo, language switch and text-size control."""

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from kiosk.config import LANGUAGES
from kiosk.i18n import t
from kiosk.visit import TEXT_SCALES, Visit

LANGUAGE_NAMES = {'en': 'English', 'es': 'Español'}


@contextmanager
def frame(visit: Visit) -> Iterator[None]:
    """Screens render inside; the header hides on the attract screen, which is bilingual by itself."""
    ui.add_head_html(f'<script>document.documentElement.lang = {visit.language!r}</script>')
    router = ui.context.client.sub_pages_router

    @ui.refreshable
    def header() -> None:
        # Staff only: a 3-second press on the logo opens the console; visitors see no way in.
        ui.element('img').classes('logo').props(f'src=/static/logo.svg alt="{t("logo_alt", visit.language)}"') \
            .on('pointerdown', lambda: ui.navigate.to('/staff'),
                js_handler='() => { window.kioskHold = setTimeout(() => emit(), 3000) }') \
            .on('pointerup', js_handler='() => clearTimeout(window.kioskHold)') \
            .on('pointerleave', js_handler='() => clearTimeout(window.kioskHold)') \
            .on('pointercancel', js_handler='() => clearTimeout(window.kioskHold)').mark('logo')
        ui.label(t('brand', visit.language)).classes('brand')
        # Two groups that never split: where the panel is narrow, the text size moves under the languages.
        with ui.row().classes('header-controls'):
            with ui.row().classes('header-group'):
                for language in LANGUAGES:
                    ui.button(LANGUAGE_NAMES[language], on_click=lambda lang=language: choose_language(lang),
                              color=None) \
                        .props(f'no-caps lang={language} aria-pressed={str(language == visit.language).lower()}') \
                        .mark(f'language-{language}')
            with ui.row().classes('header-group'):
                ui.label(t('text_size', visit.language)).classes('text-size-label')
                for step, scale in enumerate(TEXT_SCALES):
                    # The name starts with what is shown, so voice control can say it (WCAG 2.5.3).
                    shown = 'A' + '+' * step
                    ui.button(shown, on_click=lambda scale=scale: choose_scale(scale), color=None) \
                        .props(f'no-caps aria-pressed={str(scale == visit.text_scale).lower()} '
                               f'aria-label="{shown} {t("text_size", visit.language)} {int(scale * 100)}%"') \
                        .style(f'font-size: {1 + step * 0.25}em').mark(f'text-size-{int(scale * 100)}')

    async def choose_language(language: str) -> None:
        visit.language = language
        await router.refresh()  # re-renders the screen; its path-change callback shows the language

    def choose_scale(scale: float) -> None:
        visit.text_scale = scale
        body.style(f'--text-scale: {scale}')
        header.refresh()

    with ui.column().classes('kiosk gap-0').style(f'--text-scale: {visit.text_scale}') \
            .props(f'lang={visit.language}') as body:
        with ui.row().classes('kiosk-header w-full items-center') as bar:
            header()
        bar.set_visibility(router.current_path != '/')

        def follow_path(path: str) -> None:
            """Every screen change, and a language chosen here or on the attract screen, passes through here."""
            bar.set_visibility(path != '/')
            body.props(f'lang={visit.language}')  # travels with the new words
            ui.run_javascript(f'document.documentElement.lang = {visit.language!r}')  # runs just after the render
            header.refresh()

        router.on_path_changed(follow_path)
        yield
