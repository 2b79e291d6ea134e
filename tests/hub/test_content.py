"""Published content at a real hub and PostgreSQL: keygen, publish, export, and `GET /api/v1/content` with its ETag."""

from __future__ import annotations

import hashlib
import io
import stat
import tarfile
import uuid

import httpx
import psycopg
import pytest

from kiosk.bundle import PROGRAMS, open_bundle, parse_public_key
from kiosk.paths import ASSETS_DIR
from tests.support.processes import add_kiosk, hub_command

FACTORY = ASSETS_DIR / 'programs.toml'


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    path = tmp_path / 'keys' / 'hub-signing.key'
    monkeypatch.setenv('KIOSK_HUB_SIGNING_KEY_FILE', str(path))
    return path


def keygen(database: str) -> str:
    result = hub_command(database, 'keygen')
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1].split()[-1]


def programs_file(tmp_path, title: str) -> str:
    path = tmp_path / f'{uuid.uuid4().hex[:6]}.toml'
    path.write_bytes(FACTORY.read_bytes().replace(b'title = "Citizens Academy"', f'title = "{title}"'.encode(), 1))
    return str(path)


def publish(database: str, path: str, *args: str) -> int:
    result = hub_command(database, 'publish', path, '--note', f'changed {path}', *args)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[2])


def newest_version(database: str) -> int:
    with psycopg.connect(database) as conn:
        return conn.execute('SELECT coalesce(max(version), 0) FROM content_versions').fetchone()[0]


def test_keygen_writes_a_private_key_once_and_prints_the_public_one(database, key_file):
    public = keygen(database)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b'BEGIN PRIVATE KEY' in key_file.read_bytes()
    parse_public_key(public)
    before = key_file.read_bytes()
    again = hub_command(database, 'keygen')
    assert again.returncode == 2 and 'exists already' in again.stderr
    assert key_file.read_bytes() == before


def test_publish_signs_the_next_version_and_export_writes_the_same_bytes(database, key_file, tmp_path):
    public = parse_public_key(keygen(database))
    first = publish(database, programs_file(tmp_path, 'Version A'))
    second = publish(database, programs_file(tmp_path, 'Version B'))
    assert second == first + 1
    out = tmp_path / 'usb' / f'content-{second}.tar'
    out.parent.mkdir()
    result = hub_command(database, 'export-content', str(second), str(out))
    assert result.returncode == 0, result.stderr
    unmounted = hub_command(database, 'export-content', str(second), str(tmp_path / 'no-stick' / 'x.tar'))
    assert unmounted.returncode == 2 and 'no such file or directory (is the stick mounted?)' in unmounted.stderr
    assert hub_command(database, 'export-content', '999', str(out)).stderr.strip() == 'kiosk: no published version 999'
    with psycopg.connect(database) as conn:
        stored, sha256, note, by = conn.execute('SELECT bundle, sha256, note, published_by FROM content_versions '
                                                'WHERE version = %s', (second,)).fetchone()
        audited = conn.execute("SELECT actor, detail FROM audit_log WHERE action = 'content_published' "
                               "AND (detail->>'version')::int = %s", (second,)).fetchone()
    assert out.read_bytes() == bytes(stored) and hashlib.sha256(out.read_bytes()).hexdigest() == sha256
    assert note.startswith('changed ') and by == 'cli'
    assert audited[0] == 'cli' and audited[1]['sha256'] == sha256 and audited[1]['note'] == note
    opened = open_bundle(out.read_bytes(), public, floor=first, kiosk_id='anyone')
    assert opened.manifest.version == second and opened.catalog.program[0].en.title == 'Version B'


