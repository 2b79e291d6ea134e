import contextlib
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.storage import store as store_module
from kiosk.storage.store import Selection, SignupStore, StoreUnavailable


def record(created: datetime | None = None, **fields) -> dict:
    created = created or datetime.now(UTC)
    return {'id': str(uuid.uuid4()), 'created_at': created.isoformat(timespec='seconds'), 'program': 'pal',
            'name': 'Maria', 'phone': '+13145550134', 'email': '', 'status': 'queued', **fields}


@pytest.fixture
def store(tmp_path) -> SignupStore:
    opened = SignupStore(tmp_path / 'var')
    opened.open()
    return opened


def test_added_record_is_in_a_tinydb_file_that_parses(store):
    saved = record()
    store.add(saved)
    data = json.loads(store.live_path.read_text())
    assert list(data['signups'].values()) == [saved]
    assert data['_meta']['1']['schema_version'] == 1


def test_files_are_private_whatever_the_umask(tmp_path):
    previous = os.umask(0o000)
    try:
        opened = SignupStore(tmp_path / 'var')
        opened.open()
        opened.add(record())
    finally:
        os.umask(previous)
    assert (tmp_path / 'var').stat().st_mode & 0o777 == 0o700
    for path in (tmp_path / 'var').iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path.name


def test_a_second_process_change_is_seen_and_not_overwritten(store, tmp_path):
    first = record()
    store.add(first)
    script = ('import sys, uuid; from pathlib import Path; from kiosk.storage.store import SignupStore; '
              's = SignupStore(Path(sys.argv[1])); s.add({"id": "from-cli", "created_at": "2026-01-01T00:00:00+00:00",'
              ' "status": "queued"})')
    subprocess.run([sys.executable, '-c', script, str(store.data_dir)], check=True, timeout=60)
    store.add(record())
    assert 'from-cli' in {saved['id'] for saved in store.records()}
    assert len(store.records()) == 3


def test_update_and_remove_by_condition(store):
    keep, done = record(), record()
    store.add(keep)
    store.add(done)
    assert store.update({done['id']}, {'status': 'synced'}) == 1
    assert store.counts() == {'queued': 1, 'synced': 1, 'rejected': 0}
    assert store.remove(lambda saved: saved['status'] == 'synced') == 1
    assert [saved['id'] for saved in store.records()] == [keep['id']]


def test_corrupt_file_is_moved_aside_and_the_kiosk_starts_empty(tmp_path, caplog):
    folder = tmp_path / 'var'
    folder.mkdir()
    (folder / 'signups.json').write_text('{"signups": {"1": {"id": "half-writ')
    opened = SignupStore(folder)
    opened.open()
    assert opened.records() == []
    (quarantined,) = opened.quarantined_files()
    assert quarantined.read_text() == '{"signups": {"1": {"id": "half-writ'
    assert quarantined.name.startswith('signups.corrupt-') and quarantined.stat().st_mode & 0o777 == 0o600
    assert 'did not parse' in caplog.text
    opened.add(record())
    assert len(opened.records()) == 1


def test_unfinished_temp_files_from_a_crash_are_cleaned_up(tmp_path):
    folder = tmp_path / 'var'
    folder.mkdir()
    orphan = folder / '.signups.json.abc123.tmp'
    orphan.write_text('{"signu')
    SignupStore(folder).open()
    assert not orphan.exists()


def test_rotation_keeps_the_live_file_small_and_loses_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, 'LIVE_LIMIT', 10)
    opened = SignupStore(tmp_path / 'var')
    opened.open()
    start = datetime(2026, 1, 15, tzinfo=UTC)
    saved = [record(start + timedelta(days=10 * i)) for i in range(25)]
    for each in saved:
        opened.add(each)
    opened.rotate()
    live = json.loads(opened.live_path.read_text())['signups']
    assert len(live) <= store_module.LIVE_LIMIT
    assert sorted(path.name for path in opened.archive_dir.iterdir())[0] == 'signups-2026-01.json'
    assert {each['id'] for each in opened.records()} == {each['id'] for each in saved}
    oldest = saved[0]['id']
    assert opened.update({oldest}, {'status': 'synced'}) == 1
    assert next(each for each in opened.records() if each['id'] == oldest)['status'] == 'synced'


