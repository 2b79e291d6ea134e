"""Published content on the kiosk's disk: verified versions, the pointer, the floor, and what is kept."""

import stat
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.bundle import PROGRAMS, BundleError, build, parse_public_key, public_key_text
from kiosk.config import load_settings
from kiosk.paths import ASSETS_DIR
from kiosk.published import NoTrustedKey, PublishedContent, trusted_key

FACTORY = ASSETS_DIR / 'programs.toml'
KEY = Ed25519PrivateKey.generate()
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def titled(title: str) -> bytes:
    """The factory programs file with the first program's English title changed."""
    return FACTORY.read_bytes().replace(b'title = "Citizens Academy"', f'title = "{title}"'.encode(), 1)


def bundle(version: int, title: str = 'Citizens Academy', **options) -> bytes:
    return build({PROGRAMS: titled(title)}, version, KEY, **options)


@pytest.fixture
def clock():
    return [NOW.timestamp()]


@pytest.fixture
def content(tmp_path, clock) -> PublishedContent:
    return PublishedContent(tmp_path, FACTORY, 'lobby-1', parse_public_key(public_key_text(KEY)),
                            clock=lambda: clock[0])


def first_title(content: PublishedContent) -> str:
    return content.current().catalog.program[0].en.title


def test_the_factory_content_runs_until_a_version_is_accepted(content):
    assert content.current().version == 0 and first_title(content) == 'Citizens Academy'
    assert content.current().bundle_sha256 is None and content.floor() == 0