def test_a_programs_file_that_fails_kiosk_check_is_not_published(database, key_file, tmp_path):
    keygen(database)
    broken = tmp_path / 'broken.toml'
    broken.write_bytes(FACTORY.read_bytes().replace(b'phone = "(314) 444-5371"', b'phone = "444-53"'))
    before = newest_version(database)
    result = hub_command(database, 'publish', str(broken), '--note', 'broken')
    assert result.returncode == 2
    assert f'{broken}: program 3 (hmca): phone: not a phone number' in result.stderr
    assert 'nothing was published' in result.stderr
    blank = hub_command(database, 'publish', programs_file(tmp_path, 'X'), '--note', '  ')
    assert blank.returncode == 2 and 'release note is required' in blank.stderr
    assert newest_version(database) == before


def test_a_target_that_names_no_kiosk_is_refused_and_nothing_is_published(database, key_file, tmp_path):
    """A typo in --target once published a version no kiosk would ever take, and said it was published."""
    keygen(database)
    name = f'lobby-{uuid.uuid4().hex[:8]}'
    add_kiosk(database, name)
    before = newest_version(database)
    typo = hub_command(database, 'publish', programs_file(tmp_path, 'X'), '--note', 'n', '--target', name,
                       '--target', 'lobyy-1')
    assert typo.returncode == 2 and 'no kiosk is named lobyy-1' in typo.stderr
    assert 'nothing was published' in typo.stderr and newest_version(database) == before


def test_publish_without_a_signing_key_says_how_to_make_one(database, key_file, tmp_path):
    result = hub_command(database, 'publish', programs_file(tmp_path, 'X'), '--note', 'n')
    assert result.returncode == 2 and 'run `kiosk hub keygen` once' in result.stderr


def test_a_published_version_never_changes(database, key_file, tmp_path):
    keygen(database)
    version = publish(database, programs_file(tmp_path, 'Fixed'))
    with psycopg.connect(database) as conn, pytest.raises(psycopg.errors.RaiseException, match='never changes'):
        conn.execute("UPDATE content_versions SET note = 'rewritten' WHERE version = %s", (version,))


def test_the_api_serves_the_newest_bundle_for_the_kiosk_with_a_strong_etag(hub_factory, database, key_file,
                                                                            tmp_path):
    hub = hub_factory()
    name = f'lobby-{uuid.uuid4().hex[:8]}'
    token = add_kiosk(database, name)
    auth = {'Authorization': f'Bearer {token}'}
    url = hub.url + '/api/v1/content'
    assert httpx.get(url, timeout=10).status_code == 401
    assert httpx.get(url, headers={'Authorization': 'Bearer wrong'}, timeout=10).status_code == 401
    keygen(database)
    other = f'lobby-{uuid.uuid4().hex[:8]}'
    add_kiosk(database, other)
    for_others = publish(database, programs_file(tmp_path, 'Elsewhere'), '--target', other)
    mine = publish(database, programs_file(tmp_path, 'Mine'), '--target', name)
    publish(database, programs_file(tmp_path, 'Not yours either'), '--target', other)
    assert for_others < mine
    answer = httpx.get(url, headers=auth, timeout=10)
    assert answer.status_code == 200 and answer.headers['content-type'] == 'application/x-tar'
    assert answer.headers['etag'] == f'"{hashlib.sha256(answer.content).hexdigest()}"'
    with tarfile.open(fileobj=io.BytesIO(answer.content)) as tar:
        assert tar.getnames() == ['manifest.json', 'manifest.sig', PROGRAMS]
    unchanged = httpx.get(url, headers={**auth, 'If-None-Match': answer.headers['etag']}, timeout=10)
    assert unchanged.status_code == 304 and unchanged.content == b''
    assert unchanged.headers['etag'] == answer.headers['etag']
    assert httpx.get(url, headers={**auth, 'If-None-Match': '"other", W/' + answer.headers['etag']},
                     timeout=10).status_code == 304
    everyone = publish(database, programs_file(tmp_path, 'Everyone'))
    newer = httpx.get(url, headers={**auth, 'If-None-Match': answer.headers['etag']}, timeout=10)
    assert newer.status_code == 200 and f'content-{everyone}.tar' in newer.headers['content-disposition']
