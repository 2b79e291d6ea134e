"""`make test` on a machine without an optional tool: its tests skip with the reason, and fail under KIOSK_REQUIRE_ALL.

The tools are hidden, not uninstalled: an empty, non-executable file is bind-mounted over each in a private mount
namespace (`unshare -m`, as root), so `shutil.which` finds nothing in that one pytest run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.tools import require_tool, unavailable

CHECKOUT = Path(__file__).resolve().parents[2]
# A tool, a test that needs it, and what the skip says (the Read aloud test once waited 30 s for a button that is
# rightly absent without espeak-ng).
NEEDED = {
    'espeak-ng': ('tests/e2e/test_browser_speech.py::'
                  'test_read_aloud_plays_and_stops_on_a_second_tap_on_leaving_and_on_a_new_language',
                  'espeak-ng is not installed (apt-get install espeak-ng)'),
    'chromium': ('tests/e2e/test_browser_speech.py::test_without_speech_there_is_no_button',
                 '/usr/bin/chromium is not installed (apt-get install chromium chromium-driver)'),
    'systemd-analyze': ('tests/system/test_install.py::test_systemd_security_exposure_stays_low',
                        'systemd-analyze is not installed (apt-get install systemd)'),
}
HIDE_AND_RUN = 'for tool in $HIDE; do mount --bind "$EMPTY" "$tool" || exit 99; done; exec "$@"'


def pytest_without_the_tools(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    if os.geteuid() != 0:
        unavailable('hiding a tool in a private mount namespace needs root')
    require_tool('unshare', 'util-linux')
    empty = tmp_path / 'empty'
    empty.touch(0o644)
    tools = ' '.join(require_tool(tool) for tool in NEEDED)  # a tool that is already missing needs no hiding
    clean = {key: value for key, value in os.environ.items() if not key.startswith(('KIOSK_', 'PYTEST_'))}
    return subprocess.run(
        ['unshare', '--mount', 'sh', '-c', HIDE_AND_RUN, 'sh', sys.executable, '-m', 'pytest', '-v', '-rs',
         '-p', 'no:cacheprovider', '--basetemp', str(tmp_path / 'inner'), *(test for test, _ in NEEDED.values())],
        cwd=CHECKOUT, env={**clean, 'HIDE': tools, 'EMPTY': str(empty), **env}, capture_output=True, text=True,
        timeout=300)


def test_without_an_optional_tool_its_tests_skip_and_say_which_tool_to_install(tmp_path):
    result = pytest_without_the_tools(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for test, reason in NEEDED.values():
        assert f'{test} SKIPPED' in result.stdout and reason in result.stdout, result.stdout
    assert f'{len(NEEDED)} skipped' in result.stdout


def test_in_ci_a_missing_optional_tool_fails_its_tests(tmp_path):
    result = pytest_without_the_tools(tmp_path, KIOSK_REQUIRE_ALL='1')
    assert result.returncode == 1, result.stdout + result.stderr
    assert f'{len(NEEDED)} error' in result.stdout and 'KIOSK_REQUIRE_ALL is set' in result.stdout, result.stdout
