"""The Kiosks page in NiceGUI's user simulation of the real hub app on a real PostgreSQL: what each kiosk runs from
its own heartbeat (current, staged, behind, failed with the reason), the canary switch and the rollout panel for
admins, audited, and neither for a coordinator."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nicegui.testing.user_simulation import user_simulation

from kiosk.hub import db
from kiosk.hub.auth import SESSION_COOKIE, new_token, token_digest
from kiosk.hub.content import publish
from kiosk.paths import ASSETS_DIR
from tests.support.simulation import drawn, open_sessions

HUB_MAIN = Path(__file__).with_name('hub_main.py')
KEY = Ed25519PrivateKey.generate()


@pytest.fixture
async def sessions(database, conn, monkeypatch):
    """A signed-in admin and coordinator (their session tokens), and the env the simulated hub reads."""
    return await open_sessions(database, conn, monkeypatch, 'sessions')


@pytest.fixture
async def fleet(conn, database):
    """Four kiosks on three published versions, each telling its own story in its heartbeat; the newest version's
    rollout is at its canary, `canary`."""
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute('TRUNCATE content_versions, kiosks CASCADE')
    programs = (ASSETS_DIR / 'programs.toml').read_bytes()
    for name in ('annex', 'canary', 'lobby', 'north'):
        await db.add_kiosk(conn, name, token_digest(new_token()))
    first, _ = await publish(conn, KEY, programs, note='first', published_by='chief@slmpd.org', soak_minutes=0)
    second, _ = await publish(conn, KEY, programs, note='second', published_by='chief@slmpd.org', soak_minutes=0)
    await db.set_canary(conn, 'canary', True)
    third, _ = await publish(conn, KEY, programs, note='third', published_by='chief@slmpd.org')
    for name, runs, staged, error in (('canary', third, None, None), ('lobby', second, None, None),
                                      ('annex', first, None, 'screen program/pal failed to render: KeyError'),
                                      ('north', second, third, None)):
        await db.save_heartbeat(conn, name, {'content_version': runs, 'content_staged': staged,
                                             'content_error': error})
    await conn.commit()
    return first, second, third


async def test_admins_see_what_each_kiosk_runs_mark_a_canary_and_pause_the_rollout(sessions, fleet, database):
    first, second, third = fleet
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={sessions["admin"]}'
        await user.open('/kiosks')
        await drawn(user, f'version {third}, current')
        await drawn(user, f'version {second}, behind by 1 (the rollout has not reached it)')
        await drawn(user, f'version {first}; failed: screen program/pal failed to render: KeyError')
        await drawn(user, f'version {second}; version {third} staged')
        await drawn(user, f'version {third}: canary kiosks only; 1 of 4 kiosk(s) run it')
        await drawn(user, 'canary: healthy')

        user.find(marker='canary-lobby').click()
        await drawn(user, 'lobby is a canary: it gets new content first.')
        user.find('Pause the rollout').click()
        await drawn(user, f'Version {third}: done.')
        await drawn(user, f'version {third}: paused: nobody new gets it')
        user.find('Resume the rollout').click()
        await drawn(user, f'version {third}: canary kiosks only')
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT canary FROM kiosks WHERE name = 'lobby'").fetchone() == (True,)
        assert conn.execute("SELECT actor, action, detail FROM audit_log WHERE action IN ('kiosk_canary', "
                            "'rollout_paused', 'rollout_resumed') ORDER BY seq").fetchall() == [
            ('chief@slmpd.org', 'kiosk_canary', {'kiosk': 'lobby', 'canary': True}),
            ('chief@slmpd.org', 'rollout_paused', {'version': third}),
            ('chief@slmpd.org', 'rollout_resumed', {'version': third})]


async def test_a_pause_redraws_the_panel_after_another_kiosks_page_has_closed(sessions, fleet):
    """The panel is each page's own: a page that has gone away (here, an earlier simulation's) is not redrawn first,
    where its failure kept this page's panel from changing."""
    third = fleet[2]

    async def kiosks_page(pause: bool) -> None:
        async with user_simulation(main_file=HUB_MAIN) as user:
            user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={sessions["admin"]}'
            await user.open('/kiosks')
            await drawn(user, f'version {third}: canary kiosks only')
            if pause:
                user.find('Pause the rollout').click()
                await drawn(user, f'version {third}: paused: nobody new gets it')

    await kiosks_page(pause=False)
    await kiosks_page(pause=True)


async def test_a_coordinator_sees_what_runs_but_no_switch_and_no_rollout_panel(sessions, fleet):
    _, second, _ = fleet
    async with user_simulation(main_file=HUB_MAIN) as user:
        user.http_client.headers['Cookie'] = f'{SESSION_COOKIE}={sessions["coordinator"]}'
        await user.open('/kiosks')
        await drawn(user, f'version {second}, behind by 1 (the rollout has not reached it)')
        await user.should_not_see('Content rollout')
        await user.should_not_see(marker='canary-lobby')
