"""A staged rollout across five real kiosks (`kiosk run`) and a real hub: the canary gets the new version first, a
pause holds the others past the soak, a resume sends it to them, and a kiosk that was off for the whole rollout
catches up when it comes back. One set of kiosk processes serves the module."""

from __future__ import annotations

import signal
import time
import uuid

import httpx
import psycopg
import pytest

from kiosk.paths import ASSETS_DIR
from tests.support.processes import add_kiosk, hub_command, kiosk_processes
from tests.support.waiting import eventually

OLD, NEW = 'Citizens Academy', 'Citizens Academy, spring dates'
SOAK_MINUTES = '0.25'  # 15 s: long enough to pause inside it, short enough for the suite


@pytest.fixture(scope='module')
def key_file(tmp_path_factory):
    return tmp_path_factory.mktemp('keys') / 'hub-signing.key'


@pytest.fixture(autouse=True)
def hub_settings(key_file, monkeypatch):
    """What `kiosk hub` reads here (each test starts with no KIOSK_* settings: tests/conftest.py)."""
    monkeypatch.setenv('KIOSK_HUB_SIGNING_KEY_FILE', str(key_file))
    monkeypatch.setenv('KIOSK_HUB_ROLLOUT_SOAK_MINUTES', SOAK_MINUTES)


@pytest.fixture(scope='module')
def fleet(key_file, database, hub_factory, tmp_path_factory):
    """A hub that checks the rollout every second, and five kiosks polling it: the canary, three others, and one
    that will be away."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('KIOSK_HUB_SIGNING_KEY_FILE', str(key_file))
        made = hub_command(database, 'keygen')
    assert made.returncode == 0, made.stderr
    hub = hub_factory(rollout_soak_minutes=SOAK_MINUTES, rollout_check_seconds='1')
    tag = uuid.uuid4().hex[:4]
    names = [f'canary-{tag}', f'lobby-{tag}', f'annex-{tag}', f'north-{tag}', f'away-{tag}']
    with kiosk_processes(tmp_path_factory) as make:
        yield {name: make(kiosk_id=name, sync_url=hub.signups_url, sync_token=add_kiosk(database, name),
                               sync_interval_seconds='1', content_public_key=made.stdout.strip().split()[-1])
                    for name in names}


def title(kiosk) -> str:
    page = httpx.get(kiosk.url + '/', timeout=10).text
    return NEW if f'"{NEW} ·' in page else OLD if f'"{OLD} ·' in page else '?'


def runs(database: str) -> dict[str, int | None]:
    with psycopg.connect(database) as conn:
        return dict(conn.execute("SELECT kiosk, (body->>'content_version')::int FROM heartbeats").fetchall())


def rollout(database: str, action: str) -> str:
    result = hub_command(database, 'rollout', action)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_canary_first_a_pause_holds_then_everyone_and_the_kiosk_away_catches_up(fleet, database, tmp_path):
    kiosks = fleet
    canary, *others, away = kiosks
    eventually(lambda: all(runs(database).get(name) == 0 for name in kiosks), what='every kiosk on version 0')
    kiosks[away].kill(signal.SIGTERM)  # off for the whole rollout
    assert hub_command(database, 'set-canary', canary, 'on').returncode == 0
    programs = tmp_path / 'programs.toml'
    programs.write_bytes((ASSETS_DIR / 'programs.toml').read_bytes()
                         .replace(f'title = "{OLD}"'.encode(), f'title = "{NEW}"'.encode(), 1))
    published = hub_command(database, 'publish', str(programs), '--note', 'spring class dates')
    assert published.returncode == 0, published.stderr
    version = int(published.stdout.split()[2])

    eventually(lambda: runs(database)[canary] == version, what='the canary running the new version')
    eventually(lambda: 'soaking for' in rollout(database, 'status'), what='the hub starting the soak')
    assert rollout(database, 'pause').startswith(f'the rollout of version {version} is paused')
    assert title(kiosks[canary]) == NEW
    held_until = time.monotonic() + float(SOAK_MINUTES) * 60 + 5
    while time.monotonic() < held_until:  # past the soak, and many polls of every kiosk: the pause holds
        assert [runs(database)[name] for name in others] == [0, 0, 0]
        time.sleep(1)
    assert [title(kiosks[name]) for name in others] == [OLD] * 3
    assert 'paused: nobody new gets it' in rollout(database, 'status')

    rollout(database, 'resume')
    eventually(lambda: all(runs(database)[name] == version for name in others), seconds=60,
               what='every other kiosk on the new version after the soak')
    assert [title(kiosks[name]) for name in others] == [NEW] * 3
    assert f'version {version}: every kiosk; 4 of 5 kiosk(s) run it' in rollout(database, 'status')
    with psycopg.connect(database) as conn:
        steps = conn.execute("SELECT actor, action FROM audit_log WHERE action LIKE 'rollout_%%' "
                             "AND (detail->>'version')::int = %s ORDER BY seq", (version,)).fetchall()
    assert steps == [('cli', 'rollout_started'), ('hub', 'rollout_canaries_done'), ('cli', 'rollout_paused'),
                     ('cli', 'rollout_resumed'), ('hub', 'rollout_to_all')]

    assert runs(database)[away] == 0
    kiosks[away].start()
    eventually(lambda: runs(database)[away] == version, seconds=60, what='the kiosk that was away catching up')
    assert title(kiosks[away]) == NEW
