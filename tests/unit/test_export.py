import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from kiosk.export import clear_leftovers, to_csv, usb_stick_mounted
from kiosk.storage.store import SignupStore
from tests.support.tools import mounted


def _record(**fields) -> dict:
    return {'id': 'a1', 'created_at': '2026-11-26T16:30:00+00:00', 'program': 'pal', 'name': 'José Ñúñez',
            'participant_name': 'Ana', 'age': 9, 'phone': '+13145550134', 'email': '', 'contact_method': 'phone',
            'note': '', 'language': 'es', 'consent': True, 'kiosk_id': 'k', 'status': 'queued', 'attempts': 0,
            'last_error': None, 'synced_at': None, 'pulled_at': None, **fields}


def test_csv_opens_in_excel_with_local_times_and_friendly_phones():
    text = to_csv([_record()], 'America/Chicago')
    assert text.startswith('\ufeffid,created_at,program,name')
    row = next(csv.DictReader(io.StringIO(text.lstrip('\ufeff'))))
    assert row['created_at'] == '2026-11-26 10:30' and row['phone'] == '(314) 555-0134'
    assert row['name'] == 'José Ñúñez' and row['consent'] == 'yes'


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_defused():
    for danger in ('=HYPERLINK("http://x")', '+1+1', '-2', '@SUM(A1)', '\tx', '\rx'):
        row = next(csv.DictReader(io.StringIO(to_csv([_record(note=danger)], 'UTC').lstrip('\ufeff'))))
        assert row['note'] == "'" + danger


def test_kiosk_export_defaults_to_queued_csv_and_filters_by_status(tmp_path, monkeypatch):
    store = SignupStore(tmp_path / 'var')
    store.add(_record(id='q1'))
    store.add(_record(id='s1', status='synced'))
    monkeypatch.setenv('KIOSK_DATA_DIR', str(tmp_path / 'var'))
    default = subprocess.run([sys.executable, '-m', 'kiosk', 'export'], capture_output=True, text=True, timeout=60,
                             check=True)
    assert [row['id'] for row in csv.DictReader(io.StringIO(default.stdout.lstrip('\ufeff')))] == ['q1']
    every = subprocess.run([sys.executable, '-m', 'kiosk', 'export', '--status', 'all', '--format', 'json'],
                           capture_output=True, text=True, timeout=60, check=True)
    assert {record['id'] for record in json.loads(every.stdout)} == {'q1', 's1'}
    target = tmp_path / 'out.csv'
    subprocess.run([sys.executable, '-m', 'kiosk', 'export', '--output', str(target)], check=True, timeout=60,
                   capture_output=True)
    assert target.read_text(encoding='utf-8-sig').count('\n') == 2 and target.stat().st_mode & 0o777 == 0o600


def test_only_a_mount_point_off_the_root_file_system_counts_as_a_usb_stick(tmp_path, usb_stick):
    plain = tmp_path / 'kiosk-export'  # the folder the installer makes, with nothing mounted on it
    bound = tmp_path / 'bound'
    assert usb_stick_mounted(usb_stick)
    assert not usb_stick_mounted(plain)
    assert not usb_stick_mounted(tmp_path / 'missing')
    assert not usb_stick_mounted(Path('/'))
    (tmp_path / 'link').symlink_to(usb_stick)
    assert not usb_stick_mounted(tmp_path / 'link')
    with mounted(bound, '--bind', str(plain)):  # a mount point, but of a folder on the same disk
        assert not usb_stick_mounted(bound)


def test_what_was_left_in_the_export_folder_without_a_stick_is_deleted(tmp_path):
    folder = tmp_path / 'kiosk-export'
    (folder / 'signups-20261101-101010.csv').write_text('id,name\r\na1,Rosa Private\r\n')
    (folder / 'Unconfirmed 4821.crdownload').write_bytes(b'id,na')
    (folder / 'old').mkdir()
    (folder / 'old' / 'signups.csv').write_text('a1,Rosa Private')
    assert clear_leftovers(folder) == 3
    assert folder.is_dir() and list(folder.iterdir()) == []
    assert clear_leftovers(tmp_path / 'missing') == 0


def test_files_on_a_mounted_stick_are_kept(usb_stick):
    saved = usb_stick / 'signups-20261101-101010.csv'
    saved.write_text('id,name\r\n')
    assert clear_leftovers(usb_stick) == 0
    assert saved.exists()
