"""Content published at a real hub reaches a real kiosk: it fetches, verifies and switches, and the next page load
shows it; the heartbeat says which version runs; a bundle signed with another key is refused and reported."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import psycopg

from kiosk.hub import content, db
from kiosk.paths import ASSETS_DIR
from tests.support.fault_proxy import FaultProxy
from tests.support.processes import add_kiosk, hub_command
from tests.support.waiting import eventually

OLD = 'Citizens Academy'


def programs_file(tmp_path, title: str) -> str:
    path = tmp_path / f'{uuid.uuid4().hex[:6]}.toml'
    path.write_bytes((ASSETS_DIR / 'programs.toml').read_bytes()
                     .replace(b'title = "Citizens Academy"', f'title = "{title}"'.encode(), 1))
    return str(path)


def first_title(kiosk) -> str | None:
    page = httpx.get(kiosk.url + '/', timeout=10).text
    return next((title for title in ('Published at the hub', 'Signed elsewhere', OLD) if f'"{title} ·' in page), None)


def heartbeat(database: str, kiosk: str) -> dict:
    with psycopg.connect(database) as conn:
        row = conn.execute('SELECT body FROM heartbeats WHERE kiosk = %s', (kiosk,)).fetchone()
    return row[0] if row else {}


def test_published_content_shows_on_the_kiosk_at_its_next_page_load(hub_factory, kiosk_factory, database, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv('KIOSK_HUB_SIGNING_KEY_FILE', str(tmp_path / 'hub-signing.key'))
    made = hub_command(database, 'keygen')
    assert made.returncode == 0, made.stderr
    public_key = made.stdout.strip().split()[-1]
    hub = hub_factory()
    name = f'lobby-{uuid.uuid4().hex[:6]}'
    kiosk = kiosk_factory(kiosk_id=name, sync_url=hub.signups_url, sync_token=add_kiosk(database, name),
                          sync_interval_seconds='1', content_public_key=public_key)
    pid = kiosk.process.pid
    assert first_title(kiosk) == OLD
    eventually(lambda: heartbeat(database, name).get('content_version') == 0, what='a heartbeat with version 0')

    published = hub_command(database, 'publish', programs_file(tmp_path, 'Published at the hub'), '--note', 'new')
    assert published.returncode == 0, published.stderr
    version = int(published.stdout.split()[2])
    eventually(lambda: first_title(kiosk) == 'Published at the hub', what='the new title at the next page load')
    assert kiosk.process.pid == pid and kiosk.process.poll() is None
    with psycopg.connect(database) as conn:
        sha256 = conn.execute('SELECT sha256 FROM content_versions WHERE version = %s', (version,)).fetchone()[0]
    beat = eventually(lambda: (body := heartbeat(database, name)).get('content_version') == version and body,
                      what='a heartbeat naming the new version')
    assert beat['content_sha256'] == sha256 and beat['content_staged'] is None and beat['content_error'] is None
    assert (kiosk.data_dir / 'content' / 'active').read_text() == f'{version}\n'

    # A second publisher's key (a stolen database, say) signs the next version: the kiosk refuses and says so.
    monkeypatch.setenv('KIOSK_HUB_SIGNING_KEY_FILE', str(tmp_path / 'other-signing.key'))
    assert hub_command(database, 'keygen').returncode == 0
    forged = hub_command(database, 'publish', programs_file(tmp_path, 'Signed elsewhere'), '--note', 'forged')
    assert forged.returncode == 0, forged.stderr
    beat = eventually(lambda: (body := heartbeat(database, name)).get('content_error') and body,
                      what='a heartbeat reporting the refusal')
    assert 'signature does not match' in beat['content_error'] and beat['content_version'] == version
    assert first_title(kiosk) == 'Published at the hub'


def test_a_download_cut_half_way_leaves_nothing_and_the_next_poll_takes_it(hub_factory, kiosk_factory, database,
                                                                           tmp_path, monkeypatch):
    """Between a real kiosk and a real hub, a proxy cuts the first three bundle downloads half-way: the kiosk keeps
    its content with nothing half-written on disk, then takes the whole bundle."""
    monkeypatch.setenv('KIOSK_HUB_SIGNING_KEY_FILE', str(tmp_path / 'hub-signing.key'))
    made = hub_command(database, 'keygen')
    assert made.returncode == 0, made.stderr
    hub = hub_factory()
    cuts = [3]

    def cut(request_line: bytes, reply: bytes) -> bool:
        if request_line.startswith(b'GET /api/v1/content') and reply.startswith(b'HTTP/1.1 200') and cuts[0] > 0:
            cuts[0] -= 1
            return True
        return False

    proxy = FaultProxy(hub.port, drop=lambda _line: False, cut=cut)
    try:
        name = f'lobby-{uuid.uuid4().hex[:6]}'
        kiosk = kiosk_factory(kiosk_id=name, sync_url=proxy.url + '/api/v1/signups',
                              sync_token=add_kiosk(database, name), sync_interval_seconds='1',
                              content_public_key=made.stdout.strip().split()[-1])
        result = hub_command(database, 'publish', programs_file(tmp_path, 'Published at the hub'), '--note', 'n')
        assert result.returncode == 0, result.stderr
        version = result.stdout.split()[2]
        root = kiosk.data_dir / 'content'
        deadline = time.monotonic() + 60
        while cuts[0] > 0:
            assert time.monotonic() < deadline, 'the kiosk stopped asking for the bundle'
            assert first_title(kiosk) == OLD
            assert not root.exists() or not [entry for entry in root.iterdir() if entry.name[0].isdigit()]
        eventually(lambda: first_title(kiosk) == 'Published at the hub', what='the whole bundle, taken')
        assert sorted(entry.name for entry in root.iterdir() if entry.name[0].isdigit()) == [version]
    finally:
        proxy.stop()


async def publish_unchecked(database: str, programs: bytes, key_file) -> int:
    conn = await db.connect(database)
    try:
        version, _ = await content.publish(conn, content.read_signing_key(key_file), programs,
                                           note='longer directions', published_by='cli')
        await conn.commit()
        return version
    finally:
        await conn.close()


def test_a_published_version_that_breaks_a_screen_is_given_up_and_the_hub_hears_apply_failed(
        hub_factory, kiosk_factory, database, tmp_path, monkeypatch):
    """The outreach meeting's location is too long for its calendar QR code. This hub refuses to publish it; one
    without that check (an older release) did, and the kiosk must cope whatever the hub checked: it switches, loads
    each screen, finds the outreach screen broken, goes back, and says so in its heartbeat."""
    monkeypatch.setenv('KIOSK_HUB_SIGNING_KEY_FILE', str(tmp_path / 'hub-signing.key'))
    public_key = hub_command(database, 'keygen').stdout.strip().split()[-1]
    hub = hub_factory()
    name = f'lobby-{uuid.uuid4().hex[:6]}'
    kiosk = kiosk_factory(kiosk_id=name, sync_url=hub.signups_url, sync_token=add_kiosk(database, name),
                          sync_interval_seconds='1', content_public_key=public_key)
    path = tmp_path / 'broken.toml'
    long = b'Five Star Senior Center, 2832 Arsenal St, St. Louis, MO. ' + b'Enter by the side door. ' * 120
    path.write_bytes((ASSETS_DIR / 'programs.toml').read_bytes()
                     .replace(b'title = "Citizens Academy"', b'title = "Published at the hub"', 1)
                     .replace(b'location = "Five Star Senior Center, 2832 Arsenal St, St. Louis, MO"',
                              b'location = "' + long + b'"', 1))
    refused = hub_command(database, 'publish', str(path), '--note', 'longer directions')
    assert refused.returncode == 2 and 'too long for a QR code' in refused.stderr
    monkeypatch.setattr(content, 'too_dense', lambda catalog, now: [])  # as the older hub
    version = asyncio.run(publish_unchecked(database, path.read_bytes(), tmp_path / 'hub-signing.key'))
    # Earlier tests' versions, signed with other keys, may be refused first: wait for this one's failure.
    beat = eventually(lambda: ((body := heartbeat(database, name)).get('content_error') or '').startswith(
        'apply_failed') and body, seconds=90, what='a heartbeat that reports the failure')
    assert beat['content_error'] == (f'apply_failed: version {version}: the screen /program/outreach in English '
                                     'failed to render; back on the factory content') and beat['content_version'] == 0
    assert first_title(kiosk) == OLD
    assert 'last_hub_contact' in (kiosk.data_dir / 'content' / 'state.json').read_text()
