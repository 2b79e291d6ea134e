from kiosk.visit import Visit


def test_idle_phases_follow_the_clock():
    visit = Visit(language='en', last_touch=100.0)
    assert visit.idle_phase(90, 20, now=189.0) == ('active', 0)
    assert visit.idle_phase(90, 20, now=190.0) == ('asking', 20)
    assert visit.idle_phase(90, 20, now=205.5) == ('asking', 5)
    assert visit.idle_phase(90, 20, now=210.0) == ('expired', 0)


def test_a_touch_starts_the_wait_again():
    visit = Visit(language='es', last_touch=0.0)
    visit.touch()
    assert visit.idle_phase(90, 20)[0] == 'active'
