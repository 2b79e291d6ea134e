"""Follow-up at scale on a real PostgreSQL, each figure next to a baseline from the same run.

Sign-ups made over months where, as at a working hub, most are closed and the new ones are the recent days' plus
one in twenty of the older (the overdue).

- Digest generation at 100,000 sign-ups (`BENCH_DIGEST_ROWS`): the query work that builds one user's daily digest
  (lock the user, count what arrived per program and kiosk, what still waits, the overdue and escalated counts),
  through `Mailer.queue_digests` for an admin and a coordinator, the outbox and the user's mark put back between
  rounds; baseline: a bare `count(*)` of every sign-up. Goal: the slowest round under 1 s.
- The sign-ups list with the Overdue filter at 1,000,000 rows (`BENCH_LIST_ROWS`): p95 of a page and its badges
  (admin and coordinator, first and deep keyset pages, with a kiosk), with the EXPLAIN (ANALYZE, BUFFERS) of its
  slowest view (bench/hub.py's `list_page_figures`, as for the plain list); baseline: the bare
  `ORDER BY created_at DESC LIMIT 50` index scan. Goal: the hub's page goal (bench/hub.py).

`python -m bench.follow_up` runs it and prints, without writing bench/results.json; `make bench` records it.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import UTC, datetime

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from bench.hub import ListView, list_page_figures, scratch_database
from kiosk.hub.config import HubSettings
from kiosk.hub.db import SignupFilter, Viewer
from kiosk.hub.follow_up import FollowUp
from kiosk.hub.mail import Mailer

DIGEST_ROWS = int(os.environ.get('BENCH_DIGEST_ROWS', 100_000))
LIST_ROWS = int(os.environ.get('BENCH_LIST_ROWS', 1_000_000))
GOAL_DIGEST_S = 1.0
ROUNDS = 10
ADMIN = Viewer('chief@slmpd.org', 'admin')
COORDINATOR = Viewer('pal@slmpd.org', 'coordinator', ('pal',))


def seed(database: str, rows: int, spread_seconds: int) -> None:
    """`rows` sign-ups, one every `spread_seconds` back from now; new if under three days old or one in twenty
    (picked by a hash of n, so that every program and kiosk has its share), else contacted, enrolled or declined."""
    with psycopg.connect(database) as conn:
        conn.execute('''
            INSERT INTO signups (id, kiosk, program, created_at, received_at, name, participant_name, phone, email,
                                 contact_method, age, note, language, body, status, status_changed_at)
            SELECT gen_random_uuid(), 'bench-' || (n %% 50),
                   (ARRAY['citizens-academy', 'police-explorers', 'hmca', 'pal', 'outreach'])[1 + n %% 5],
                   made, made + interval '1 minute', 'Visitor ' || n, '',
                   '+1314555' || lpad((n %% 10000)::text, 4, '0'),
                   '', 'phone', NULL, '', 'en', '{}', status,
                   CASE WHEN status <> 'new' THEN made + interval '1 day' END
            FROM (SELECT n, now() - make_interval(secs => n * %(spread)s) AS made,
                         CASE WHEN n * %(spread)s < 3 * 86400 OR hashint4(n) %% 20 = 0 THEN 'new'
                              ELSE (ARRAY['contacted', 'enrolled', 'declined'])[1 + n %% 3] END AS status
                  FROM generate_series(1, %(rows)s) AS n) AS made''', {'rows': rows, 'spread': spread_seconds})
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute('VACUUM ANALYZE signups')  # as autovacuum would have by then


def digests(database: str) -> list[dict]:
    seed(database, DIGEST_ROWS, 170)  # 100,000 over about 200 days
    with psycopg.connect(database) as conn:
        for viewer in (ADMIN, COORDINATOR):
            conn.execute("INSERT INTO users (email, role, notify) VALUES (%s, %s, 'daily')",
                         (viewer.email, viewer.role))
            conn.execute('INSERT INTO user_programs (email, program) SELECT %s, unnest(%s::text[])',
                         (viewer.email, list(viewer.programs)))
    settings = HubSettings(database_url=database, smtp_url='smtp://127.0.0.1:9', mail_from='hub@bench.test',
                           public_url='https://hub.bench.test')

    async def measure() -> tuple[dict[str, list[float]], list[float]]:
        timings: dict[str, list[float]] = {ADMIN.email: [], COORDINATOR.email: []}
        bare = []
        async with AsyncConnectionPool(database, min_size=1, max_size=2, kwargs={'row_factory': dict_row}) as pool:
            mailer = Mailer(settings, pool)
            for _ in range(ROUNDS):
                for email in timings:
                    async with pool.connection() as conn:  # a day since the last digest, and none sent today
                        await conn.execute('DELETE FROM mail_outbox')
                        await conn.execute("UPDATE users SET notified_until = now() - interval '1 day'")
                    started = time.perf_counter()
                    assert await mailer.queue_digests(only=email) == 1
                    timings[email].append(time.perf_counter() - started)
                async with pool.connection() as conn:
                    started = time.perf_counter()
                    await (await conn.execute('SELECT count(*) FROM signups')).fetchone()
                    bare.append(time.perf_counter() - started)
        return timings, bare

    timings, bare = asyncio.run(measure())
    slowest = max(max(each) for each in timings.values())
    bare_median = statistics.median(bare)
    for email, each in timings.items():
        print(f'  digest for {email}: median {statistics.median(each) * 1000:.1f} ms, max {max(each) * 1000:.1f} ms')
    print(f'digest generation at {DIGEST_ROWS:,} sign-ups: slowest of {ROUNDS * 2} rounds {slowest * 1000:.1f} ms '
          f'(bare count(*) of every sign-up: median {bare_median * 1000:.1f} ms, ratio {slowest / bare_median:.1f})')
    return [{'name': f'hub daily digest generation at {DIGEST_ROWS:,} sign-ups (slowest)',
             'figure': round(slowest * 1000, 1), 'unit': 'ms', 'baseline': round(bare_median * 1000, 1),
             'baseline_name': 'bare count(*) of every sign-up', 'ratio': round(slowest / bare_median, 1),
             'goal': f'< {GOAL_DIGEST_S * 1000:,.0f} ms', 'met': slowest < GOAL_DIGEST_S}]


def overdue_list(database: str) -> list[dict]:
    seed(database, LIST_ROWS, 60)  # a sign-up a minute, as bench/hub.py's list
    overdue_before = FollowUp.from_settings(HubSettings()).overdue_before(datetime.now(UTC))  # 2 business days
    overdue = SignupFilter(overdue_before=overdue_before)
    views: list[ListView] = [
        ('admin, overdue', ADMIN, overdue, 0), ('admin, overdue, page 21', ADMIN, overdue, 20),
        ('coordinator, overdue', COORDINATOR, overdue, 0), ('coordinator, overdue, page 11', COORDINATOR, overdue, 10),
        ('overdue at one kiosk', ADMIN, SignupFilter(kiosk='bench-10', overdue_before=overdue_before), 0)]
    return list_page_figures(database, views, f'with the Overdue filter at {LIST_ROWS:,} rows')


def run() -> list[dict]:
    results = []
    with scratch_database() as database:
        results += digests(database)
    with scratch_database() as database:
        results += overdue_list(database)
    return results


if __name__ == '__main__':
    run()
