"""The staged rollout against a real PostgreSQL: which version each kiosk is served at each step (canary first,
then everyone; a pause holds, an abort stops, a kiosk keeps what it has, a lower number is never served), how the
soak is measured from the canaries' own heartbeats, and that two hub processes checking at once step only once."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.hub import db, rollout
from kiosk.hub.auth import new_token, token_digest
from kiosk.hub.content import publish
from kiosk.paths import ASSETS_DIR
from tests.support.processes import hub_command

KEY = Ed25519PrivateKey.generate()
PROGRAMS = (ASSETS_DIR / 'programs.toml').read_bytes()


async def kiosks(conn, *names: str, canary: tuple[str, ...] = ()) -> None:
    for name in names:
        await db.add_kiosk(conn, name, token_digest(new_token()))
        await db.set_canary(conn, name, name in canary)


async def published(conn, soak_minutes: float = 30, targets: list[str] | None = None) -> int:
    version, _ = await publish(conn, KEY, PROGRAMS, note='new dates', published_by='chief@slmpd.org',
                               soak_minutes=soak_minutes, targets=targets)
    return version


async def served(conn, name: str) -> int | None:
    newest = await db.newest_content_for(conn, name)
    return newest['version'] if newest else None


async def reports(conn, name: str, version: int, error: str | None = None) -> None:
    await db.save_heartbeat(conn, name, {'content_version': version, 'content_staged': None, 'content_error': error})


async def actions(conn, version: int) -> list[tuple[str, str]]:
    rows = await (await conn.execute("SELECT actor, action FROM audit_log WHERE action LIKE 'rollout%%' "
                                     "AND (detail->>'version')::int = %s ORDER BY seq", (version,))).fetchall()
    return [(row['actor'], row['action']) for row in rows]


@pytest.fixture
def names():
    tag = uuid.uuid4().hex[:6]
    return f'canary-{tag}', f'lobby-{tag}', f'annex-{tag}'


async def test_a_new_version_goes_to_the_canary_first_then_to_everyone_after_the_soak(conn, names):
    canary, lobby, _ = names
    await kiosks(conn, *names, canary=(canary,))
    before = await published(conn, soak_minutes=0)
    new = await published(conn, soak_minutes=0.02)
    assert [await served(conn, name) for name in names] == [new, before, before]
    assert await rollout.advance(conn, 0.02, 15) == 'waiting', 'the canary has not run it yet'
    await reports(conn, canary, new, error='screen program/pal failed to render')
    assert await rollout.advance(conn, 0.02, 15) == 'waiting', 'a canary with an error is not healthy'
    await reports(conn, canary, new)
    assert await rollout.advance(conn, 0.02, 15) == 'soaking'
    assert await served(conn, lobby) == before
    await asyncio.sleep(1.5)
    assert await rollout.advance(conn, 0.02, 15) == 'to_all'
    assert [await served(conn, name) for name in names] == [new, new, new]
    assert await rollout.advance(conn, 0.02, 15) is None
    assert await actions(conn, new) == [('chief@slmpd.org', 'rollout_started'), ('hub', 'rollout_canaries_done'),
                                        ('hub', 'rollout_to_all')]


async def test_no_canary_or_no_soak_means_every_kiosk_at_once(conn, names):
    canary, lobby, _ = names
    await kiosks(conn, *names)
    version = await published(conn)
    assert await served(conn, lobby) == version
    await db.set_canary(conn, canary, True)
    at_once = await published(conn, soak_minutes=0)
    assert await served(conn, lobby) == at_once
    assert (await db.newest_rollout(conn))['stage'] == 'all'


async def test_a_pause_holds_the_others_and_resume_lets_the_soak_finish(conn, names):
    canary, lobby, annex = names
    await kiosks(conn, *names, canary=(canary,))
    before = await published(conn, soak_minutes=0)
    new = await published(conn, soak_minutes=0.01)
    await reports(conn, lobby, before)
    assert await rollout.pause(conn, 'chief@slmpd.org') == new
    assert await served(conn, canary) == before, 'a paused rollout gives it to nobody who does not have it'
    await reports(conn, canary, new)  # it took it (from a USB stick, say) before the pause reached it
    assert await served(conn, canary) == new, 'a kiosk that has it keeps it'
    await asyncio.sleep(1)
    assert await rollout.advance(conn, 0.01, 15) is None
    assert await served(conn, lobby) == before
    with pytest.raises(rollout.RolloutError, match='is paused already'):
        await rollout.pause(conn, 'chief@slmpd.org')
    assert await rollout.resume(conn, 'chief@slmpd.org') == new
    assert await rollout.advance(conn, 0.01, 15) == 'soaking'
    await asyncio.sleep(1)
    assert await rollout.advance(conn, 0.01, 15) == 'to_all'
    assert await served(conn, annex) == new


async def test_an_abort_stops_it_for_good_and_a_republish_moves_everyone_on(conn, names):
    canary, lobby, _ = names
    await kiosks(conn, *names, canary=(canary,))
    before = await published(conn, soak_minutes=0)
    bad = await published(conn)
    await reports(conn, canary, bad)
    await reports(conn, lobby, before)
    assert await rollout.abort(conn, 'chief@slmpd.org') == bad
    assert [await served(conn, name) for name in names] == [bad, before, before]
    with pytest.raises(rollout.RolloutError, match='was aborted: publish a new version'):
        await rollout.resume(conn, 'chief@slmpd.org')
    rollback = await published(conn, soak_minutes=0)  # the old content again, as a higher number
    assert [await served(conn, name) for name in names] == [rollback] * 3, 'a lower number is never served'
    assert ('chief@slmpd.org', 'rollout_aborted') in await actions(conn, bad)


async def test_targets_still_apply_and_only_targeted_canaries_count(conn, names):
    canary, lobby, _ = names
    await kiosks(conn, *names, canary=(canary,))
    before = await published(conn, soak_minutes=0)
    for_lobby = await published(conn, targets=[lobby])
    assert (await db.newest_rollout(conn))['stage'] == 'all', 'no canary among its targets'
    assert [await served(conn, name) for name in names] == [before, for_lobby, before]


async def test_a_canary_that_falls_silent_restarts_the_soak(conn, names):
    canary, *_ = names
    await kiosks(conn, *names, canary=(canary,))
    version = await published(conn, soak_minutes=10)
    await reports(conn, canary, version)
    assert await rollout.advance(conn, 10, 15) == 'soaking'
    await conn.execute("UPDATE heartbeats SET received_at = now() - interval '20 minutes' WHERE kiosk = %s",
                       (canary,))
    assert await rollout.advance(conn, 10, 15) == 'soak_restarted'
    assert (await db.newest_rollout(conn))['canaries_healthy_since'] is None


async def test_two_hub_processes_checking_at_once_move_the_rollout_once(database, names):
    canary = names[0]
    async with await db.connect(database) as setup:
        await kiosks(setup, *names, canary=(canary,))
        version = await published(setup, soak_minutes=0.001)
        await reports(setup, canary, version)
        await setup.commit()
    first, second = await db.connect(database), await db.connect(database)
    try:
        await rollout.advance(first, 0.001, 15)  # the soak starts
        await first.commit()
        await asyncio.sleep(0.2)
        steps = await asyncio.gather(rollout.advance(first, 0.001, 15), rollout.advance(second, 0.001, 15))
    finally:
        await first.close()
        await second.close()
    assert sorted(steps, key=str) == sorted(['to_all', None], key=str)
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'rollout_to_all' "
                            "AND (detail->>'version')::int = %s", (version,)).fetchone()[0] == 1


def test_the_command_line_marks_a_canary_and_steers_the_rollout(database, names):
    canary, lobby, _ = names
    for name in (canary, lobby):
        assert hub_command(database, 'add-kiosk', name).returncode == 0
    marked = hub_command(database, 'set-canary', canary, 'on')
    assert marked.returncode == 0 and 'gets new content first' in marked.stdout
    assert hub_command(database, 'set-canary', 'nobody', 'on').stderr.strip() == "kiosk: no active kiosk named 'nobody'"
    with psycopg.connect(database) as conn:
        version = asyncio.run(_publish_committed(database))
        assert conn.execute("SELECT actor, detail FROM audit_log WHERE action = 'kiosk_canary' "
                            "AND detail->>'kiosk' = %s", (canary,)).fetchone() == ('cli', {'kiosk': canary,
                                                                                            'canary': True})
    status = hub_command(database, 'rollout', 'status')
    assert status.returncode == 0, status.stderr
    assert f'version {version}: canary kiosks only' in status.stdout
    assert f'{canary}: not heard from' in status.stdout
    paused = hub_command(database, 'rollout', 'pause')
    assert paused.returncode == 0 and f'version {version} is paused' in paused.stdout
    assert 'paused: nobody new gets it' in hub_command(database, 'rollout', 'status').stdout
    again = hub_command(database, 'rollout', 'pause')
    assert again.returncode == 2 and 'is paused already' in again.stderr
    assert hub_command(database, 'rollout', 'resume').returncode == 0
    aborted = hub_command(database, 'rollout', 'abort')
    assert aborted.returncode == 0 and 'nobody else gets it' in aborted.stdout
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT actor, action FROM audit_log WHERE action LIKE 'rollout_%%' "
                            "AND (detail->>'version')::int = %s ORDER BY seq", (version,)).fetchall() == [
            ('chief@slmpd.org', 'rollout_started'), ('cli', 'rollout_paused'), ('cli', 'rollout_resumed'),
            ('cli', 'rollout_aborted')]


async def _publish_committed(database: str) -> int:
    async with await db.connect(database) as conn:
        version = await published(conn)
        await conn.commit()
    return version
