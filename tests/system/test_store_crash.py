"""kill -9 a real process while it writes: every save it reported is on disk, and the file always parses."""

import json
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from kiosk.storage.atomic import write_atomically
from kiosk.storage.store import SignupStore

WRITER = '''
import sys, uuid
from datetime import UTC, datetime
from pathlib import Path
from kiosk.storage.store import SignupStore
store = SignupStore(Path(sys.argv[1]))
store.open()
while True:
    record_id = str(uuid.uuid4())
    store.add({"id": record_id, "created_at": datetime.now(UTC).isoformat(), "status": "queued", "note": "x" * 300})
    print(record_id, flush=True)  # only after add() returned: this save was confirmed
'''


def seed(folder: Path, count: int) -> set[str]:
    """A live file big enough that each write takes milliseconds, so kills land mid-write."""
    now = datetime.now(UTC).isoformat()
    records = {str(i): {'id': str(uuid.uuid4()), 'created_at': now, 'status': 'queued', 'note': 'x' * 300}
               for i in range(1, count + 1)}
    folder.mkdir(mode=0o700)
    write_atomically(folder / 'signups.json', json.dumps({'signups': records}).encode())
    return {record['id'] for record in records.values()}


def stored_ids(folder: Path) -> set[str]:
    """Every id in the live file and the archives, parsing each file as json (a torn file fails here)."""
    files = [folder / 'signups.json', *sorted((folder / 'archive').glob('*.json'))]
    return {record['id'] for path in files for record in json.loads(path.read_text())['signups'].values()}


def test_store_writer_killed_mid_write_loses_no_confirmed_save(tmp_path):
    folder = tmp_path / 'var'
    expected = seed(folder, 1800)
    rng = random.Random(20261126)
    orphans_seen = 0
    for _ in range(25):
        writer = subprocess.Popen([sys.executable, '-c', WRITER, str(folder)], stdout=subprocess.PIPE, text=True)
        expected.add(writer.stdout.readline().strip())  # writing has begun
        time.sleep(rng.uniform(0.0, 0.15))
        writer.send_signal(signal.SIGKILL)
        rest, _ = writer.communicate(timeout=30)
        expected.update(line for line in rest.splitlines() if line)
        assert expected <= stored_ids(folder)
        orphans_seen += len(list(folder.glob('.*.tmp')))
    assert orphans_seen > 0, 'no kill landed mid-write; the test proved nothing'
    store = SignupStore(folder)
    store.open()
    assert list(folder.glob('.*.tmp')) == []
    assert expected <= {record['id'] for record in store.records()}
    assert store.quarantined_files() == []
