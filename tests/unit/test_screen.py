"""The server's view of its screen, on a clock the test turns: missing, hidden, back, and whether a visit is on."""

from kiosk.screen import HIDDEN_AFTER_SECONDS, ScreenWatch


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_no_page_for_the_period_after_start_up_is_screen_missing_and_a_page_clears_it():
    clock = Clock()
    watch = ScreenWatch(120, clock)
    clock.now += 119
    assert watch.warnings() == []
    clock.now += 1
    assert watch.warnings() == ['screen_missing']
    watch.connected('a', '/')
    assert watch.warnings() == []


def test_the_period_starts_again_when_the_last_page_leaves():
    clock = Clock()
    watch = ScreenWatch(120, clock)
    watch.connected('a', '/')
    clock.now += 500
    watch.disconnected('a')
    clock.now += 119
    assert watch.warnings() == []
    watch.closed('a')  # not back within NiceGUI's reconnect timeout
    clock.now += 119
    assert watch.warnings() == []
    clock.now += 1
    assert watch.warnings() == ['screen_missing']


def test_a_page_hidden_for_a_few_seconds_is_screen_hidden_until_it_is_visible_again():
    clock = Clock()
    watch = ScreenWatch(120, clock)
    watch.connected('a', '/home')
    watch.visibility('a', hidden=True)
    clock.now += HIDDEN_AFTER_SECONDS - 0.5
    assert watch.warnings() == [], 'a moment in the background is no alarm'
    watch.visibility('a', hidden=True)  # said again (the page checks every few seconds): still since the first
    clock.now += 0.5
    assert watch.warnings() == ['screen_hidden']
    watch.visibility('a', hidden=False)
    assert watch.warnings() == []


def test_a_visible_kiosk_page_means_the_screen_shows_the_kiosk_whatever_else_is_hidden():
    clock = Clock()
    watch = ScreenWatch(120, clock)
    watch.connected('old', '/home')
    watch.visibility('old', hidden=True)
    clock.now += 60
    assert watch.warnings() == ['screen_hidden']
    watch.connected('new', '/')
    assert watch.warnings() == []


def test_a_reconnected_page_counts_as_visible_until_it_says_otherwise():
    clock = Clock()
    watch = ScreenWatch(120, clock)
    watch.connected('a', '/')
    watch.visibility('a', hidden=True)
    clock.now += 60
    watch.disconnected('a')
    assert watch.warnings() == []
    watch.connected('a', '/')
    assert watch.warnings() == []


def test_a_visit_is_active_away_from_the_attract_screen_even_while_its_socket_reconnects():
    watch = ScreenWatch(120, Clock())
    assert not watch.visit_active()
    watch.connected('a', '/')
    assert not watch.visit_active()
    watch.moved('a', '/program/pal/signup')
    assert watch.visit_active()
    watch.disconnected('a')
    assert watch.visit_active(), 'a dropped socket may come back mid-visit'
    watch.closed('a')
    assert not watch.visit_active()
