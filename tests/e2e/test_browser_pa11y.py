"""A second, independent accessibility checker: HTML_CodeSniffer, run by pa11y-ci in Debian's Chromium, offline.

axe (test_browser_screens.py) and HTML_CodeSniffer disagree on what to check: HTML_CodeSniffer found the
QR codes' shared SVG id that axe no longer reports by default. pa11y-ci comes from npm (`make pa11y`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.screens import CHROMIUM, CHROMIUM_ARGS, SLUGS
from tests.support.tools import require_tool, unavailable

pytestmark = pytest.mark.browser

PA11Y = Path(__file__).resolve().parents[2] / '.venv' / 'pa11y' / 'node_modules' / '.bin' / 'pa11y-ci'


def test_html_codesniffer_finds_no_wcag_aa_error_on_any_kiosk_screen(kiosk_server, tmp_path):
    require_tool(str(CHROMIUM), 'chromium chromium-driver', 'KIOSK_REQUIRE_BROWSER')
    if not shutil.which(PA11Y):
        unavailable('pa11y-ci is not installed (`make pa11y`, which needs npm once)')
    screens = ['/', '/home', *(f'/program/{slug}' for slug in SLUGS), '/staff']
    config = tmp_path / 'pa11y.json'
    config.write_text(json.dumps({'defaults': {
        'runners': ['htmlcs'], 'standard': 'WCAG2AA', 'timeout': 60_000, 'concurrency': 1,
        'chromeLaunchConfig': {'executablePath': str(CHROMIUM), 'args': CHROMIUM_ARGS}}}))
    result = subprocess.run([str(PA11Y), '--config', str(config), '--json',
                             *(kiosk_server.url + screen for screen in screens)],
                            capture_output=True, text=True, timeout=600)
    report = json.loads(result.stdout)
    assert report['total'] == len(screens), result.stderr
    errors = [f'{url}: {issue["code"]}: {issue["message"]} ({issue["selector"]})'
              for url, issues in report['results'].items() for issue in issues]
    assert errors == []
