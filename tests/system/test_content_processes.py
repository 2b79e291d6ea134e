"""Published content on a real `kiosk run`: a bundle applied from a USB stick shows at the next page load without a
restart, and a `kill -9` of `kiosk content apply` at any step of the switch leaves the old version or the new one."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.bundle import PROGRAMS, build, public_key_text
from kiosk.config import LANGUAGES
from kiosk.content import parse_catalog
from kiosk.paths import ASSETS_DIR
from kiosk.published import PAUSE_ENV
from kiosk.speech import SpeechCache, espeak, program_text
from kiosk.view_counts import ViewCounter
from tests.support.processes import KioskProcess
from tests.support.waiting import eventually

KEY = Ed25519PrivateKey.generate()
OLD, NEW = 'Citizens Academy', 'Citizens Police Academy 2027'


def titled(title: str) -> bytes:
    return (ASSETS_DIR / 'programs.toml').read_bytes().replace(b'title = "Citizens Academy"',
                                                               f'title = "{title}"'.encode(), 1)


def bundle_file(tmp_path: Path, version: int, title: str) -> Path:
    path = tmp_path / f'content-{version}.tar'
    path.write_bytes(build({PROGRAMS: titled(title)}, version, KEY))
    return path


def kiosk_command(kiosk: KioskProcess, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, '-m', 'kiosk', *args, '--data-dir', str(kiosk.data_dir)],
                            env={**kiosk.env, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def shown(kiosk: KioskProcess) -> str:
    """Which of the two titles a fresh page load of the attract screen shows."""
    page = httpx.get(kiosk.url + '/', timeout=10).text
    found = [title for title in (NEW, OLD) if f'"{title} ·' in page]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def kiosk(kiosk_factory) -> KioskProcess:
    return kiosk_factory(content_public_key=public_key_text(KEY))


def test_an_applied_bundle_shows_at_the_next_page_load_without_a_restart(kiosk, tmp_path):
    assert shown(kiosk) == OLD
    pid = kiosk.process.pid
    apply = kiosk_command(kiosk, 'content', 'apply', str(bundle_file(tmp_path, 1, NEW)))
    out, err = apply.communicate(timeout=60)
    assert apply.returncode == 0, err
    assert 'version 1 verified and running' in out
    assert shown(kiosk) == NEW and kiosk.process.pid == pid and kiosk.process.poll() is None
    status = kiosk_command(kiosk, 'content', 'status')
    out, _ = status.communicate(timeout=60)
    assert 'runs: version 1' in out and 'floor: 1' in out
    check = kiosk_command(kiosk, 'check')
    out, err = check.communicate(timeout=60)
    assert check.returncode == 0, err
    assert 'published version 1 runs: 5 programs OK' in out


def test_a_refused_bundle_leaves_the_screen_as_it_was(kiosk, tmp_path):
    forged = tmp_path / 'forged.tar'
    forged.write_bytes(build({PROGRAMS: titled(NEW)}, 1, Ed25519PrivateKey.generate()))
    apply = kiosk_command(kiosk, 'content', 'apply', str(forged))
    _, err = apply.communicate(timeout=60)
    assert apply.returncode == 1 and 'refused: the signature does not match' in err
    assert shown(kiosk) == OLD
    missing = kiosk_command(kiosk, 'content', 'apply', str(tmp_path / 'not-there.tar'))
    _, err = missing.communicate(timeout=60)
    assert missing.returncode == 2 and 'not-there.tar: no such file or directory; nothing was changed' in err


@pytest.mark.parametrize(('step', 'after_kill'), [('written', OLD), ('staged', OLD), ('accepted', OLD),
                                                  ('switched', NEW)])
def test_kill_9_at_each_step_of_the_switch_leaves_the_old_or_the_new_version(kiosk, tmp_path, step, after_kill):
    """`kiosk content apply` stopped at a named step and killed there; the running kiosk shows one whole version, and
    applying the same file again finishes the job."""
    path = bundle_file(tmp_path, 1, NEW)
    apply = kiosk_command(kiosk, 'content', 'apply', str(path), **{PAUSE_ENV: step})
    line = apply.stderr.readline()
    assert f'paused at {step}' in line, line + apply.stderr.read()
    os.kill(apply.pid, signal.SIGKILL)
    apply.wait(timeout=15)
    assert shown(kiosk) == after_kill
    root = kiosk.data_dir / 'content'
    assert (root / 'active').exists() == (after_kill == NEW)
    if step == 'written':
        assert (root / '1.partial').is_dir() and not (root / '1').exists()
    again = kiosk_command(kiosk, 'content', 'apply', str(path))
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert shown(kiosk) == NEW
    assert sorted(entry.name for entry in root.iterdir()) == ['1', 'active', 'content.lock', 'floor.json',
                                                              'switch.json']


def test_trust_key_writes_the_key_the_kiosk_then_uses(kiosk_factory, tmp_path):
    key_file = tmp_path / 'etc' / 'content.pub'
    kiosk = kiosk_factory(content_public_key_file=str(key_file))
    refused = kiosk_command(kiosk, 'content', 'apply', str(bundle_file(tmp_path, 1, NEW)))
    _, err = refused.communicate(timeout=60)
    assert refused.returncode == 1 and 'no trusted key' in err
    trust = kiosk_command(kiosk, 'trust-key', public_key_text(KEY))
    out, err = trust.communicate(timeout=60)
    assert trust.returncode == 0, err
    assert 'this kiosk now takes content signed with it' in out
    assert key_file.read_text() == public_key_text(KEY) + '\n'
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o644
    apply = kiosk_command(kiosk, 'content', 'apply', str(bundle_file(tmp_path, 1, NEW)))
    assert apply.wait(timeout=60) == 0
    deadline = time.monotonic() + 5
    while shown(kiosk) != NEW and time.monotonic() < deadline:
        time.sleep(0.2)
    assert shown(kiosk) == NEW


def test_a_version_waits_for_its_activate_at_on_the_kiosks_own_clock(kiosk_factory, tmp_path):
    """libfaketime sets the kiosk's clock to 05:59:40 in St. Louis: a bundle for 06:00 is staged at once and shown
    from the first page load after 06:00, without a restart."""
    kiosk = kiosk_factory(content_public_key=public_key_text(KEY), clock='2026-12-10 05:59:40')
    path = tmp_path / 'content-1.tar'
    path.write_bytes(build({PROGRAMS: titled(NEW)}, 1, KEY,
                           activate_at=datetime.fromisoformat('2026-12-10T06:00:00-06:00')))
    apply = kiosk_command(kiosk, 'content', 'apply', str(path))
    out, err = apply.communicate(timeout=60)
    assert apply.returncode == 0, err
    assert 'version 1 verified and staged: it runs from 2026-12-10T06:00:00-06:00' in out
    assert shown(kiosk) == OLD
    status, _ = kiosk_command(kiosk, 'content', 'status').communicate(timeout=60)
    assert 'staged: version 1, from 2026-12-10T06:00:00-06:00' in status
    eventually(lambda: shown(kiosk) == NEW, seconds=90, what='the new title once 06:00 has passed')
    assert kiosk.process.poll() is None


def unscannable_location() -> bytes:
    """Valid content (the check has no limit on a meeting's location) whose outreach screen cannot render: the
    calendar QR code would need more than the largest QR code holds."""
    long = b'Five Star Senior Center, 2832 Arsenal St, St. Louis, MO. ' + b'Enter by the side door. ' * 120
    return titled(NEW).replace(b'location = "Five Star Senior Center, 2832 Arsenal St, St. Louis, MO"',
                               b'location = "' + long + b'"', 1)


def status_of(kiosk: KioskProcess) -> str:
    out, _ = kiosk_command(kiosk, 'content', 'status').communicate(timeout=60)
    return out


def test_a_bundle_that_breaks_a_screen_is_given_up_by_the_kiosk_itself(kiosk, tmp_path):
    """The bundle passes every check, runs, and the server's own load of each screen finds the outreach screen
    broken: the kiosk goes back to what it showed, says apply_failed, and never takes that version again."""
    path = tmp_path / 'content-1.tar'
    path.write_bytes(build({PROGRAMS: unscannable_location()}, 1, KEY))
    apply = kiosk_command(kiosk, 'content', 'apply', str(path))
    out, err = apply.communicate(timeout=60)
    assert apply.returncode == 0 and 'version 1 verified and running' in out, err
    eventually(lambda: shown(kiosk) == OLD, seconds=90, what='the factory content back on the screen')
    status = status_of(kiosk)
    assert 'runs: the factory content' in status
    assert 'failed: version 1 (the screen /program/outreach in English failed to render); never tried again' in status
    assert 'apply_failed: version 1: the screen /program/outreach in English failed to render' in status
    again = kiosk_command(kiosk, 'content', 'apply', str(path))
    _, err = again.communicate(timeout=60)
    assert again.returncode == 1 and 'version 1 failed on this kiosk before' in err
    assert shown(kiosk) == OLD
    page = httpx.get(kiosk.url + '/program/outreach', timeout=10).text
    assert 'Five Star Senior Center' in page and 'something went wrong' not in page


def test_a_kiosk_killed_twice_within_two_minutes_of_a_switch_comes_back_on_the_previous_version(kiosk, tmp_path):
    for version, title in [(1, OLD + ' (v1)'), (2, NEW)]:
        apply = kiosk_command(kiosk, 'content', 'apply', str(bundle_file(tmp_path, version, title)))
        assert apply.wait(timeout=60) == 0
    assert shown(kiosk) == NEW
    kiosk.kill()
    kiosk.start()
    assert shown(kiosk) == NEW  # one crash may be anything
    kiosk.kill()
    kiosk.start()
    page = httpx.get(kiosk.url + '/', timeout=10).text
    assert f'"{OLD} (v1) ·' in page and NEW not in page
    status = status_of(kiosk)
    assert 'runs: version 1' in status
    assert 'apply_failed: version 2: the server crashed 2 times within 2 minutes of the switch' in status


def test_a_stop_that_was_asked_for_is_not_a_crash(kiosk, tmp_path):
    apply = kiosk_command(kiosk, 'content', 'apply', str(bundle_file(tmp_path, 1, NEW)))
    assert apply.wait(timeout=60) == 0
    kiosk.kill(signal.SIGTERM)  # systemctl restart
    kiosk.start()
    kiosk.kill()
    kiosk.start()
    assert shown(kiosk) == NEW and 'failed' not in status_of(kiosk)


@pytest.mark.skipif(espeak() is None, reason='espeak-ng is not installed')
def test_kiosk_content_apply_makes_the_changed_speech_before_the_pointer_moves(kiosk, tmp_path):
    """Stopped just after preparing: the new title's speech is on disk and the old content still runs."""
    apply = kiosk_command(kiosk, 'content', 'apply', str(bundle_file(tmp_path, 1, NEW)), **{PAUSE_ENV: 'prepared'})
    line = apply.stderr.readline()
    assert 'paused at prepared' in line, line + apply.stderr.read()
    try:
        speech = SpeechCache(kiosk.data_dir / 'speech', 130)
        program = parse_catalog(titled(NEW), 'new').by_slug['citizens-academy']
        for language in LANGUAGES:
            assert speech.path(speech.name_for(program_text(program, language, None), language)) is not None
        assert not (kiosk.data_dir / 'content' / 'active').exists() and shown(kiosk) == OLD
    finally:
        os.kill(apply.pid, signal.SIGKILL)
        apply.wait(timeout=15)


def test_a_screen_broken_only_in_spanish_is_caught_and_the_check_counts_no_views(kiosk, tmp_path):
    """The Spanish meeting title goes into the Spanish calendar code only: English renders, Spanish cannot."""
    path = tmp_path / 'content-1.tar'
    path.write_bytes(build({PROGRAMS: titled(NEW).replace(
        b'summary_es = "Reuni\xc3\xb3n Comunitaria de SLMPD"',
        b'summary_es = "Reuni\xc3\xb3n Comunitaria de SLMPD. ' + b'Entre por la puerta lateral. ' * 100 + b'"', 1)},
        1, KEY))
    apply = kiosk_command(kiosk, 'content', 'apply', str(path))
    assert apply.wait(timeout=60) == 0
    eventually(lambda: shown(kiosk) == OLD, seconds=90, what='the factory content back on the screen')
    assert 'apply_failed: version 1: the screen /program/outreach in Spanish failed to render' in status_of(kiosk)
    assert ViewCounter(kiosk.data_dir).load() == {}