def test_an_applied_bundle_runs_and_leaves_exactly_its_files_private(content, tmp_path):
    _, switched = content.apply(bundle(1, 'Citizens Police Academy'))
    assert switched and content.current().version == 1 and first_title(content) == 'Citizens Police Academy'
    root = tmp_path / 'content'
    assert sorted(path.name for path in root.iterdir()) == ['1', 'active', 'content.lock', 'floor.json', 'switch.json']
    assert sorted(path.name for path in (root / '1').iterdir()) == ['bundle.sha256', 'manifest.json',
                                                                     'manifest.sig', 'programs.toml']
    assert (root / 'active').read_text() == '1\n' and content.floor() == 1
    for path in [root, root / '1']:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    for path in [root / 'active', root / 'floor.json', root / 'switch.json', *(root / '1').iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_refused_bundle_changes_nothing_and_is_remembered(content):
    content.apply(bundle(2, 'Version two'))
    with pytest.raises(BundleError, match='version 1 is not above 2'):
        content.apply(bundle(1, 'Replayed'))
    with pytest.raises(BundleError, match='signature'):
        content.apply(build({PROGRAMS: titled('Forged')}, 3, Ed25519PrivateKey.generate()))
    assert first_title(content) == 'Version two' and content.versions() == [2]
    assert 'signature' in content.state().last_error
    assert content.report()['content_error'] == content.state().last_error
    content.apply(bundle(3, 'Version three'))
    assert content.state().last_error is None


def test_a_version_waits_for_its_activate_at(content, clock):
    content.apply(bundle(1, 'Now'))
    _, switched = content.apply(bundle(2, 'Later', activate_at=NOW + timedelta(hours=1)))
    assert not switched and first_title(content) == 'Now'
    assert content.staged().version == 2 and content.report()['content_staged'] == 2
    assert content.activate_due() is None
    clock[0] += 3600
    assert content.activate_due() == 2 and first_title(content) == 'Later' and content.staged() is None


def test_the_two_versions_before_the_running_one_are_kept(content):
    for version in range(1, 6):
        content.apply(bundle(version, f'Version {version}'))
    assert content.versions() == [3, 4, 5] and content.floor() == 5


def test_the_same_bundle_again_finishes_a_switch_a_crash_cut(content, tmp_path):
    """A crash after the version was renamed into place but before the pointer moved: applying it again switches."""
    data = bundle(1, 'Again')
    content.accept(data)
    assert content.current().version == 0 and content.floor() == 1
    _, switched = content.apply(data)
    assert switched and first_title(content) == 'Again'


def test_leftovers_of_a_crash_are_removed_before_the_next_write(content, tmp_path):
    root = tmp_path / 'content'
    (root / '7.partial').mkdir(parents=True)
    (root / '7.partial' / PROGRAMS).write_text('half')
    (root / '.active.abc.tmp').write_text('1')
    content.apply(bundle(1))
    assert not (root / '7.partial').exists() and not (root / '.active.abc.tmp').exists()


def test_without_a_trusted_key_published_content_is_ignored(tmp_path):
    content = PublishedContent(tmp_path, FACTORY, 'lobby-1', None)
    with pytest.raises(NoTrustedKey, match='trust-key'):
        content.apply(bundle(1))
    assert content.versions() == []


def test_the_key_comes_from_the_setting_else_the_file(tmp_path):
    key_file = tmp_path / 'content.pub'
    settings = load_settings(data_dir=tmp_path).model_copy(update={'content_public_key_file': key_file})
    assert trusted_key(settings) is None
    key_file.write_text(public_key_text(KEY) + '\n')
    assert public_key_text(trusted_key(settings)) == public_key_text(KEY)
    other = Ed25519PrivateKey.generate()
    chosen = settings.model_copy(update={'content_public_key': public_key_text(other)})
    assert public_key_text(trusted_key(chosen)) == public_key_text(other)


def test_the_second_crash_within_two_minutes_of_a_switch_puts_the_previous_version_back(content, clock, tmp_path):
    content.apply(bundle(1, 'Good'))
    clock[0] += 600  # version 1 has run for a while: its own window has closed
    content.apply(bundle(2, 'Crashes'))
    assert content.note_start() is None and first_title(content) == 'Crashes'  # one crash: it may be a fluke
    clock[0] += 30
    assert content.note_start() == 2
    assert first_title(content) == 'Good' and (tmp_path / 'content' / 'active').read_text() == '1\n'
    assert content.failed() == {2: 'the server crashed 2 times within 2 minutes of the switch'}
    error = content.report()['content_error']
    assert error.startswith('apply_failed: version 2: the server crashed 2 times') and 'back on version 1' in error
    assert content.staged() is None and content.activate_due() is None  # never switched to again
    with pytest.raises(BundleError, match='version 2 failed on this kiosk before'):
        content.apply(bundle(2, 'Crashes'))
    assert first_title(content) == 'Good'
    content.apply(bundle(3, 'Fixed'))
    assert first_title(content) == 'Fixed' and content.state().last_error is None
    assert content.failed() == {2: 'the server crashed 2 times within 2 minutes of the switch'}


def test_starts_after_the_window_or_after_a_clean_stop_are_not_crashes(content, clock):
    content.apply(bundle(1, 'Steady'))
    content.note_clean_stop()
    assert content.note_start() is None  # systemctl restart: asked for
    assert content.note_start() is None  # one crash
    clock[0] += 121
    assert content.note_start() is None and first_title(content) == 'Steady'  # two minutes have passed
    assert content.failed() == {}


def test_the_first_published_version_falls_back_to_the_factory_content(content, tmp_path):
    content.apply(bundle(1, 'Broken'))
    assert content.unconfirmed() == 1
    assert content.fall_back(1, 'the screen /program/citizens-academy failed to render')
    assert first_title(content) == 'Citizens Academy' and content.current().version == 0
    assert not (tmp_path / 'content' / 'active').exists() and content.unconfirmed() is None
    assert content.report()['content_error'] == ('apply_failed: version 1: the screen /program/citizens-academy '
                                                 'failed to render; back on the factory content')
    assert not content.fall_back(1, 'again')


def test_a_confirmed_version_is_not_checked_again(content):
    content.apply(bundle(1, 'Fine'))
    content.confirm(1)
    assert content.unconfirmed() is None and content.last_switch().confirmed


def test_a_new_version_is_prepared_before_the_pointer_moves(content, tmp_path):
    seen = []

    def prepare(catalog):
        seen.append((catalog.program[0].en.title, (tmp_path / 'content' / 'active').exists()))

    content.apply(bundle(1, 'Prepared first'), prepare)
    assert seen == [('Prepared first', False)] and first_title(content) == 'Prepared first'


def test_content_goes_stale_after_days_without_the_hub(content, clock):
    assert content.stale_days() is None  # never reached: nothing to say
    content.note_hub_contact()
    clock[0] += 1800
    content.note_hub_contact()  # within the hour: not rewritten
    assert content.stale_days() == pytest.approx(1800 / 86400)
    clock[0] += 30 * 86400
    assert content.stale_days() > 30


def test_a_bundle_refused_under_one_key_is_asked_for_again_once_another_key_is_trusted(tmp_path, clock):
    """A kiosk set up with the wrong key refuses the hub's version 7; after `kiosk trust-key` with the right one it
    must not keep telling the hub it has that bundle (the hub would answer 304 to it for ever)."""
    other = Ed25519PrivateKey.generate()
    refused = build({PROGRAMS: titled('Signed by the hub')}, 7, other)
    wrong = PublishedContent(tmp_path, FACTORY, 'lobby-1', parse_public_key(public_key_text(KEY)),
                             clock=lambda: clock[0])
    with pytest.raises(BundleError, match='signature'):
        wrong.apply(refused)
    refused_etag = f'"{wrong.state().refused_sha256}"'
    assert refused_etag in wrong.known_etags(), 'not downloaded again while the same key is trusted'
    right = PublishedContent(tmp_path, FACTORY, 'lobby-1', parse_public_key(public_key_text(other)),
                             clock=lambda: clock[0])
    assert refused_etag not in right.known_etags()
    right.apply(refused)
    assert first_title(right) == 'Signed by the hub'


def test_one_writer_at_a_time_also_between_two_threads_of_one_process(content):
    """The server's content poll and its check of a switch run in two threads: each writes state.json, and each
    clears what a crashed writer left, so letting both in at once lost a write (FileNotFoundError in os.replace)."""
    inside, most = [], []

    def write() -> None:
        with content._locked():
            inside.append(1)
            time.sleep(0.2)
            most.append(len(inside))
            inside.pop()

    threads = [threading.Thread(target=write) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == [1, 1, 1]
