"""Tells the ScreenWatch about this page: whether it is connected, which screen it shows, whether it is seen."""

from nicegui import ui
from nicegui.events import GenericEventArguments

from kiosk.screen import ScreenWatch

# Hidden means another tab or window covers the kiosk, which is all the page itself can notice. The
# server takes a page to be visible when it connects; this tells it otherwise, and every change after.
_VISIBILITY_REPORTER = '''<script>
window.kioskVisibility = {reported: "visible", check(always) {
  const state = document.visibilityState;
  if (window.did_handshake && (always || state !== this.reported)) {
    this.reported = state;
    emitEvent("kiosk_visibility", state);
  }
}};
document.addEventListener("visibilitychange", () => kioskVisibility.check());
setInterval(() => kioskVisibility.check(), 2000);  // Chromium hides the opener of window.open without the event
</script>'''


def report_presence(watch: ScreenWatch) -> None:
    client = ui.context.client
    router = client.sub_pages_router
    ui.add_body_html(_VISIBILITY_REPORTER)

    def connected() -> None:
        watch.connected(client.id, router.current_path)
        client.run_javascript('kioskVisibility.check(true)')  # it may have (re)connected in a background tab

    def disconnected() -> None:
        if not client.has_socket_connection:  # a reconnection's new socket may come up before the old one goes
            watch.disconnected(client.id)

    def seen(event: GenericEventArguments) -> None:
        watch.visibility(client.id, hidden=event.args == 'hidden')

    client.on_connect(connected)
    client.on_disconnect(disconnected)
    client.on_delete(lambda: watch.closed(client.id))
    router.on_path_changed(lambda path: watch.moved(client.id, path))
    ui.on('kiosk_visibility', seen)
