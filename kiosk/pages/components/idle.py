"""The idle reset: ask "Are you still there?", count down, then reload `/` so the next visitor starts clean."""

from nicegui import ui
from nicegui.events import ValueChangeEventArguments

from kiosk.config import Settings
from kiosk.i18n import t
from kiosk.visit import Visit

# Any touch, key or typed character anywhere on the page counts as activity.
_ACTIVITY_LISTENER = '''<script>
for (const kind of ["pointerdown", "keydown", "input", "wheel"]) {
  document.addEventListener(kind, () => window.emitEvent && emitEvent("kiosk_activity"),
                            {capture: true, passive: true});
}
</script>'''


def watch_idle(visit: Visit, settings: Settings) -> None:
    client = ui.context.client
    router = client.sub_pages_router
    ui.add_body_html(_ACTIVITY_LISTENER)

    with ui.dialog().props('persistent').mark('idle-dialog') as dialog, \
            ui.card().classes('still-there items-center gap-6') as card:
        question = ui.label().classes('question').props('role=alert')
        countdown = ui.label()
        stay = ui.button(on_click=lambda: still_here(), color=None).classes('stay') \
            .props('no-caps').mark('still-here')
    dialog.props(f'aria-labelledby=c{question.id}')

    def keep_background_out_of_reach(event: ValueChangeEventArguments) -> None:
        """While the question is open, the screen behind it is inert for fingers and screen readers alike."""
        if event.value:
            ui.query('.kiosk').props('inert')
        else:
            ui.query('.kiosk').props(remove='inert')

    dialog.on_value_change(keep_background_out_of_reach)

    def still_here() -> None:
        visit.touch()
        dialog.close()

    def check() -> None:
        if router.current_path == '/':
            visit.touch()  # the attract screen is the resting state; nothing to reset
            return
        limit = settings.staff_idle_seconds if router.current_path.startswith('/staff') else settings.idle_seconds
        phase, seconds_left = visit.idle_phase(limit, settings.idle_countdown_seconds)
        if phase == 'active':
            dialog.close()
        elif phase == 'asking':
            card.style(f'--text-scale: {visit.text_scale}')  # the dialog sits outside the scaled screen
            question.text = t('still_there', visit.language)
            countdown.text = t('still_there_countdown', visit.language, seconds=seconds_left)
            stay.text = t('still_here', visit.language)
            dialog.open()
        else:
            timer.deactivate()
            client.open('/')  # a full page load: a fresh Visit, no trace of this one

    ui.on('kiosk_activity', visit.touch, throttle=1.0)
    router.on_path_changed(lambda _path: visit.touch())
    timer = ui.timer(1.0, check)
