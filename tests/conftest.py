"""Every test gets its own data directory and no KIOSK_* settings leaking in from the shell."""

import os

import pytest

# These steer the test run itself, not the kiosk.
TEST_CONTROLS = {'KIOSK_REQUIRE_BROWSER', 'KIOSK_UPDATE_SCREENSHOTS'}


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith('KIOSK_') and key not in TEST_CONTROLS:
            monkeypatch.delenv(key)
    monkeypatch.setenv('KIOSK_DATA_DIR', str(tmp_path / 'var'))
    monkeypatch.setenv('KIOSK_KIOSK_ID', 'test-kiosk')
    return tmp_path / 'var'
