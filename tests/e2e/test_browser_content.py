"""In a real browser: content switched during a visit leaves that visit's screens as they were; the next page
load shows the new content, with no restart of the kiosk."""

import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.bundle import PROGRAMS, build, public_key_text
from kiosk.paths import ASSETS_DIR
from tests.support.screens import open_screen, settle

pytestmark = pytest.mark.browser

KEY = Ed25519PrivateKey.generate()
NEW = 'Citizens Police Academy 2027'


def test_a_switch_waits_for_the_next_visit(page, kiosk_factory, tmp_path):
    kiosk = kiosk_factory(content_public_key=public_key_text(KEY))
    open_screen(page, kiosk.url + '/')
    page.get_by_role('button', name='Touch to begin').click()
    page.get_by_role('heading', name='Community programs').wait_for()
    bundle = tmp_path / 'content-1.tar'
    bundle.write_bytes(build({PROGRAMS: (ASSETS_DIR / 'programs.toml').read_bytes().replace(
        b'title = "Citizens Academy"', f'title = "{NEW}"'.encode(), 1)}, 1, KEY))
    applied = subprocess.run([sys.executable, '-m', 'kiosk', 'content', 'apply', str(bundle), '--data-dir',
                              str(kiosk.data_dir)], env=kiosk.env, capture_output=True, text=True, timeout=60)
    assert applied.returncode == 0, applied.stderr

    page.locator('.program-card').first.click()  # the visit goes on: the same screens it started with
    page.wait_for_url('**/program/citizens-academy')
    settle(page)
    assert page.get_by_role('heading', name='Citizens Academy', exact=True).is_visible()
    assert page.get_by_text(NEW).count() == 0

    open_screen(page, kiosk.url + '/program/citizens-academy')  # a page load is the next visit
    page.get_by_role('heading', name=NEW).wait_for()
