"""Sign-ups confirmed on screen survive kill -9 of the kiosk, and concurrent writers lose nothing."""

import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from kiosk.storage.store import SignupStore

pytestmark = pytest.mark.browser


def fill_and_send(page, url: str, name: str) -> None:
    page.goto(url + '/program/outreach/signup')
    page.wait_for_function('window.did_handshake === true')
    page.get_by_label('Your name').fill(name)
    page.get_by_label('Phone number').fill('3145550134')
    page.get_by_role('button', name='Text message').click()
    page.get_by_role('checkbox').click()
    page.get_by_role('button', name='Send').click()


def sign_up(page, url: str, name: str) -> None:
    """One visitor's sign-up through the real screen; returns once 'Thank you' is shown."""
    fill_and_send(page, url, name)
    try:
        page.get_by_role('heading', name=f'Thank you, {name}!').wait_for(timeout=20_000)
    except PlaywrightError as error:
        shown = page.inner_text('body')[:800]
        raise AssertionError(f'no thank-you for {name}; the screen showed: {shown!r}') from error


def stored_names(folder: Path) -> list[str]:
    files = [folder / 'signups.json', *sorted((folder / 'archive').glob('*.json'))]
    return [record['name'] for path in files if path.exists()
            for record in json.loads(path.read_text()).get('signups', {}).values()]


def test_confirmed_signups_survive_kill9_at_random_moments(page, kiosk_factory):
    """Each round confirms a few sign-ups, then kills the kiosk 0-50 ms after the next Send: mid-save."""
    kiosk = kiosk_factory()
    rng = random.Random(1126)
    confirmed: list[str] = []
    for round_number in range(20):
        if round_number:
            kiosk.start()
        for visitor in range(rng.randint(0, 2)):
            sign_up(page, kiosk.url, f'Visitor{round_number}n{visitor}')
            confirmed.append(f'Visitor{round_number}n{visitor}')
        fill_and_send(page, kiosk.url, f'Unconfirmed{round_number}')
        time.sleep(rng.uniform(0, 0.05))
        kiosk.kill()
        page.goto('about:blank')  # stop the dead page's reconnect attempts racing the next round
        names = stored_names(kiosk.data_dir)  # parses every file, before the kiosk could repair anything
        assert set(confirmed) <= set(names), f'round {round_number}: a confirmed sign-up was lost'
    assert len(confirmed) >= 10
    kiosk.start()
    store = SignupStore(kiosk.data_dir)
    assert set(confirmed) <= {record['name'] for record in store.records()}
    assert store.quarantined_files() == []


WRITER = '''
import sys, uuid
from datetime import UTC, datetime
from pathlib import Path
from kiosk.storage.store import SignupStore
store = SignupStore(Path(sys.argv[1]))
for n in range(int(sys.argv[2])):
    store.add({"id": str(uuid.uuid4()), "created_at": datetime.now(UTC).isoformat(), "name": f"Writer{n}",
               "status": "queued"})
'''


def test_server_second_writer_and_export_together_lose_and_duplicate_nothing(page, kiosk_factory):
    kiosk = kiosk_factory()
    writer = subprocess.Popen([sys.executable, '-m', 'kiosk', 'check'], stdout=subprocess.DEVNULL)  # warm imports
    writer.wait(timeout=60)
    writer = subprocess.Popen([sys.executable, '-c', WRITER, str(kiosk.data_dir), '300'])
    exports: list[list[dict]] = []
    stop = threading.Event()

    def export_in_a_loop() -> None:
        while not stop.is_set():
            result = subprocess.run([sys.executable, '-m', 'kiosk', 'export', '--status', 'all', '--format', 'json',
                                     '--data-dir', str(kiosk.data_dir)], capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            exports.append(json.loads(result.stdout))

    exporter = threading.Thread(target=export_in_a_loop)
    exporter.start()
    visitors = [f'Guest{n}' for n in range(6)]
    for name in visitors:
        sign_up(page, kiosk.url, name)
    assert writer.wait(timeout=120) == 0
    stop.set()
    exporter.join(timeout=120)

    names = [record['name'] for record in SignupStore(kiosk.data_dir).records()]
    assert sorted(names) == sorted([*visitors, *(f'Writer{n}' for n in range(300))])
    assert len(exports) >= 2
    for snapshot in exports:
        ids = [record['id'] for record in snapshot]
        assert len(ids) == len(set(ids)), 'an export listed a sign-up twice'
