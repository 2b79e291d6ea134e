"""Schemathesis against a real hub and PostgreSQL, from the OpenAPI document the hub serves: no 500s, every answer
as documented, valid data accepted, invalid data refused, and no answer without a token. `make fuzz` runs longer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import add_kiosk

CHECKS = ('not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,'
          'response_schema_conformance,positive_data_acceptance,negative_data_rejection,ignored_auth')
FUZZ_SECONDS = int(os.environ.get('KIOSK_FUZZ_SECONDS', '20'))  # `make fuzz`: 600


def test_schemathesis_finds_nothing_against_a_live_hub(hub_factory, database, tmp_path):
    hub = hub_factory(rate_per_minute='100000')
    token = add_kiosk(database, 'fuzz-lobby')
    schemathesis = Path(sys.executable).with_name('schemathesis')
    if not schemathesis.exists():
        pytest.fail('schemathesis is in the test extras: make .venv/.test-extras')
    result = subprocess.run([str(schemathesis), 'run', hub.url + '/api/v1/openapi.json', '--url', hub.url,
                             '--header', f'Authorization: Bearer {token}', '--checks', CHECKS,
                             '--max-time', str(FUZZ_SECONDS), '--workers', '1', '--no-color',
                             # the coverage phase bypasses fuzz_hooks, so its "valid" batches repeat ids (a 422)
                             '--phases', 'examples,fuzzing',
                             '--report-dir', str(tmp_path)],
                            capture_output=True, text=True, timeout=FUZZ_SECONDS + 240, cwd=tmp_path,
                            env={**os.environ, 'SCHEMATHESIS_HOOKS': str(Path(__file__).with_name('fuzz_hooks.py')),
                                 'KIOSK_FUZZ_KIOSK': 'fuzz-lobby'})
    findings = result.stdout[result.stdout.find('FAILURES'):]
    assert result.returncode == 0, findings[:8000] + result.stderr[-2000:]