def test_a_rotation_cut_short_shows_each_record_once_and_finishes_next_time(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, 'LIVE_LIMIT', 4)
    opened = SignupStore(tmp_path / 'var')
    opened.open()
    saved = [record(datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=i)) for i in range(6)]
    for each in saved:
        opened.add(each)
    archive = opened.archive_dir / 'signups-2026-03.json'
    archive.parent.mkdir(mode=0o700)
    archive.write_text(json.dumps({'signups': {'1': saved[0]}}))  # as if the crash came before the live rewrite
    assert len(opened.records()) == 6
    opened.rotate()
    assert len(opened.records()) == 6
    assert len(json.loads(opened.live_path.read_text())['signups']) == 2


def test_disk_full_refuses_the_new_record_and_keeps_the_old_ones(tiny_disk):
    opened = SignupStore(tiny_disk / 'var')
    opened.open()
    kept = [record(note='x' * 2_000) for _ in range(20)]
    for each in kept:
        opened.add(each)
    with contextlib.suppress(OSError):  # fill the disk to the last byte
        (tiny_disk / 'filler').write_bytes(b'\0' * 1024 * 1024)
    with pytest.raises(StoreUnavailable):
        opened.add(record(note='y' * 2_000))
    assert {each['id'] for each in opened.records()} == {each['id'] for each in kept}
    assert len(json.loads((tiny_disk / 'var' / 'signups.json').read_text())['signups']) == 20
    assert [path.name for path in (tiny_disk / 'var').iterdir() if path.suffix == '.tmp'] == []


def test_read_only_file_system_refuses_calmly_and_keeps_the_old_ones(tiny_disk):
    opened = SignupStore(tiny_disk / 'var')
    opened.open()
    kept = record()
    opened.add(kept)
    subprocess.run(['mount', '-o', 'remount,ro', str(tiny_disk)], check=True)
    with pytest.raises(StoreUnavailable):
        opened.add(record())
    assert [each['id'] for each in opened.records()] == [kept['id']]


def test_store_paths_stay_inside_the_data_dir(store):
    assert Path(store.live_path).parent == store.data_dir


def test_a_page_of_the_list_follows_every_change_even_another_process_s(store, tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, 'LIVE_LIMIT', 10)  # the list spans the live file and its archives
    start = datetime(2026, 1, 1, tzinfo=UTC)
    added = [record(start + timedelta(days=n), name=f'Person {n:02}') for n in range(30)]
    for saved in added:
        store.add(saved)
    store.rotate()
    queued = Selection(status='queued')
    page = store.listing(queued, 25, 25)
    assert (page.total, page.offset, [r['name'] for r in page.records]) == (30, 25, [f'Person {n:02}' for n in
                                                                                  range(4, -1, -1)])
    other = SignupStore(tmp_path / 'var')  # another process: a `kiosk sync`, or the next kiosk run
    other.update({added[0]['id'], added[29]['id']}, {'status': 'synced'})
    other.add(record(start + timedelta(days=40), name='Newest'))
    first = store.listing(queued, 0, 25)
    assert first.total == 29 and first.records[0]['name'] == 'Newest' and 'Person 29' not in \
        {r['name'] for r in first.records}
    assert store.listing(queued, 50, 25).offset == 25  # past the end: the last page
    assert store.counts() == {'queued': 29, 'synced': 2, 'rejected': 0}
    assert [r['name'] for r in store.listing(Selection(), 0, 3).records] == ['Newest', 'Person 29', 'Person 28']
