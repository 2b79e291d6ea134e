"""Bodies are bounded before they are read: a 100 MiB chunked upload costs the hub no memory and no outage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import add_kiosk

MIB = 1024 * 1024


def resident_kib(pid: int) -> int:
    """The process's resident memory (VmRSS), as the OOM killer and MemoryMax see it."""
    line = next(line for line in Path(f'/proc/{pid}/status').read_text().splitlines() if line.startswith('VmRSS:'))
    return int(line.split()[1])


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """`total` bytes of JSON-looking filler, made as they are sent: no Content-Length, so httpx sends it chunked."""
    piece = b'[' + b'1,' * (size // 2 - 1) + b'1'
    for _ in range(total // size):
        yield piece


def upload(url: str, headers: dict[str, str]) -> int | None:
    """Stream 100 MiB; the status the hub answered, or None when it closed the connection on the upload first."""
    try:
        return httpx.post(url, content=chunks(100 * MIB), headers=headers, timeout=60).status_code
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        return None


@pytest.fixture(scope='module')
def hub(hub_factory):
    return hub_factory(max_body_bytes='20000')


@pytest.mark.parametrize('path', ['/api/v1/signups', '/api/v1/heartbeat'])
@pytest.mark.parametrize('token', ['valid', 'wrong'])
def test_a_100_mib_chunked_upload_is_refused_without_the_hub_holding_it(hub, database, path, token):
    bearer = add_kiosk(database, f'big-{token}-{path.rsplit("/", 1)[1]}') if token == 'valid' else 'not-a-token'
    before = resident_kib(hub.process.pid)
    status = upload(hub.url + path, {'Authorization': f'Bearer {bearer}', 'Content-Type': 'application/json'})
    grown_mib = (resident_kib(hub.process.pid) - before) / 1024
    assert status in ({401, None} if token == 'wrong' else {413, None}), status
    assert grown_mib < 8, f'the hub grew by {grown_mib:.0f} MiB reading a body it should have refused'
    assert hub.process.poll() is None
    assert httpx.head(hub.signups_url, headers={'Authorization': f'Bearer {bearer}'}, timeout=10).status_code == \
        (204 if token == 'valid' else 401)



def test_a_100_mib_chunked_sign_in_form_is_read_no_further_than_a_form_needs(hub):
    before = resident_kib(hub.process.pid)
    status = upload(hub.url + '/login', {'Content-Type': 'application/x-www-form-urlencoded'})
    grown_mib = (resident_kib(hub.process.pid) - before) / 1024
    assert status in {303, None}, status
    assert grown_mib < 8, f'the hub grew by {grown_mib:.0f} MiB reading a sign-in form'
    assert httpx.get(hub.url + '/login', timeout=10).status_code == 200
