"""The content rollout on the hub's Kiosks page in a real browser: an admin sees the canary first, marks a kiosk as a
canary, aborts the rollout after a confirmation, and axe finds nothing serious on the page or in the question."""

from __future__ import annotations

import psycopg
import pytest

from kiosk.paths import ASSETS_DIR
from tests.e2e.test_browser_hub import add_user, settle_hub, sign_in
from tests.support.postgres import database, hub_factory, postgres  # noqa: F401 (fixtures)
from tests.support.processes import add_kiosk, hub_command
from tests.support.screens import serious_accessibility_problems

pytestmark = pytest.mark.browser


def test_an_admin_marks_a_canary_and_aborts_the_rollout_after_confirming(page, hub_factory, database, tmp_path,  # noqa: F811
                                                                         monkeypatch):
    monkeypatch.setenv('KIOSK_HUB_SIGNING_KEY_FILE', str(tmp_path / 'hub-signing.key'))
    assert hub_command(database, 'keygen').returncode == 0
    add_user(database, 'chief@slmpd.org', 'admin')
    for name in ('canary-lobby', 'annex-lobby'):
        add_kiosk(database, name)
    assert hub_command(database, 'set-canary', 'canary-lobby', 'on').returncode == 0
    published = hub_command(database, 'publish', str(ASSETS_DIR / 'programs.toml'), '--note', 'spring dates')
    assert published.returncode == 0, published.stderr
    version = int(published.stdout.split()[2])
    hub = hub_factory(require_2fa='none')  # the second step is test_browser_accounts.py's subject

    sign_in(page, hub, 'chief@slmpd.org')
    page.goto(hub.url + '/kiosks')
    settle_hub(page)
    page.get_by_text(f'version {version}: canary kiosks only').wait_for()
    assert page.get_by_text('canary-lobby: not heard from').is_visible()
    problems = serious_accessibility_problems(page, 'kiosks with a rollout')

    page.get_by_role('button', name='Abort the rollout…').click()
    page.get_by_text('No other kiosk will get it').wait_for()
    problems += serious_accessibility_problems(page, 'the question before an abort')
    page.get_by_role('button', name='Keep it going').click()
    page.get_by_role('switch', name='annex-lobby is a canary').click()
    page.get_by_text('annex-lobby is a canary: it gets new content first.').wait_for()
    assert page.get_by_text(f'version {version}: canary kiosks only').is_visible(), 'kept going'
    page.get_by_role('button', name='Abort the rollout…').click()
    page.get_by_role('button', name='Abort the rollout', exact=True).click()
    page.get_by_text(f'version {version}: aborted: nobody new gets it').wait_for()
    assert problems == [], problems
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT canary FROM kiosks WHERE name = 'annex-lobby'").fetchone() == (True,)
        assert conn.execute("SELECT actor FROM audit_log WHERE action = 'rollout_aborted'").fetchall() == \
            [('chief@slmpd.org',)]
