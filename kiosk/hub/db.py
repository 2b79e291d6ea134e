"""All of the hub's SQL, in one place, readable as SQL (psycopg 3). No NiceGUI, no HTTP.

Every query that returns sign-ups takes a `Viewer` and applies its programs in the WHERE clause, so a
coordinator can never read another program's sign-ups, whatever a page asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from yoyo import get_backend, read_migrations

MIGRATIONS_DIR = Path(__file__).with_name('migrations')
IDEMPOTENCY_HOURS = 24
SENT_MAIL_DAYS = 30
STATUSES = ('new', 'contacted', 'enrolled', 'declined', 'duplicate')
# new → contacted → enrolled or declined; a new or contacted one can be closed as a duplicate of another. A closed
# sign-up can go back to contacted, so a slip of the mouse is undone with the history kept, never by editing it.
NEXT_STATUSES = {'new': ('contacted', 'duplicate'), 'contacted': ('enrolled', 'declined', 'duplicate'),
                 'enrolled': ('contacted',), 'declined': ('contacted',), 'duplicate': ('contacted',)}


def migrate(database_url: str) -> list[str]:
    """Apply what is missing (yoyo, plain SQL files, under yoyo's lock); returns the ids applied."""
    backend = get_backend('postgresql+psycopg' + database_url[database_url.index(':'):])
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [migration.id for migration in pending]


def migrate_if_owner(database_url: str) -> list[str]:
    """Migrate when this URL's role owns the schema (or there is none yet); a runtime role that owns nothing
    leaves that to `kiosk hub migrate`, run as the owner."""
    with psycopg.connect(database_url) as conn:
        owner = conn.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'users'")\
            .fetchone()
        role = conn.execute('SELECT current_user').fetchone()[0]
    return migrate(database_url) if owner is None or owner[0] == role else []


def grant_runtime(owner_url: str, role: str) -> None:
    """What the hub's runtime role needs and no more: rows, not the schema; no UPDATE, DELETE or TRUNCATE
    on audit_log; only a look at yoyo's bookkeeping."""
    grantee = sql.Identifier(role)
    with psycopg.connect(owner_url) as conn:
        conn.execute(sql.SQL('GRANT USAGE ON SCHEMA public TO {}').format(grantee))
        conn.execute(sql.SQL('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}')
                     .format(grantee))
        conn.execute(sql.SQL('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}').format(grantee))
        conn.execute(sql.SQL('REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {}').format(grantee))
        for (table,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                     "AND tablename LIKE '%yoyo%'").fetchall():
            conn.execute(sql.SQL('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {} FROM {}')
                         .format(sql.Identifier(table), grantee))


async def connect(database_url: str) -> AsyncConnection:
    return await AsyncConnection.connect(database_url, row_factory=dict_row)


# -- kiosks and their tokens ----------------------------------------------------------------------------

async def add_kiosk(conn: AsyncConnection, name: str, token_sha256: bytes) -> None:
    async with conn.transaction():
        await conn.execute('INSERT INTO kiosks (name) VALUES (%s)', (name,))
        await conn.execute('INSERT INTO kiosk_tokens (token_sha256, kiosk) VALUES (%s, %s)', (token_sha256, name))


async def kiosk_for_token(conn: AsyncConnection, token_sha256: bytes) -> str | None:
    """The active kiosk this token belongs to; None for an unknown, expired or revoked one."""
    row = await (await conn.execute('''
        SELECT k.name FROM kiosk_tokens t JOIN kiosks k ON k.name = t.kiosk
        WHERE t.token_sha256 = %s AND k.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
    ''', (token_sha256,))).fetchone()
    return row['name'] if row else None


async def revoke_kiosk(conn: AsyncConnection, name: str) -> bool:
    cursor = await conn.execute('UPDATE kiosks SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL',
                                (name,))
    return cursor.rowcount == 1


async def rotate_kiosk(conn: AsyncConnection, name: str, token_sha256: bytes, grace: timedelta) -> bool:
    """A new token; the ones before it keep working for `grace`, since an offline kiosk cannot switch at once."""
    async with conn.transaction():
        cursor = await conn.execute('''
            UPDATE kiosk_tokens SET expires_at = least(coalesce(expires_at, 'infinity'), now() + %s)
            WHERE kiosk = %s AND EXISTS (SELECT 1 FROM kiosks WHERE name = %s AND revoked_at IS NULL)
        ''', (grace, name, name))
        if cursor.rowcount == 0:
            return False
        await conn.execute('INSERT INTO kiosk_tokens (token_sha256, kiosk) VALUES (%s, %s)', (token_sha256, name))
    return True


# -- ingest ---------------------------------------------------------------------------------------------

async def insert_signups(conn: AsyncConnection, kiosk: str, records_json: str) -> set[str]:
    """Store the records (a JSON array) that are new; returns their ids. An id already stored is left exactly as it is.

    JSON text rather than objects: ingest has already written the records out once, for their hash.
    """
    cursor = await conn.execute('''
        INSERT INTO signups (id, kiosk, program, created_at, name, participant_name, phone, email,
                             contact_method, age, note, language, body)
        SELECT (r->>'id')::uuid, %s, r->>'program', (r->>'created_at')::timestamptz, r->>'name',
               r->>'participant_name', r->>'phone', r->>'email', r->>'contact_method', (r->>'age')::integer,
               r->>'note', r->>'language', r
        FROM jsonb_array_elements(%s::jsonb) AS r
        ON CONFLICT (id) DO NOTHING
        RETURNING id::text
    ''', (kiosk, records_json))
    return {row['id'] for row in await cursor.fetchall()}


async def stored_bodies(conn: AsyncConnection, ids: list[str]) -> dict[str, dict[str, Any]]:
    cursor = await conn.execute('SELECT id::text, body FROM signups WHERE id = ANY(%s::uuid[])', (ids,))
    return {row['id']: row['body'] for row in await cursor.fetchall()}


async def store_conflicts(conn: AsyncConnection, kiosk: str, records: list[dict[str, Any]]) -> None:
    await conn.execute('''
        INSERT INTO signup_conflicts (signup_id, kiosk, body)
        SELECT (r->>'id')::uuid, %s, r FROM jsonb_array_elements(%s) AS r
    ''', (kiosk, Jsonb(records)))


async def open_conflicts(conn: AsyncConnection, limit: int = 100) -> list[dict[str, Any]]:
    """Unresolved conflicts, oldest first, each with the stored record beside it (None if it is gone)."""
    return await (await conn.execute('''
        SELECT c.seq, c.signup_id, c.kiosk, c.received_at, c.body AS incoming, s.body AS stored, s.kiosk AS stored_kiosk
        FROM signup_conflicts c LEFT JOIN signups s ON s.id = c.signup_id
        WHERE c.resolved_at IS NULL ORDER BY c.received_at, c.seq LIMIT %s
    ''', (limit,))).fetchall()


async def resolve_conflict(conn: AsyncConnection, seq: int, actor: str, resolution: str) -> bool:
    """Close one conflict and audit it; False when another desk closed it first."""
    async with conn.transaction():
        row = await (await conn.execute('''
            UPDATE signup_conflicts SET resolved_at = now(), resolved_by = %s, resolution = %s
            WHERE seq = %s AND resolved_at IS NULL RETURNING signup_id, kiosk
        ''', (actor, resolution, seq))).fetchone()
        if row:
            await audit(conn, actor, 'conflict_resolved', {'signup': str(row['signup_id']), 'kiosk': row['kiosk'],
                                                           'resolution': resolution})
    return row is not None


async def admit_kiosk(conn: AsyncConnection, token_sha256: bytes, per_minute: int) -> tuple[str | None, int]:
    """Who is asking and whether they may, in one round trip: (None, 0) for a token that is not live, else the
    kiosk and 0 (this request is counted in a sliding minute shared by every hub process) or the seconds to wait.

    Two requests of one kiosk at the same instant may both pass the last free place; kiosks send one at
    a time, so that is as exact as it needs to be.
    """
    row = await (await conn.execute('''
        WITH kiosk AS (
            SELECT k.name FROM kiosk_tokens t JOIN kiosks k ON k.name = t.kiosk
            WHERE t.token_sha256 = %(token)s AND k.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
        ), recent AS (
            SELECT count(r.at) AS n, min(r.at) AS oldest FROM kiosk JOIN rate_requests r ON r.kiosk = kiosk.name
            WHERE r.at > now() - interval '1 minute'
        ), counted AS (
            INSERT INTO rate_requests (kiosk) SELECT kiosk.name FROM kiosk, recent WHERE n < %(limit)s
        )
        SELECT kiosk.name, CASE WHEN n < %(limit)s THEN 0
                    ELSE greatest(1, ceil(extract(epoch FROM oldest + interval '1 minute' - now())))::integer
               END AS wait
        FROM kiosk, recent
    ''', {'token': token_sha256, 'limit': per_minute})).fetchone()
    return (row['name'], row['wait']) if row else (None, 0)


async def lock_idempotency_key(conn: AsyncConnection, kiosk: str, key: str) -> None:
    """Held until the transaction ends: a second request with this kiosk's key waits, then finds the answer."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f'{kiosk}\n{key}',))


async def remembered_response(conn: AsyncConnection, kiosk: str, key: str) -> dict[str, Any] | None:
    """The answer given to this key in the last 24 hours, with the body hash it was given for."""
    return await (await conn.execute('''
        SELECT body_sha256, response FROM idempotency_keys
        WHERE kiosk = %s AND key = %s AND created_at > now() - make_interval(hours => %s)
    ''', (kiosk, key, IDEMPOTENCY_HOURS))).fetchone()


async def remember_response(conn: AsyncConnection, kiosk: str, key: str, body_sha256: bytes,
                            response: dict[str, Any]) -> None:
    await conn.execute('''
        INSERT INTO idempotency_keys (kiosk, key, body_sha256, response) VALUES (%s, %s, %s, %s)
        ON CONFLICT (kiosk, key) DO UPDATE
            SET body_sha256 = excluded.body_sha256, response = excluded.response, created_at = now()
    ''', (kiosk, key, body_sha256, Jsonb(response)))


async def save_heartbeat(conn: AsyncConnection, kiosk: str, body: dict[str, Any]) -> None:
    await conn.execute('''
        INSERT INTO heartbeats (kiosk, received_at, body) VALUES (%s, now(), %s)
        ON CONFLICT (kiosk) DO UPDATE SET received_at = excluded.received_at, body = excluded.body
    ''', (kiosk, Jsonb(body)))


# -- users ----------------------------------------------------------------------------------------------

ROLES = ('admin', 'coordinator', 'publisher')


@dataclass(frozen=True)
class Viewer:
    """Who is looking: an admin sees every program, a coordinator only `programs`, a publisher (who edits what the
    kiosks say) no sign-up at all: `viewer()` gives programs to coordinators only, so any other role reads none."""

    email: str
    role: str
    programs: tuple[str, ...] = ()
    must_change_password: bool = False  # signed in with a one-time password: only the new-password page opens
    second_factor: bool = False  # has turned on two-factor sign-in (TOTP)

    @property
    def sees_all(self) -> bool:
        return self.role == 'admin'

    @property
    def publishes(self) -> bool:
        """May edit, preview and publish the kiosks' content (the Content page)."""
        return self.role in ('admin', 'publisher')


async def add_user(conn: AsyncConnection, email: str, role: str, programs: list[str], password_hash: str | None
                   ) -> None:
    """A new user's password is one-time: it must be changed at the first sign-in. Without one (the Users screen),
    nobody can sign in as them until they choose theirs through a set-password link."""
    async with conn.transaction():
        await conn.execute('INSERT INTO users (email, role, password_hash, must_change_password) '
                           'VALUES (%s, %s, %s, true)', (email, role, password_hash))
        for program in programs:
            await conn.execute('INSERT INTO user_programs (email, program) VALUES (%s, %s)', (email, program))


async def set_password(conn: AsyncConnection, email: str, password_hash: str) -> bool:
    """A new password ends every session of that user and forgets the account's failed sign-ins."""
    async with conn.transaction():
        cursor = await conn.execute('UPDATE users SET password_hash = %s, must_change_password = false '
                                    'WHERE email = %s', (password_hash, email))
        await _end_sessions_and_failures(conn, email)
    return cursor.rowcount == 1


async def change_own_password(conn: AsyncConnection, email: str, password_hash: str, kept_session: bytes) -> None:
    """The user's own choice replaces a one-time password; every other session of theirs ends."""
    async with conn.transaction():
        await conn.execute('UPDATE users SET password_hash = %s, must_change_password = false WHERE email = %s',
                           (password_hash, email))
        await conn.execute('DELETE FROM sessions WHERE email = %s AND id_sha256 <> %s', (email, kept_session))


async def rehash_password(conn: AsyncConnection, email: str, old_hash: str, new_hash: str) -> None:
    """The same password under stronger parameters: sessions stay, and a password set meanwhile is kept."""
    async with conn.transaction():
        await conn.execute('UPDATE users SET password_hash = %s WHERE email = %s AND password_hash = %s',
                           (new_hash, email, old_hash))


async def set_disabled(conn: AsyncConnection, email: str, disabled: bool, actor: str) -> bool:
    """Disabling ends every session of that user at once and frees their sign-ups; a disabled user cannot sign in."""
    async with conn.transaction():
        cursor = await conn.execute('UPDATE users SET disabled_at = CASE WHEN %s THEN now() END WHERE email = %s',
                                    (disabled, email))
        await _end_sessions_and_failures(conn, email)
        await _release_assignments(conn, email, actor)
    return cursor.rowcount == 1


async def _end_sessions_and_failures(conn: AsyncConnection, email: str) -> None:
    await conn.execute('DELETE FROM sessions WHERE email = %s', (email,))
    await conn.execute("DELETE FROM login_failures WHERE scope = 'account' AND key = %s", (email,))


async def _release_assignments(conn: AsyncConnection, email: str, actor: str) -> None:
    """Sign-ups assigned to a user who no longer holds their program (disabled, a program or the admin role taken
    away) go back to Unassigned, one audit row each: otherwise they would be nobody's, under neither Mine nor
    Unassigned. "Holds" is `assign`'s rule."""
    await conn.execute('''
        WITH released AS (
            UPDATE signups s SET assigned_to = NULL, assigned_by = %(actor)s, assigned_at = now()
            WHERE s.assigned_to = %(email)s AND NOT EXISTS (
                SELECT FROM users u WHERE u.email = %(email)s AND u.disabled_at IS NULL
                  AND (u.role = 'admin' OR u.role = 'coordinator' AND EXISTS (
                        SELECT FROM user_programs p WHERE p.email = u.email AND p.program = s.program)))
            RETURNING s.id
        )
        INSERT INTO audit_log (actor, action, detail)
        SELECT %(actor)s, 'assign',
               jsonb_build_object('signup', id::text, 'assignee', NULL, 'released_from', %(email)s::text)
        FROM released
    ''', {'email': email, 'actor': actor})


async def viewer(conn: AsyncConnection, email: str) -> Viewer | None:
    row = await (await conn.execute('''
        SELECT u.email, u.role, u.must_change_password, u.totp_secret IS NOT NULL AS second_factor,
               coalesce(array_agg(p.program ORDER BY p.program)
                        FILTER (WHERE p.program IS NOT NULL AND u.role = 'coordinator'), '{}') AS programs
        FROM users u LEFT JOIN user_programs p ON p.email = u.email
        WHERE u.email = %s GROUP BY u.email
    ''', (email,))).fetchone()
    return Viewer(row['email'], row['role'], tuple(row['programs']), row['must_change_password'],
                  row['second_factor']) if row else None


@dataclass(frozen=True)
class CountedSignIn:
    refused_by: str | None  # 'client' or 'account' when that one is over its limit; None when the check may run
    password_hash: str | None  # None for an unknown or disabled account
    seqs: tuple[int, ...]  # the failures counted for this attempt, taken back if it succeeds or never runs


async def count_sign_in(conn: AsyncConnection, client: str, email: str, client_limit: tuple[int, timedelta],
                        account_limit: tuple[int, timedelta]) -> CountedSignIn:
    """Count a sign-in as failed before its password is checked, first by client and then by account.

    Each count runs under a transaction-scoped advisory lock on its key, so concurrent tries are counted one
    after another and cannot pass a limit together. An attempt over a limit is not counted (the window
    only decays), and one refused by its client never reaches the account's count: an attacker stopped by
    address cannot keep an account locked.
    """
    async with conn.transaction():
        refused_by, seqs = await _count_failures(conn, (('client', client, client_limit),
                                                        ('account', email, account_limit)))
        if refused_by:
            return CountedSignIn(refused_by, None, seqs)  # no hash: a refused attempt checks none
        row = await (await conn.execute('SELECT password_hash FROM users WHERE email = %s AND disabled_at IS NULL',
                                        (email,))).fetchone()
    return CountedSignIn(None, row['password_hash'] if row else None, seqs)


async def _count_failures(conn: AsyncConnection, counts: tuple[tuple[str, str, tuple[int, timedelta]], ...]
                          ) -> tuple[str | None, tuple[int, ...]]:
    """Count one failure per (scope, key, limit) in order, inside the caller's transaction; stops at the first
    scope over its limit and names it."""
    seqs: list[int] = []
    for scope, key, (limit, window) in counts:
        await conn.execute('SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))', (f'login:{scope}:{key}',))
        row = await (await conn.execute('''
            WITH recent AS (
                SELECT count(*) AS n FROM login_failures
                WHERE scope = %(scope)s AND key = %(key)s AND at > now() - %(window)s
            ), counted AS (
                INSERT INTO login_failures (scope, key) SELECT %(scope)s, %(key)s FROM recent WHERE n < %(limit)s
                RETURNING seq
            )
            SELECT (SELECT seq FROM counted) AS seq
        ''', {'scope': scope, 'key': key, 'window': window, 'limit': limit})).fetchone()
        if row['seq'] is None:
            return scope, tuple(seqs)
        seqs.append(row['seq'])
    return None, tuple(seqs)


async def forgive_sign_in(conn: AsyncConnection, seqs: tuple[int, ...], email: str | None = None) -> None:
    """Take back an attempt's counted failures; with `email` (it succeeded), the account's earlier ones too."""
    await conn.execute("DELETE FROM login_failures WHERE seq = ANY(%s) OR (scope = 'account' AND key = %s)",
                       (list(seqs), email))


async def open_session(conn: AsyncConnection, id_sha256: bytes, email: str) -> None:
    """A signed-in session; it is the user's last sign-in, which the Users screen shows."""
    async with conn.transaction():
        await conn.execute('INSERT INTO sessions (id_sha256, email) VALUES (%s, %s)', (id_sha256, email))
        await conn.execute('UPDATE users SET last_sign_in_at = now() WHERE email = %s', (email,))


async def session_viewer(conn: AsyncConnection, id_sha256: bytes, idle_minutes: int, max_hours: int, *,
                         renew: bool) -> Viewer | None:
    """The signed-in user of a live session as the database has them now, role and programs included.

    A session idle for `idle_minutes`, older than `max_hours`, or of a disabled user is not one. `renew`
    marks it used: only what a person does renews a session, never a timer that checks on it.
    """
    live = '''s.id_sha256 = %(id)s AND s.last_seen >= now() - make_interval(mins => %(idle)s)
              AND s.created_at >= now() - make_interval(hours => %(max)s)
              AND u.email = s.email AND u.disabled_at IS NULL'''
    query = (f'UPDATE sessions s SET last_seen = now() FROM users u WHERE {live} RETURNING s.email' if renew else
             f'SELECT s.email FROM sessions s, users u WHERE {live}')
    row = await (await conn.execute(query, {'id': id_sha256, 'idle': idle_minutes, 'max': max_hours})).fetchone()
    return await viewer(conn, row['email']) if row else None


async def close_session(conn: AsyncConnection, id_sha256: bytes) -> str | None:
    row = await (await conn.execute('DELETE FROM sessions WHERE id_sha256 = %s RETURNING email',
                                    (id_sha256,))).fetchone()
    return row['email'] if row else None


# -- the second factor: TOTP, recovery codes, and the sign-in's pending step ----------------------------

@dataclass(frozen=True)
class CountedCode:
    refused_by: str | None  # 'client' or 'code' when that one is over its limit; None when the check may run
    totp_secret: str | None
    totp_last_step: int | None
    seqs: tuple[int, ...]


async def count_code(conn: AsyncConnection, client: str, email: str, client_limit: tuple[int, timedelta],
                     code_limit: tuple[int, timedelta]) -> CountedCode:
    """Count a second-factor code as failed before it is checked, like a password (count_sign_in), but against
    the account's codes: a right password must not forgive wrong codes."""
    async with conn.transaction():
        refused_by, seqs = await _count_failures(conn, (('client', client, client_limit),
                                                        ('code', email, code_limit)))
        if refused_by:
            return CountedCode(refused_by, None, None, seqs)
        row = await (await conn.execute('SELECT totp_secret, totp_last_step FROM users '
                                        'WHERE email = %s AND disabled_at IS NULL', (email,))).fetchone()
    return CountedCode(None, row and row['totp_secret'], row and row['totp_last_step'], seqs)


async def forgive_code(conn: AsyncConnection, seqs: tuple[int, ...], email: str) -> None:
    """A right code takes back its count and the account's earlier wrong codes."""
    await conn.execute("DELETE FROM login_failures WHERE seq = ANY(%s) OR (scope = 'code' AND key = %s)",
                       (list(seqs), email))


async def use_totp_step(conn: AsyncConnection, email: str, step: int) -> bool:
    """Accept a code's time-step once: False when this step (or a later one) was used already."""
    cursor = await conn.execute('UPDATE users SET totp_last_step = %(step)s WHERE email = %(email)s '
                                'AND (totp_last_step IS NULL OR totp_last_step < %(step)s)',
                                {'step': step, 'email': email})
    return cursor.rowcount == 1


async def use_recovery_code(conn: AsyncConnection, email: str, code_sha256: bytes) -> bool:
    """Spend a recovery code: True once, then never again."""
    cursor = await conn.execute('UPDATE recovery_codes SET used_at = now() '
                                'WHERE email = %s AND code_sha256 = %s AND used_at IS NULL', (email, code_sha256))
    return cursor.rowcount == 1


async def recovery_codes_left(conn: AsyncConnection, email: str) -> int:
    row = await (await conn.execute('SELECT count(*) AS n FROM recovery_codes WHERE email = %s AND used_at IS NULL',
                                    (email,))).fetchone()
    return row['n']


async def turn_on_second_factor(conn: AsyncConnection, email: str, secret: str, step: int,
                                recovery_sha256: list[bytes]) -> bool:
    """Store the secret (its confirming code's step already used) and the recovery codes, audited; False when
    the user has a second factor already (another tab turned it on first)."""
    async with conn.transaction():
        cursor = await conn.execute('UPDATE users SET totp_secret = %s, totp_last_step = %s '
                                    'WHERE email = %s AND totp_secret IS NULL', (secret, step, email))
        if cursor.rowcount != 1:
            return False
        await _replace_recovery_codes(conn, email, recovery_sha256)
        await audit(conn, email, 'two_factor_on')
    return True


async def replace_recovery_codes(conn: AsyncConnection, email: str, recovery_sha256: list[bytes]) -> bool:
    """New recovery codes for a user whose second factor is on; the old ones stop working. Audited."""
    async with conn.transaction():
        if await (await conn.execute('SELECT 1 FROM users WHERE email = %s AND totp_secret IS NOT NULL FOR UPDATE',
                                     (email,))).fetchone() is None:
            return False
        await _replace_recovery_codes(conn, email, recovery_sha256)
        await audit(conn, email, 'recovery_codes_replaced')
    return True


async def _replace_recovery_codes(conn: AsyncConnection, email: str, recovery_sha256: list[bytes]) -> None:
    await conn.execute('DELETE FROM recovery_codes WHERE email = %s', (email,))
    await conn.execute('INSERT INTO recovery_codes (email, code_sha256) SELECT %s, unnest(%s::bytea[])',
                       (email, recovery_sha256))


async def reset_second_factor(conn: AsyncConnection, email: str, actor: str) -> bool:
    """An admin takes away a user's second factor (a lost phone): their sessions end, and they enrol again at
    their next sign-in if the hub requires it."""
    async with conn.transaction():
        cursor = await conn.execute('UPDATE users SET totp_secret = NULL, totp_last_step = NULL WHERE email = %s',
                                    (email,))
        if cursor.rowcount != 1:
            return False
        await conn.execute('DELETE FROM recovery_codes WHERE email = %s', (email,))
        await conn.execute('DELETE FROM sessions WHERE email = %s', (email,))
        await audit(conn, actor, 'two_factor_reset', {'user': email})
    return True


async def open_challenge(conn: AsyncConnection, id_sha256: bytes, email: str) -> None:
    await conn.execute('INSERT INTO sign_in_challenges (id_sha256, email) VALUES (%s, %s)', (id_sha256, email))


async def challenge_email(conn: AsyncConnection, id_sha256: bytes, minutes: int) -> str | None:
    """Whose right password waits for its code; None when there is no such challenge, or it is older than
    `minutes`, or its user was disabled meanwhile."""
    row = await (await conn.execute('''
        SELECT c.email FROM sign_in_challenges c JOIN users u ON u.email = c.email
        WHERE c.id_sha256 = %s AND c.created_at >= now() - make_interval(mins => %s) AND u.disabled_at IS NULL
    ''', (id_sha256, minutes))).fetchone()
    return row['email'] if row else None


async def close_challenge(conn: AsyncConnection, id_sha256: bytes) -> None:
    await conn.execute('DELETE FROM sign_in_challenges WHERE id_sha256 = %s', (id_sha256,))


# -- the Users screen: everyone, their access, and set-password links ------------------------------------

async def users_overview(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every user with role, programs, whether disabled, second factor, password, and last sign-in."""
    return await (await conn.execute('''
        SELECT u.email, u.role, u.disabled_at IS NOT NULL AS disabled, u.totp_secret IS NOT NULL AS second_factor,
               u.password_hash IS NOT NULL AS has_password, u.last_sign_in_at,
               coalesce(array_agg(p.program ORDER BY p.program) FILTER (WHERE p.program IS NOT NULL), '{}')
                   AS programs
        FROM users u LEFT JOIN user_programs p ON p.email = u.email
        GROUP BY u.email ORDER BY u.email
    ''')).fetchall()


async def set_role(conn: AsyncConnection, email: str, role: str, actor: str) -> bool:
    """Audited; any change but to admin takes some access away (an admin's programs, a coordinator's sign-ups, a
    publisher's Content page), so that user's sessions end and sign-ups they no longer hold go back to Unassigned."""
    async with conn.transaction():
        row = await (await conn.execute('SELECT role FROM users WHERE email = %s FOR UPDATE', (email,))).fetchone()
        if row is None:
            return False
        await conn.execute('UPDATE users SET role = %s WHERE email = %s', (role, email))
        lowered = role != row['role'] and role != 'admin'
        if lowered:
            await conn.execute('DELETE FROM sessions WHERE email = %s', (email,))
            await _release_assignments(conn, email, actor)
        await audit(conn, actor, 'role_changed', {'user': email, 'role': role, 'from': row['role'],
                                                  'sessions_ended': lowered})
    return True


async def set_programs(conn: AsyncConnection, email: str, programs: list[str], actor: str) -> bool:
    """Audited; a program taken away is less access, so that user's sessions end."""
    async with conn.transaction():
        if await (await conn.execute('SELECT 1 FROM users WHERE email = %s FOR UPDATE', (email,))).fetchone() is None:
            return False
        removed = [row['program'] for row in await (await conn.execute(
            'DELETE FROM user_programs WHERE email = %s AND NOT program = ANY(%s) RETURNING program',
            (email, programs))).fetchall()]
        added = [row['program'] for row in await (await conn.execute('''
            INSERT INTO user_programs (email, program) SELECT %s, unnest(%s::text[])
            ON CONFLICT DO NOTHING RETURNING program
        ''', (email, programs))).fetchall()]
        if removed:
            await conn.execute('DELETE FROM sessions WHERE email = %s', (email,))
            await _release_assignments(conn, email, actor)
        if removed or added:
            await audit(conn, actor, 'programs_changed', {'user': email, 'added': sorted(added),
                                                          'removed': sorted(removed), 'sessions_ended': bool(removed)})
    return True


async def create_password_link(conn: AsyncConnection, email: str, token_sha256: bytes, actor: str,
                               mail: Mail | None) -> bool:
    """A new set-password link replaces the user's unused ones; with `mail`, it is queued in the outbox in the
    same transaction. Audited (never the token); False for an unknown user."""
    async with conn.transaction():
        if await (await conn.execute('SELECT 1 FROM users WHERE email = %s', (email,))).fetchone() is None:
            return False
        await conn.execute('DELETE FROM password_links WHERE email = %s AND used_at IS NULL', (email,))
        await conn.execute('INSERT INTO password_links (token_sha256, email, created_by) VALUES (%s, %s, %s)',
                           (token_sha256, email, actor))
        if mail is not None:
            await conn.execute('INSERT INTO mail_outbox (recipient, kind, message_id, subject, body) '
                               'VALUES (%s, %s, %s, %s, %s)',
                               (mail.recipient, mail.kind, mail.message_id, mail.subject, mail.body))
        await audit(conn, actor, 'password_link_made', {'user': email, 'mailed': mail is not None})
    return True


async def password_link_email(conn: AsyncConnection, token_sha256: bytes, hours: int) -> str | None:
    """Whose unused link this is, if it is younger than `hours` and its user is not disabled."""
    row = await (await conn.execute('''
        SELECT l.email FROM password_links l JOIN users u ON u.email = l.email
        WHERE l.token_sha256 = %s AND l.used_at IS NULL AND l.created_at >= now() - make_interval(hours => %s)
          AND u.disabled_at IS NULL
    ''', (token_sha256, hours))).fetchone()
    return row['email'] if row else None


async def use_password_link(conn: AsyncConnection, token_sha256: bytes, hours: int, password_hash: str
                            ) -> str | None:
    """Spend the link and set its user's password, ending their sessions; audited. None when the link is
    unknown, used, expired or its user disabled: nothing changes."""
    async with conn.transaction():
        row = await (await conn.execute('''
            UPDATE password_links l SET used_at = now() FROM users u
            WHERE l.token_sha256 = %s AND l.used_at IS NULL AND l.created_at >= now() - make_interval(hours => %s)
              AND u.email = l.email AND u.disabled_at IS NULL
            RETURNING l.email
        ''', (token_sha256, hours))).fetchone()
        if row is None:
            return None
        await set_password(conn, row['email'], password_hash)
        await audit(conn, row['email'], 'password_set_by_link')
    return row['email']


# -- the coordinators' view of sign-ups (always scoped to the viewer) -----------------------------------

_SCOPE = '(%(sees_all)s OR s.program = ANY(%(programs)s))'


@dataclass(frozen=True)
class SignupFilter:
    program: str | None = None
    kiosk: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None  # a name or a phone number, or part of one
    overdue_before: datetime | None = None  # only overdue ones: still new, made before this (follow_up.py)
    assigned: str | None = None  # 'me' (the viewer's own), 'nobody' (unassigned), or None for either


def _where(viewer: Viewer, chosen: SignupFilter) -> tuple[str, dict[str, Any]]:
    digits = ''.join(char for char in chosen.search or '' if char.isdigit())
    params = {'sees_all': viewer.sees_all, 'programs': list(viewer.programs), 'program': chosen.program,
              'kiosk': chosen.kiosk, 'status': chosen.status, 'since': chosen.since, 'until': chosen.until,
              'name': f'%{chosen.search.strip()}%' if chosen.search and chosen.search.strip() else None,
              'phone': f'%{digits}%' if len(digits) >= 3 else None, 'overdue_before': chosen.overdue_before,
              'assigned': chosen.assigned, 'me': viewer.email}
    return f'''{_SCOPE}
        AND (%(program)s::text IS NULL OR s.program = %(program)s)
        AND (%(kiosk)s::text IS NULL OR s.kiosk = %(kiosk)s)
        AND (%(status)s::text IS NULL OR s.status = %(status)s)
        AND (%(since)s::timestamptz IS NULL OR s.created_at >= %(since)s)
        AND (%(until)s::timestamptz IS NULL OR s.created_at < %(until)s)
        AND (%(name)s::text IS NULL OR s.name ILIKE %(name)s OR s.participant_name ILIKE %(name)s
             OR (%(phone)s::text IS NOT NULL AND s.phone LIKE %(phone)s))
        AND (%(overdue_before)s::timestamptz IS NULL
             OR (s.status = 'new' AND s.created_at < %(overdue_before)s))
        AND (%(assigned)s::text IS NULL OR (%(assigned)s = 'me' AND s.assigned_to = %(me)s)
             OR (%(assigned)s = 'nobody' AND s.assigned_to IS NULL))''', params


@dataclass(frozen=True)
class SignupPage:
    rows: list[dict[str, Any]]
    total: int  # how many match in all: exact up to EXACT_COUNT_LIMIT, else the planner's estimate
    exact: bool
    newer: bool  # there are newer sign-ups before this page
    older: bool  # and older ones after it


# Counting every match on every page cost more than the page itself at 100,000 rows; past this many, the page
# says "about" and shows the planner's estimate, which reads no rows.
EXACT_COUNT_LIMIT = 1_000
_COLUMNS = '''s.id::text, s.kiosk, s.program, s.created_at, s.received_at, s.name, s.participant_name, s.phone,
              s.email, s.contact_method, s.age, s.note, s.language, s.status, s.status_changed_at, s.assigned_to,
              s.anonymized_at'''
Cursor = tuple[datetime, str]  # (created_at, id) of a row: where a page starts or ends


async def signups_page(conn: AsyncConnection, viewer: Viewer, chosen: SignupFilter, *, older_than: Cursor | None = None,
                       newer_than: Cursor | None = None, per_page: int = 50) -> SignupPage:
    """Newest first, one page of what this viewer may see, and how many match in all.

    Keyset paging: the page after the row `older_than`, or the one before the row `newer_than`, read straight
    from the (created_at, id) index however deep it is (OFFSET read and dropped every row before the page), and
    steady while new sign-ups arrive.
    """
    total = None
    if chosen.search:  # few match, and finding them is the work: find them once for both the page and the count
        rows = await (await conn.execute(*page_query(viewer, chosen, older_than, newer_than, per_page + 1,
                                                     counted=True))).fetchall()
        total = rows[0].pop('matched') if rows else None  # none on this page: count the plain way
        for row in rows[1:]:
            del row['matched']
    if total is None or total > EXACT_COUNT_LIMIT:
        rows = await (await conn.execute(*page_query(viewer, chosen, older_than, newer_than,
                                                     per_page + 1))).fetchall()
        total = None
    more, rows = len(rows) > per_page, rows[:per_page]
    if newer_than is not None:
        rows.reverse()
    total, exact = (total, True) if total is not None else await _count(conn, *_where(viewer, chosen))
    return SignupPage(rows, total, exact, newer=more if newer_than else older_than is not None,
                      older=True if newer_than else more)


def page_query(viewer: Viewer, chosen: SignupFilter, older_than: Cursor | None, newer_than: Cursor | None,
               limit: int, *, counted: bool = False) -> tuple[str, dict[str, Any]]:
    """The SQL of one page (`make bench` EXPLAINs it too).

    `counted`: the first EXACT_COUNT_LIMIT + 1 matches are found once, and the page is taken from them with
    their count in `matched`; right only when they are all there is, so a bigger `matched` needs the plain query.
    """
    where, params = _where(viewer, chosen)
    keyset, order, after = '', 'DESC', older_than or newer_than
    if after is not None:
        keyset = f'AND (s.created_at, s.id) {"<" if older_than else ">"} (%(at)s, %(id)s::uuid)'
        order = 'DESC' if older_than else 'ASC'
    params = {**params, 'at': after and after[0], 'id': after and after[1], 'limit': limit,
              'cap': EXACT_COUNT_LIMIT + 1}
    if counted:
        return f'''
            WITH matches AS MATERIALIZED (SELECT * FROM signups s WHERE {where} LIMIT %(cap)s)
            SELECT {_COLUMNS}, (SELECT count(*) FROM matches) AS matched FROM matches s WHERE true {keyset}
            ORDER BY s.created_at {order}, s.id {order} LIMIT %(limit)s
        ''', params
    return f'''
        SELECT {_COLUMNS} FROM signups s WHERE {where} {keyset}
        ORDER BY s.created_at {order}, s.id {order} LIMIT %(limit)s
    ''', params


async def _count(conn: AsyncConnection, where: str, params: dict[str, Any]) -> tuple[int, bool]:
    """Exact up to EXACT_COUNT_LIMIT (the count stops reading there), else the planner's estimate of the rows."""
    row = await (await conn.execute(f'''
        SELECT count(*) AS n FROM (SELECT 1 FROM signups s WHERE {where} LIMIT %(cap)s) AS capped
    ''', {**params, 'cap': EXACT_COUNT_LIMIT + 1})).fetchone()
    if row['n'] <= EXACT_COUNT_LIMIT:
        return row['n'], True
    plan = await (await conn.execute(f'EXPLAIN (FORMAT JSON) SELECT 1 FROM signups s WHERE {where}',
                                     params)).fetchone()
    return max(int(plan['QUERY PLAN'][0]['Plan']['Plan Rows']), EXACT_COUNT_LIMIT + 1), False


async def signups_export(conn: AsyncConnection, viewer: Viewer, chosen: SignupFilter, limit: int, *,
                         include_do_not_contact: bool = False) -> list[dict[str, Any]]:
    """Every row the filter finds, newest first, up to `limit` (the CSV and XLSX downloads); a sign-up marked
    do-not-contact only when asked for, so a call list made from it leaves them out, and then with `do_not_contact`
    true, so the file itself says so."""
    where, params = _where(viewer, chosen)
    return await (await conn.execute(f'''
        SELECT {_COLUMNS}, s.do_not_contact_at IS NOT NULL AS do_not_contact
        FROM signups s WHERE {where} AND (%(with_dnc)s OR s.do_not_contact_at IS NULL)
        ORDER BY s.created_at DESC, s.id DESC LIMIT %(limit)s
    ''', {**params, 'limit': limit, 'with_dnc': include_do_not_contact})).fetchall()


async def change_status(conn: AsyncConnection, viewer: Viewer, signup_id: str, status: str, note: str = '',
                        duplicate_of: str | None = None) -> bool:
    """One step of NEXT_STATUSES, with who and when; `duplicate_of` names the sign-up a `duplicate` repeats.

    False if this viewer may not see the sign-up, it is no longer in a status that leads there (somebody else
    moved it first), or STATUS_RULES refuse it (do-not-contact; a duplicate of nothing the viewer may see, or of a
    duplicate): the checks are in the UPDATE, so two desks cannot both win and a forged call changes nothing.
    """
    if status not in STATUSES:
        raise ValueError(f'unknown status {status!r}')
    if (status == 'duplicate') != (duplicate_of is not None):
        raise ValueError('a duplicate, and only a duplicate, names the sign-up it repeats')
    comes_from = [before for before, after in NEXT_STATUSES.items() if status in after]
    one = _one(viewer, signup_id)
    if one is None:  # not a uuid: a forged id, refused like one outside the viewer's programs
        return False
    params = {**one, 'status': status, 'comes_from': comes_from,
              'duplicate_of': None if duplicate_of is None else UUID(duplicate_of)}
    async with conn.transaction():
        if duplicate_of is not None:
            # Both rows, in one order, before the UPDATE reads the original: a second desk closing the original as
            # a duplicate of this one waits here, and its UPDATE then sees this close (no pair closes each other).
            await conn.execute(f'''
                SELECT FROM signups s WHERE s.id IN (%(id)s, %(duplicate_of)s) AND {_SCOPE}
                ORDER BY s.id FOR NO KEY UPDATE
            ''', params)
        cursor = await conn.execute(f'''
            UPDATE signups s SET status = %(status)s, status_changed_at = now(), duplicate_of = %(duplicate_of)s
            WHERE s.id = %(id)s AND s.status = ANY(%(comes_from)s) AND {_SCOPE} AND {STATUS_RULES}
        ''', params)
        if cursor.rowcount != 1:
            return False
        await conn.execute('''
            INSERT INTO status_changes (signup_id, status, changed_by, note) VALUES (%s, %s, %s, %s)
        ''', (signup_id, status, viewer.email, note))
        await audit(conn, viewer.email, 'status_change', {'signup': signup_id, 'status': status,
                                                          **({'duplicate_of': duplicate_of} if duplicate_of else {})})
    return True


# -- one sign-up: its possible duplicates and do-not-contact (always scoped, on both sides) ------------------

DUPLICATE_DAYS = 180
# The other sign-up `o` a query compares `s` with is scoped exactly as `s`: a match outside the viewer's programs
# must never show, not even as a count or a flag, or it would tell them the person signed up elsewhere.
_OTHER_SCOPE = '(%(sees_all)s OR o.program = ANY(%(programs)s))'
# The same phone (E.164, as stored) or email (any case); an empty one matches nothing. The `<> ''` on `o` lets the
# planner use the partial indexes of migration 0011.
_SAME_CONTACT = '''((s.phone <> '' AND o.phone <> '' AND o.phone = s.phone)
                    OR (s.email <> '' AND o.email <> '' AND lower(o.email) = lower(s.email)))'''
_POSSIBLE_DUPLICATE = f'''o.id <> s.id AND o.program = s.program AND {_SAME_CONTACT} AND {_OTHER_SCOPE}
    AND o.created_at BETWEEN s.created_at - make_interval(days => {DUPLICATE_DAYS})
                         AND s.created_at + make_interval(days => {DUPLICATE_DAYS})'''
_DO_NOT_CONTACT_ELSEWHERE = f'o.id <> s.id AND o.do_not_contact_at IS NOT NULL AND {_SAME_CONTACT} AND {_OTHER_SCOPE}'

# What every UPDATE that sets a sign-up's status adds to its WHERE, beside the scope and the step (change_status,
# and any bulk change: use it, do not restate it): a sign-up marked do-not-contact never moves to `contacted`, and
# a duplicate repeats another sign-up of its own program that the viewer may see and that is not itself closed as a
# duplicate (two sign-ups closed as each other's duplicate would leave the person with nobody to call them).
# Parameters: status, duplicate_of (a uuid or None), sees_all, programs.
STATUS_RULES = f'''(%(status)s <> 'contacted' OR s.do_not_contact_at IS NULL)
    AND (%(status)s <> 'duplicate' OR EXISTS (
        SELECT FROM signups o WHERE o.id = %(duplicate_of)s AND o.id <> s.id AND o.program = s.program
                                AND o.status <> 'duplicate' AND {_OTHER_SCOPE}))'''


def _one(viewer: Viewer, signup_id: str) -> dict[str, Any] | None:
    """The parameters naming one sign-up for this viewer; None for an id that is not a uuid (so: not found)."""
    try:
        signup = UUID(signup_id)
    except ValueError:
        return None
    return {'id': signup, 'sees_all': viewer.sees_all, 'programs': list(viewer.programs)}


async def signup(conn: AsyncConnection, viewer: Viewer, signup_id: str) -> dict[str, Any] | None:
    """One sign-up with its flags; None when it does not exist or is outside the viewer's programs, alike."""
    params = _one(viewer, signup_id)
    if params is None:
        return None
    return await (await conn.execute(f'''
        SELECT {_COLUMNS}, s.duplicate_of::text, s.do_not_contact_reason, s.do_not_contact_by, s.do_not_contact_at
        FROM signups s WHERE s.id = %(id)s AND {_SCOPE}
    ''', params)).fetchone()


async def status_history(conn: AsyncConnection, viewer: Viewer, signup_id: str) -> list[dict[str, Any]]:
    params = _one(viewer, signup_id)
    if params is None:
        return []
    return await (await conn.execute(f'''
        SELECT c.status, c.changed_by, c.changed_at, c.note FROM status_changes c JOIN signups s ON s.id = c.signup_id
        WHERE s.id = %(id)s AND {_SCOPE} ORDER BY c.seq
    ''', params)).fetchall()


async def possible_duplicates(conn: AsyncConnection, viewer: Viewer, signup_id: str) -> list[dict[str, Any]]:
    """The other sign-ups of the same program, within DUPLICATE_DAYS, with the same phone or email, newest first.

    A warning, never a merge: a household shares a phone. Both sides are scoped.
    """
    params = _one(viewer, signup_id)
    if params is None:
        return []
    return await (await conn.execute(f'''
        SELECT o.id::text, o.name, o.program, o.created_at, o.status,
               (s.phone <> '' AND o.phone = s.phone) AS same_phone,
               (s.email <> '' AND lower(o.email) = lower(s.email)) AS same_email
        FROM signups s JOIN signups o ON {_POSSIBLE_DUPLICATE}
        WHERE s.id = %(id)s AND {_SCOPE} ORDER BY o.created_at DESC, o.id LIMIT 50
    ''', params)).fetchall()


async def do_not_contact_elsewhere(conn: AsyncConnection, viewer: Viewer, signup_id: str) -> list[dict[str, Any]]:
    """Other sign-ups marked do-not-contact with this one's phone or email, in any program the viewer may see."""
    params = _one(viewer, signup_id)
    if params is None:
        return []
    return await (await conn.execute(f'''
        SELECT o.id::text, o.name, o.program, o.do_not_contact_reason, o.do_not_contact_by, o.do_not_contact_at
        FROM signups s JOIN signups o ON {_DO_NOT_CONTACT_ELSEWHERE}
        WHERE s.id = %(id)s AND {_SCOPE} ORDER BY o.do_not_contact_at DESC, o.id LIMIT 50
    ''', params)).fetchall()


async def signup_marks(conn: AsyncConnection, viewer: Viewer, ids: list[str]) -> dict[str, dict[str, Any]]:
    """For the rows a list page shows: how many possible duplicates each has, and whether it, or another sign-up of
    the same phone or email, is marked do-not-contact. One query for the page, both sides scoped."""
    rows = await (await conn.execute(f'''
        SELECT s.id::text, (SELECT count(*) FROM signups o WHERE {_POSSIBLE_DUPLICATE}) AS duplicates,
               s.do_not_contact_at IS NOT NULL AS do_not_contact,
               EXISTS (SELECT FROM signups o WHERE {_DO_NOT_CONTACT_ELSEWHERE}) AS do_not_contact_elsewhere
        FROM signups s WHERE s.id = ANY(%(ids)s::uuid[]) AND {_SCOPE}
    ''', {'ids': ids, 'sees_all': viewer.sees_all, 'programs': list(viewer.programs)})).fetchall()
    return {row.pop('id'): row for row in rows}


async def set_do_not_contact(conn: AsyncConnection, viewer: Viewer, signup_id: str, reason: str) -> bool:
    """Mark a sign-up do-not-contact, with why, who and when; False if it is not the viewer's or already marked.

    The audit records who and which sign-up; the reason stays on the sign-up and goes with it at retention.
    """
    params = _one(viewer, signup_id)
    if not reason.strip():
        raise ValueError('a do-not-contact mark needs a reason')
    if params is None:
        return False
    async with conn.transaction():
        cursor = await conn.execute(f'''
            UPDATE signups s SET do_not_contact_reason = %(reason)s, do_not_contact_by = %(by)s,
                                 do_not_contact_at = now()
            WHERE s.id = %(id)s AND {_SCOPE} AND s.do_not_contact_at IS NULL
        ''', {**params, 'reason': reason.strip(), 'by': viewer.email})
        if cursor.rowcount != 1:
            return False
        await audit(conn, viewer.email, 'do_not_contact_set', {'signup': signup_id})
    return True


async def clear_do_not_contact(conn: AsyncConnection, viewer: Viewer, signup_id: str) -> bool:
    """Lift the mark (the audit log keeps that it was there); False if it is not the viewer's or not marked."""
    params = _one(viewer, signup_id)
    if params is None:
        return False
    async with conn.transaction():
        cursor = await conn.execute(f'''
            UPDATE signups s SET do_not_contact_reason = NULL, do_not_contact_by = NULL, do_not_contact_at = NULL
            WHERE s.id = %(id)s AND {_SCOPE} AND s.do_not_contact_at IS NOT NULL
        ''', params)
        if cursor.rowcount != 1:
            return False
        await audit(conn, viewer.email, 'do_not_contact_cleared', {'signup': signup_id})
    return True


# -- working the list: assignment, changes to many sign-ups at once, anonymizing (always scoped to the viewer) --

Target = list[str] | SignupFilter
"""The sign-ups an action is for: the ids picked on the page, or every one a filter finds. A filter runs the
list's own `_where` here, on the server: "all matching" is never a list of ids from the browser."""


@dataclass(frozen=True)
class Changed:
    """What an action did: the ids it changed, and how many of its target it left as they were."""

    ids: list[str]
    skipped: int  # in the viewer's programs and the target, but not a status that leads there, or the assignee
    # does not hold the sign-up's program, or it was so already


def _target(viewer: Viewer, target: Target) -> tuple[str, dict[str, Any]]:
    """The WHERE of an action: the viewer's programs always, and then the picked ids or the list's filter.

    An id outside the viewer's programs matches nothing, whoever sent it; one that is no uuid is dropped.
    """
    if isinstance(target, SignupFilter):
        return _where(viewer, target)
    return f'{_SCOPE} AND s.id = ANY(%(ids)s::uuid[])', {
        'sees_all': viewer.sees_all, 'programs': list(viewer.programs), 'ids': [i for i in target if _is_uuid(i)]}


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


async def count_target(conn: AsyncConnection, viewer: Viewer, target: Target) -> int:
    """Exactly how many sign-ups an action would look at: what its confirmation says."""
    where, params = _target(viewer, target)
    return (await (await conn.execute(f'SELECT count(*) AS n FROM signups s WHERE {where}', params)).fetchone())['n']


async def change_statuses(conn: AsyncConnection, viewer: Viewer, target: Target, status: str, note: str = ''
                          ) -> Changed:
    """One step of NEXT_STATUSES for every sign-up of `target` that is in a status leading to `status` and that
    STATUS_RULES allow (never `contacted` for a do-not-contact one); the rest are skipped. Each changed one gets its
    status-history row (all with the same note) and its audit row, in one statement whose UPDATE holds the viewer's
    scope: two desks cannot both move a row, and a forged id moves none.
    """
    if status not in STATUSES:
        raise ValueError(f'unknown status {status!r}')
    if status == 'duplicate':
        raise ValueError('a duplicate names the sign-up it repeats: one at a time (change_status)')
    where, params = _target(viewer, target)
    comes_from = [before for before, after in NEXT_STATUSES.items() if status in after]
    # The list's filter has a `status` of its own, so the rules' new status goes by another name here.
    rules = STATUS_RULES.replace('%(status)s', '%(new_status)s')
    async with conn.transaction():
        row = await (await conn.execute(f'''
            WITH changed AS (
                UPDATE signups s SET status = %(new_status)s::text, status_changed_at = now()
                WHERE {where} AND s.status = ANY(%(comes_from)s::text[]) AND {rules}
                RETURNING s.id
            ), history AS (
                INSERT INTO status_changes (signup_id, status, changed_by, note)
                SELECT id, %(new_status)s::text, %(actor)s::text, %(note)s::text FROM changed
            ), audited AS (
                INSERT INTO audit_log (actor, action, detail)
                SELECT %(actor)s::text, 'status_change',
                       jsonb_build_object('signup', id::text, 'status', %(new_status)s::text, 'bulk', true)
                FROM changed
            )
            SELECT array(SELECT id::text FROM changed ORDER BY id) AS ids,
                   (SELECT count(*) FROM signups s WHERE {where}) AS matched
        ''', {**params, 'new_status': status, 'comes_from': comes_from, 'actor': viewer.email, 'note': note,
              'duplicate_of': None})).fetchone()
    return Changed(row['ids'], row['matched'] - len(row['ids']))


async def assign(conn: AsyncConnection, viewer: Viewer, target: Target, assignee: str | None) -> Changed:
    """Give the sign-ups of `target` to `assignee` (None: to nobody), one audit row each.

    Only where the assignee holds the sign-up's program (an admin, or a coordinator of it) and is not disabled,
    and only in the assigner's own programs: both are checked in the UPDATE, row by row; the rest are skipped.
    """
    where, params = _target(viewer, target)
    async with conn.transaction():
        row = await (await conn.execute(f'''
            WITH changed AS (
                UPDATE signups s SET assigned_to = %(assignee)s::text, assigned_by = %(actor)s::text,
                                     assigned_at = now()
                WHERE {where} AND s.assigned_to IS DISTINCT FROM %(assignee)s::text
                  AND (%(assignee)s::text IS NULL OR EXISTS (
                        SELECT FROM users u WHERE u.email = %(assignee)s::text AND u.disabled_at IS NULL
                          AND (u.role = 'admin' OR u.role = 'coordinator' AND EXISTS (
                                SELECT FROM user_programs p WHERE p.email = u.email AND p.program = s.program))))
                RETURNING s.id
            ), audited AS (
                INSERT INTO audit_log (actor, action, detail)
                SELECT %(actor)s::text, 'assign', jsonb_build_object('signup', id::text, 'assignee', %(assignee)s::text)
                FROM changed
            )
            SELECT array(SELECT id::text FROM changed ORDER BY id) AS ids,
                   (SELECT count(*) FROM signups s WHERE {where}) AS matched
        ''', {**params, 'assignee': assignee, 'actor': viewer.email})).fetchone()
    return Changed(row['ids'], row['matched'] - len(row['ids']))


async def assignable_users(conn: AsyncConnection, viewer: Viewer) -> list[str]:
    """Who the page offers as an assignee: enabled admins, and coordinators of at least one of the viewer's
    programs (of any, for an admin). Whether they hold each sign-up's own program is `assign`'s check."""
    return [row['email'] for row in await (await conn.execute('''
        SELECT u.email FROM users u
        WHERE u.disabled_at IS NULL
          AND (u.role = 'admin' OR u.role = 'coordinator' AND EXISTS (
                SELECT FROM user_programs p WHERE p.email = u.email
                  AND (%(sees_all)s OR p.program = ANY(%(programs)s))))
        ORDER BY u.email
    ''', {'sees_all': viewer.sees_all, 'programs': list(viewer.programs)})).fetchall()]


PERSONAL_FIELDS = ('name', 'participant_name', 'phone', 'email', 'note')


async def anonymize(conn: AsyncConnection, viewer: Viewer, signup_id: str) -> bool:
    """Replace a sign-up's personal fields, in its columns and in the body kept as the kiosk sent it; program,
    kiosk, dates, age, language and status stay for the statistics. Admins only (in the UPDATE). The notes of
    its status history and any conflict kept for it (a copy of the personal data) go too. Audited.

    False when the viewer is no admin, the id is unknown, or it was anonymized already.
    """
    if not _is_uuid(signup_id):
        return False
    blank = {field: '' for field in PERSONAL_FIELDS}
    async with conn.transaction():
        cursor = await conn.execute('''
            UPDATE signups s SET name = '', participant_name = '', phone = '', email = '', note = '',
                                 body = s.body || %(blank)s, anonymized_at = now(),
                                 -- free text about the person; the flag itself stays (reason and time go together)
                                 do_not_contact_reason = CASE WHEN s.do_not_contact_at IS NOT NULL
                                                              THEN '(anonymized)' END
            WHERE s.id = %(id)s::uuid AND %(sees_all)s AND s.anonymized_at IS NULL
        ''', {'blank': Jsonb(blank), 'id': signup_id, 'sees_all': viewer.sees_all})
        if cursor.rowcount != 1:
            return False
        await conn.execute("UPDATE status_changes SET note = '' WHERE signup_id = %s::uuid", (signup_id,))
        await conn.execute('DELETE FROM signup_conflicts WHERE signup_id = %s::uuid', (signup_id,))
        await audit(conn, viewer.email, 'anonymize', {'signup': signup_id})
    return True


async def anonymized_among(conn: AsyncConnection, ids: list[str]) -> set[str]:
    """Which of these ids were anonymized: ingest answers a later copy of one as stored and keeps nothing of it."""
    cursor = await conn.execute('SELECT id::text FROM signups WHERE id = ANY(%s::uuid[]) AND anonymized_at IS NOT NULL',
                                (ids,))
    return {row['id'] for row in await cursor.fetchall()}


# -- each user's default view of the list ---------------------------------------------------------------

async def default_view(conn: AsyncConnection, email: str) -> dict[str, str]:
    """The list's query this user opens /signups with ({} for none): filters only, never a search."""
    row = await (await conn.execute('SELECT default_view FROM users WHERE email = %s', (email,))).fetchone()
    return (row and row['default_view']) or {}


async def save_default_view(conn: AsyncConnection, email: str, view: dict[str, str]) -> None:
    """Keep `view` ({} forgets it) as this user's default, audited."""
    async with conn.transaction():
        await conn.execute('UPDATE users SET default_view = %s WHERE email = %s',
                           (Jsonb(view) if view else None, email))
        await audit(conn, email, 'default_view_saved', view)


# -- audit and upkeep -----------------------------------------------------------------------------------

async def audit(conn: AsyncConnection, actor: str, action: str, detail: dict[str, Any] | None = None) -> None:
    """Append one entry; the table refuses UPDATE, DELETE and TRUNCATE (a trigger), so history stays."""
    await conn.execute('INSERT INTO audit_log (actor, action, detail) VALUES (%s, %s, %s)',
                       (actor, action, Jsonb(detail or {})))


async def delete_closed_signups(conn: AsyncConnection, retention_days: int, session_idle_minutes: int,
                                session_max_hours: int, failures_window: timedelta) -> int:
    """Sign-ups closed (enrolled, declined or duplicate) more than `retention_days` ago go; open ones are never touched.

    Forgotten idempotency keys, sessions that ended, old request counts, failed sign-ins that no longer
    count, stale second-factor challenges and set-password links, and mail sent more than SENT_MAIL_DAYS ago
    go in the same nightly pass.
    """
    async with conn.transaction():
        cursor = await conn.execute('''
            DELETE FROM signups WHERE status IN ('enrolled', 'declined', 'duplicate')  -- signups_closed's list
              AND status_changed_at < now() - make_interval(days => %s)
        ''', (retention_days,))
        await conn.execute('DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => %s)',
                           (IDEMPOTENCY_HOURS,))
        await conn.execute('DELETE FROM sessions WHERE last_seen < now() - make_interval(mins => %s) '
                           'OR created_at < now() - make_interval(hours => %s)',
                           (session_idle_minutes, session_max_hours))
        await conn.execute('DELETE FROM login_failures WHERE at < now() - %s', (failures_window,))
        await conn.execute("DELETE FROM rate_requests WHERE at < now() - interval '1 minute'")
        await conn.execute("DELETE FROM sign_in_challenges WHERE created_at < now() - interval '1 hour'")
        await conn.execute("DELETE FROM password_links WHERE created_at < now() - interval '30 days'")
        # A sent mail is kept a while for the record (it may hold first names); then it goes.
        await conn.execute("DELETE FROM mail_outbox WHERE sent_at < now() - make_interval(days => %s)",
                           (SENT_MAIL_DAYS,))
        # Conflicts follow their sign-up: gone with it, and kept no longer than it once resolved.
        await conn.execute('''
            DELETE FROM signup_conflicts c
            WHERE c.resolved_at < now() - make_interval(days => %s)
               OR NOT EXISTS (SELECT FROM signups s WHERE s.id = c.signup_id)
        ''', (retention_days,))
        await audit(conn, 'hub', 'retention', {'deleted': cursor.rowcount, 'days': retention_days})
    return cursor.rowcount



# -- the fleet, activity and the audit trail ------------------------------------------------------------

async def kiosk_names(conn: AsyncConnection) -> list[str]:
    return [row['name'] for row in await (await conn.execute('SELECT name FROM kiosks ORDER BY name')).fetchall()]


async def active_kiosk_names(conn: AsyncConnection) -> list[str]:
    rows = await (await conn.execute('SELECT name FROM kiosks WHERE revoked_at IS NULL ORDER BY name')).fetchall()
    return [row['name'] for row in rows]


async def fleet(conn: AsyncConnection, viewer: Viewer, stale_minutes: int, timezone: str) -> list[dict[str, Any]]:
    """One row per kiosk: its latest heartbeat, whether it went quiet, and what it sent today and this week.

    The health is the machine's and everyone's to see; the counts are only of the viewer's programs.
    """
    return await (await conn.execute(f'''
        WITH local AS (SELECT date_trunc('day', now() AT TIME ZONE %(tz)s) AT TIME ZONE %(tz)s AS today,
                              date_trunc('week', now() AT TIME ZONE %(tz)s) AT TIME ZONE %(tz)s AS this_week)
        SELECT k.name, k.revoked_at IS NOT NULL AS revoked, h.received_at AS last_seen,
               (h.received_at IS NULL OR h.received_at < now() - make_interval(mins => %(stale)s)) AS stale,
               (h.body->>'queued')::integer AS queued, (h.body->>'rejected')::integer AS rejected,
               coalesce(h.body->'warnings', '[]') AS warnings, h.body->>'version' AS version,
               h.body->>'content_hash' AS content_hash, h.body->>'last_sync_success' AS last_sync_success,
               k.canary, {_REPORTED.format('content_version')} AS content_version,
               {_REPORTED.format('content_staged')} AS content_staged, h.body->>'content_error' AS content_error,
               (SELECT max(v.version) FROM content_versions v WHERE {_TARGETED}) AS content_newest,
               (SELECT count(*) FROM content_versions v
                WHERE {_TARGETED} AND v.version > {_REPORTED.format('content_version')}) AS content_behind,
               (SELECT max(v.version) FROM content_versions v LEFT JOIN content_rollouts r ON r.version = v.version
                WHERE {_TARGETED} AND {_ALLOWED}) AS content_served,
               count(s.id) FILTER (WHERE s.received_at >= local.today) AS today,
               count(s.id) FILTER (WHERE s.received_at >= local.this_week) AS this_week
        FROM kiosks k CROSS JOIN local
        LEFT JOIN heartbeats h ON h.kiosk = k.name
        LEFT JOIN signups s ON s.kiosk = k.name AND s.received_at >= least(local.today, local.this_week)
                               AND {_SCOPE}
        GROUP BY k.name, k.revoked_at, k.canary, h.received_at, h.body
        ORDER BY k.name
    ''', {'tz': timezone, 'stale': stale_minutes, 'sees_all': viewer.sees_all,
          'programs': list(viewer.programs)})).fetchall()


async def signups_per_week(conn: AsyncConnection, viewer: Viewer, since: datetime, timezone: str
                           ) -> list[dict[str, Any]]:
    """(program, Monday of the week, count) for the sign-ups this viewer may see, made since `since`."""
    return await (await conn.execute(f'''
        SELECT s.program, (date_trunc('week', s.created_at AT TIME ZONE %(tz)s))::date AS week, count(*) AS n
        FROM signups s WHERE {_SCOPE} AND s.created_at >= %(since)s
        GROUP BY 1, 2
    ''', {'tz': timezone, 'since': since, 'sees_all': viewer.sees_all, 'programs': list(viewer.programs)})).fetchall()


async def first_contact_figures(conn: AsyncConnection, viewer: Viewer, deadlines: dict[date, datetime],
                                now: datetime, timezone: str) -> list[dict[str, Any]]:
    """Time to first contact per program and local month, for the sign-ups made on the days of `deadlines`
    (each day's end of the follow-up window, from follow_up.py), newest month first.

    The time runs from `created_at` to the first status change (the first move out of `new`). `median` and `p90`
    are of the sign-ups contacted so far; `in_time` of `decided` were contacted before their deadline, where
    decided means contacted, or still new past the deadline (one still inside its window has no outcome yet).
    """
    days = sorted(deadlines)
    return await (await conn.execute(f'''
        WITH due AS (SELECT * FROM unnest(%(days)s::date[], %(due)s::timestamptz[]) AS d (day, due_at)),
        made AS (
            SELECT s.program, s.created_at, (s.created_at AT TIME ZONE %(tz)s)::date AS day,
                   (SELECT min(c.changed_at) FROM status_changes c WHERE c.signup_id = s.id) AS contacted_at
            FROM signups s
            WHERE {_SCOPE} AND s.status <> 'duplicate'  -- the same person's other sign-up is the one counted
              AND s.created_at >= (%(first)s::date::timestamp AT TIME ZONE %(tz)s)
              AND s.created_at < ((%(last)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
        )
        SELECT m.program, date_trunc('month', m.day)::date AS month, count(*) AS signups,
               count(m.contacted_at) AS contacted,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY m.contacted_at - m.created_at) AS median,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY m.contacted_at - m.created_at) AS p90,
               count(*) FILTER (WHERE m.contacted_at < d.due_at) AS in_time,
               count(*) FILTER (WHERE m.contacted_at IS NOT NULL OR d.due_at <= %(now)s) AS decided
        FROM made m JOIN due d ON d.day = m.day
        GROUP BY 1, 2 ORDER BY 2 DESC, 1
    ''', {'days': days, 'due': [deadlines[day] for day in days], 'first': days[0], 'last': days[-1],
          'tz': timezone, 'now': now, 'sees_all': viewer.sees_all, 'programs': list(viewer.programs)})).fetchall()


async def audit_page(conn: AsyncConnection, *, page: int = 0, per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    rows = await (await conn.execute('''
        SELECT at, actor, action, detail FROM audit_log ORDER BY seq DESC LIMIT %s OFFSET %s
    ''', (per_page, page * per_page))).fetchall()
    total = (await (await conn.execute('SELECT count(*) AS n FROM audit_log')).fetchone())['n']
    return rows, total


# -- mail: each user's choice, what is new for them, and the outbox ---------------------------------------

NOTIFY_CHOICES = ('instant', 'daily', 'off')


async def set_notify(conn: AsyncConnection, email: str, choice: str) -> bool:
    if choice not in NOTIFY_CHOICES:
        raise ValueError(f'unknown notification choice {choice!r}')
    # Turned on again, mail starts from now: not a backlog of everything that came while it was off.
    cursor = await conn.execute('''
        UPDATE users SET notify = %(choice)s,
               notified_until = CASE WHEN notify = 'off' AND %(choice)s <> 'off' THEN now() ELSE notified_until END
        WHERE email = %(email)s
    ''', {'choice': choice, 'email': email})
    return cursor.rowcount == 1


async def notify_choice(conn: AsyncConnection, email: str) -> str | None:
    row = await (await conn.execute('SELECT notify FROM users WHERE email = %s', (email,))).fetchone()
    return row['notify'] if row else None


async def users_due_instant(conn: AsyncConnection, gap: timedelta) -> list[str]:
    """Instant users whose last instant mail is at least `gap` old: the ones the check may mail."""
    return [row['email'] for row in await (await conn.execute('''
        SELECT email FROM users WHERE notify = 'instant' AND disabled_at IS NULL
          AND (last_instant_at IS NULL OR last_instant_at <= now() - %s) ORDER BY email
    ''', (gap,))).fetchall()]


async def users_choosing(conn: AsyncConnection, choice: str) -> list[str]:
    return [row['email'] for row in await (await conn.execute(
        'SELECT email FROM users WHERE notify = %s AND disabled_at IS NULL ORDER BY email', (choice,))).fetchall()]


@dataclass(frozen=True)
class MailCursor:
    """A user's row, locked for this transaction: where their last mail left off, and the window's end."""

    viewer: Viewer
    since: datetime
    until: datetime


async def lock_for_mail(conn: AsyncConnection, email: str, choice: str, gap: timedelta, settle: timedelta
                        ) -> MailCursor | None:
    """Lock the user's row (inside the caller's transaction) if they still chose `choice` and, for instant mail,
    their gap is over; None when not.

    An instant check skips a row another transaction holds (the next check, seconds later, finds it free); a
    digest waits for it, since it runs once a day, and its key per day stops a second one.

    The window ends `settle` ago, not now: a sign-up is stamped when its batch's transaction starts and seen
    when it commits, so the newest moment is left to the next window, which counts what committed late.
    """
    lock = 'FOR UPDATE SKIP LOCKED' if choice == 'instant' else 'FOR UPDATE'
    row = await (await conn.execute(f'''
        SELECT notified_until, now() - %(settle)s AS until FROM users
        WHERE email = %(email)s AND notify = %(choice)s AND disabled_at IS NULL
          AND (%(choice)s <> 'instant' OR last_instant_at IS NULL OR last_instant_at <= now() - %(gap)s)
        {lock}
    ''', {'email': email, 'choice': choice, 'gap': gap, 'settle': settle})).fetchone()
    if row is None:
        return None
    return MailCursor(await viewer(conn, email), row['notified_until'], max(row['until'], row['notified_until']))


async def received_counts(conn: AsyncConnection, cursor: MailCursor) -> list[dict[str, Any]]:
    """(program, kiosk, n): the sign-ups received in the cursor's window, of the user's programs only."""
    return await (await conn.execute(f'''
        SELECT s.program, s.kiosk, count(*) AS n FROM signups s
        WHERE {_SCOPE} AND s.received_at > %(since)s AND s.received_at <= %(until)s
        GROUP BY 1, 2 ORDER BY 1, 2
    ''', _mail_params(cursor))).fetchall()


async def still_new(conn: AsyncConnection, cursor: MailCursor) -> dict[str, Any]:
    """How many of the user's sign-ups nobody has moved past `new` yet, and when the oldest of them came."""
    return await (await conn.execute(f'''
        SELECT count(*) AS n, min(s.created_at) AS oldest FROM signups s
        WHERE {_SCOPE} AND s.status = 'new' AND s.received_at <= %(until)s
    ''', _mail_params(cursor))).fetchone()


async def received_first_names(conn: AsyncConnection, cursor: MailCursor, limit: int) -> list[dict[str, Any]]:
    """(first name, program) of the window's sign-ups, oldest first: only for `mail_names`, still scoped."""
    return await (await conn.execute(f'''
        SELECT split_part(btrim(s.name), ' ', 1) AS first_name, s.program FROM signups s
        WHERE {_SCOPE} AND s.received_at > %(since)s AND s.received_at <= %(until)s
        ORDER BY s.received_at, s.created_at LIMIT %(limit)s
    ''', {**_mail_params(cursor), 'limit': limit})).fetchall()


async def overdue_counts(conn: AsyncConnection, viewer: Viewer, overdue_before: datetime,
                         escalated_before: datetime) -> list[dict[str, Any]]:
    """(program, overdue, escalated): the viewer's sign-ups still new and made before each cut-off
    (follow_up.py), per program; escalated ones are overdue too. Programs with none are left out."""
    return await (await conn.execute(f'''
        SELECT s.program, count(*) AS overdue, count(*) FILTER (WHERE s.created_at < %(escalated)s) AS escalated
        FROM signups s WHERE {_SCOPE} AND s.status = 'new' AND s.created_at < %(overdue)s
        GROUP BY 1 ORDER BY 1
    ''', {'sees_all': viewer.sees_all, 'programs': list(viewer.programs), 'overdue': overdue_before,
          'escalated': escalated_before})).fetchall()


async def escalated_first_names(conn: AsyncConnection, viewer: Viewer, escalated_before: datetime, limit: int
                                ) -> list[dict[str, Any]]:
    """(first name, program) of the escalated sign-ups, oldest first: only for `mail_names`, still scoped."""
    return await (await conn.execute(f'''
        SELECT split_part(btrim(s.name), ' ', 1) AS first_name, s.program FROM signups s
        WHERE {_SCOPE} AND s.status = 'new' AND s.created_at < %(escalated)s
        ORDER BY s.created_at, s.id LIMIT %(limit)s
    ''', {'sees_all': viewer.sees_all, 'programs': list(viewer.programs), 'escalated': escalated_before,
          'limit': limit})).fetchall()


def _mail_params(cursor: MailCursor) -> dict[str, Any]:
    return {'sees_all': cursor.viewer.sees_all, 'programs': list(cursor.viewer.programs), 'since': cursor.since,
            'until': cursor.until}


async def assigned_in_window(conn: AsyncConnection, cursor: MailCursor, names_limit: int) -> tuple[int, list[dict]]:
    """How many sign-ups someone else assigned to the user in the cursor's window (still theirs, still in their
    programs), and (first name, program) of up to `names_limit` of them, oldest assignment first: for mail_names."""
    rows = await (await conn.execute(f'''
        SELECT split_part(btrim(s.name), ' ', 1) AS first_name, s.program, count(*) OVER () AS n FROM signups s
        WHERE {_SCOPE} AND s.assigned_to = %(email)s AND s.assigned_by <> %(email)s
          AND s.assigned_at > %(since)s AND s.assigned_at <= %(until)s
        ORDER BY s.assigned_at, s.id LIMIT greatest(%(limit)s, 1)
    ''', {**_mail_params(cursor), 'email': cursor.viewer.email, 'limit': names_limit})).fetchall()
    return (rows[0]['n'] if rows else 0), [{'first_name': row['first_name'], 'program': row['program']}
                                            for row in rows[:names_limit]]


@dataclass(frozen=True)
class Mail:
    recipient: str
    kind: str  # 'instant' or 'daily'
    message_id: str
    subject: str
    body: str
    digest_key: str | None = None


async def queue_mail(conn: AsyncConnection, cursor: MailCursor, mail: Mail) -> bool:
    """Put the mail in the outbox and move the user's cursor, in the caller's transaction (which holds their row).

    False, with nothing moved, when this digest is queued already (its key is taken).
    """
    row = await (await conn.execute('''
        INSERT INTO mail_outbox (recipient, kind, digest_key, message_id, subject, body)
        VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (digest_key) DO NOTHING RETURNING id
    ''', (mail.recipient, mail.kind, mail.digest_key, mail.message_id, mail.subject, mail.body))).fetchone()
    if row is None:
        return False
    await conn.execute('''
        UPDATE users SET notified_until = %s,
                         last_instant_at = CASE WHEN %s = 'instant' THEN now() ELSE last_instant_at END
        WHERE email = %s
    ''', (cursor.until, mail.kind, mail.recipient))
    return True


async def claim_mail(conn: AsyncConnection, claimant: str, lease: timedelta, limit: int) -> list[dict[str, Any]]:
    """Claim up to `limit` mails that are due and not claimed by a live sender (commits at once).

    SKIP LOCKED: two senders claiming at the same instant take different rows; neither waits for the other.
    """
    async with conn.transaction():
        return await (await conn.execute('''
            WITH claimed AS (
                UPDATE mail_outbox SET claimed_at = now(), claimed_by = %(claimant)s, attempts = attempts + 1
                WHERE id IN (SELECT id FROM mail_outbox
                             WHERE sent_at IS NULL AND next_attempt_at <= now()
                               AND (claimed_at IS NULL OR claimed_at < now() - %(lease)s)
                             ORDER BY next_attempt_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
                RETURNING id, recipient, message_id, subject, body, attempts
            )
            SELECT * FROM claimed ORDER BY id
        ''', {'claimant': claimant, 'lease': lease, 'limit': limit})).fetchall()


async def mark_sent(conn: AsyncConnection, mail_id: int, claimant: str) -> None:
    async with conn.transaction():
        # A set-password link's text is dropped once sent: the outbox must not keep a working link readable.
        await conn.execute("UPDATE mail_outbox SET sent_at = now(), claimed_at = NULL, last_error = NULL, "
                           "body = CASE WHEN kind = 'password_link' THEN '' ELSE body END "
                           'WHERE id = %s AND claimed_by = %s', (mail_id, claimant))


async def mark_failed(conn: AsyncConnection, mail_id: int, claimant: str, error: str, retry_in: timedelta) -> None:
    """Release the claim and try again after `retry_in`; `error` must name no person and no address."""
    async with conn.transaction():
        await conn.execute('''
            UPDATE mail_outbox SET claimed_at = NULL, last_error = %s, next_attempt_at = now() + %s
            WHERE id = %s AND claimed_by = %s AND sent_at IS NULL
        ''', (error, retry_in, mail_id, claimant))


async def outbox_health(conn: AsyncConnection) -> dict[str, Any]:
    """For admins on the Kiosks page: what waits, what failed and why (no address, no content)."""
    return await (await conn.execute('''
        SELECT count(*) FILTER (WHERE sent_at IS NULL) AS waiting,
               count(*) FILTER (WHERE sent_at IS NULL AND last_error IS NOT NULL) AS failing,
               min(created_at) FILTER (WHERE sent_at IS NULL) AS oldest_waiting,
               (array_agg(last_error ORDER BY next_attempt_at DESC)
                    FILTER (WHERE sent_at IS NULL AND last_error IS NOT NULL))[1] AS last_error,
               min(next_attempt_at) FILTER (WHERE sent_at IS NULL AND last_error IS NOT NULL) AS next_attempt,
               max(sent_at) AS last_sent
        FROM mail_outbox
    ''')).fetchone()


# -- published content: immutable signed bundles ----------------------------------------------------------

async def lock_content_versions(conn: AsyncConnection) -> int:
    """Inside a transaction: one publisher at a time (other readers go on); returns the newest version, 0 if none."""
    await conn.execute('LOCK TABLE content_versions IN SHARE ROW EXCLUSIVE MODE')
    return await newest_content_version(conn)


async def newest_content_sha256(conn: AsyncConnection) -> str | None:
    """Which bundle is the newest (None before the first publish): one index look-up, no bundle read."""
    row = await (await conn.execute('SELECT sha256 FROM content_versions ORDER BY version DESC LIMIT 1')).fetchone()
    return row['sha256'] if row else None


async def content_bundles(conn: AsyncConnection) -> list[bytes]:
    """Every published bundle, newest first."""
    rows = await (await conn.execute('SELECT bundle FROM content_versions ORDER BY version DESC')).fetchall()
    return [bytes(row['bundle']) for row in rows]


async def newest_content_version(conn: AsyncConnection) -> int:
    """The newest published version's number, 0 before the first: one index look-up, no bundle read."""
    row = await (await conn.execute('SELECT coalesce(max(version), 0) AS newest FROM content_versions')).fetchone()
    return row['newest']


async def insert_content_version(conn: AsyncConnection, version: int, bundle: bytes, sha256: str, note: str,
                                 published_by: str, targets: list[str] | None, activate_at: datetime | None) -> None:
    await conn.execute('''
        INSERT INTO content_versions (version, bundle, sha256, note, published_by, targets, activate_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s)
    ''', (version, bundle, sha256, note, published_by, targets, activate_at))


# What a kiosk's last heartbeat says it runs, and has staged: a kiosk that has a version keeps being served it,
# whatever its rollout does later. Read only when it is a number: the heartbeat's extra fields are any plain JSON.
_REPORTED = "CASE WHEN jsonb_typeof(h.body->'{0}') = 'number' THEN (h.body->>'{0}')::numeric END"
_HAS_IT = f"greatest({_REPORTED.format('content_version')}, {_REPORTED.format('content_staged')}) >= v.version"
# Which versions may go to kiosk k (heartbeat h) under their rollout r, among those it is targeted by: one with no
# rollout (published before rollouts), one neither paused nor aborted that has reached this kiosk's stage, or one
# the kiosk has already.
_TARGETED = '(v.targets IS NULL OR k.name = ANY(v.targets))'
_ALLOWED = f'''(r.version IS NULL
                 OR (r.paused_at IS NULL AND r.aborted_at IS NULL AND (r.stage = 'all' OR k.canary))
                 OR {_HAS_IT})'''


async def newest_content_for(conn: AsyncConnection, kiosk: str) -> dict[str, Any] | None:
    """The newest version this kiosk may have under the rollouts: its number and hash only, so a 304 never reads a
    bundle."""
    return await (await conn.execute(f'''
        SELECT v.version, v.sha256
        FROM content_versions v
        JOIN kiosks k ON k.name = %s
        LEFT JOIN content_rollouts r ON r.version = v.version
        LEFT JOIN heartbeats h ON h.kiosk = k.name
        WHERE {_TARGETED} AND {_ALLOWED}
        ORDER BY v.version DESC LIMIT 1
    ''', (kiosk,))).fetchone()


async def content_bundle(conn: AsyncConnection, version: int) -> bytes | None:
    row = await (await conn.execute('SELECT bundle FROM content_versions WHERE version = %s', (version,))).fetchone()
    return bytes(row['bundle']) if row else None


# -- the staged rollout of content: canaries first, then every kiosk -----------------------------------------

async def lock_rollouts(conn: AsyncConnection) -> None:
    """Inside a transaction: one rollout step at a time across every hub process (a scheduler tick, an admin's
    pause); the lock ends with the transaction."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('content_rollouts'))")


async def set_canary(conn: AsyncConnection, kiosk: str, canary: bool) -> bool:
    cursor = await conn.execute('UPDATE kiosks SET canary = %s WHERE name = %s AND revoked_at IS NULL',
                                (canary, kiosk))
    return cursor.rowcount == 1


async def canaries_for(conn: AsyncConnection, targets: list[str] | None) -> list[str]:
    """The active canary kiosks among `targets` (None: every kiosk)."""
    rows = await (await conn.execute('''
        SELECT name FROM kiosks
        WHERE canary AND revoked_at IS NULL AND (%(targets)s::text[] IS NULL OR name = ANY(%(targets)s::text[]))
        ORDER BY name
    ''', {'targets': targets})).fetchall()
    return [row['name'] for row in rows]


async def start_rollout(conn: AsyncConnection, version: int, stage: str) -> None:
    await conn.execute('''
        INSERT INTO content_rollouts (version, stage, to_all_at)
        VALUES (%(version)s, %(stage)s, CASE WHEN %(stage)s = 'all' THEN now() END)
    ''', {'version': version, 'stage': stage})


async def newest_rollout(conn: AsyncConnection) -> dict[str, Any] | None:
    """The newest version's rollout (None when nothing is published, or the newest predates rollouts), with the
    database's clock as `now` (the wall clock, not the transaction's start), so every hub process measures the soak
    alike."""
    return await (await conn.execute('''
        SELECT r.*, v.targets, v.note, clock_timestamp() AS now
        FROM (SELECT * FROM content_versions ORDER BY version DESC LIMIT 1) v
        JOIN content_rollouts r ON r.version = v.version
    ''')).fetchone()


async def canary_health(conn: AsyncConnection, version: int, targets: list[str] | None,
                        silent_minutes: int) -> list[dict[str, Any]]:
    """Each canary meant to get `version`: what its last heartbeat says it runs, its error, and whether it is healthy
    on it (runs exactly this version, no error, and heard from within `silent_minutes`)."""
    return await (await conn.execute(f'''
        SELECT k.name, h.received_at, {_REPORTED.format('content_version')} AS content_version,
               h.body->>'content_error' AS content_error,
               coalesce({_REPORTED.format('content_version')} = %(version)s
                        AND h.body->>'content_error' IS NULL
                        AND h.received_at > now() - make_interval(mins => %(silent)s), false) AS healthy
        FROM kiosks k LEFT JOIN heartbeats h ON h.kiosk = k.name
        WHERE k.canary AND k.revoked_at IS NULL
          AND (%(targets)s::text[] IS NULL OR k.name = ANY(%(targets)s::text[]))
        ORDER BY k.name
    ''', {'version': version, 'targets': targets, 'silent': silent_minutes})).fetchall()


async def set_canaries_healthy(conn: AsyncConnection, version: int, healthy: bool) -> None:
    """The soak runs from the first check that found every canary healthy, and starts again after one that did not."""
    await conn.execute('''
        UPDATE content_rollouts
        SET canaries_healthy_since = CASE WHEN %s THEN coalesce(canaries_healthy_since, clock_timestamp()) END
        WHERE version = %s
    ''', (healthy, version))


async def rollout_to_all(conn: AsyncConnection, version: int) -> bool:
    """Only from the canary stage, and never while paused or aborted (the guard, should two steps race)."""
    cursor = await conn.execute('''
        UPDATE content_rollouts SET stage = 'all', to_all_at = now()
        WHERE version = %s AND stage = 'canary' AND paused_at IS NULL AND aborted_at IS NULL
    ''', (version,))
    return cursor.rowcount == 1


async def pause_rollout(conn: AsyncConnection, version: int, by: str) -> bool:
    cursor = await conn.execute('''
        UPDATE content_rollouts SET paused_at = now(), paused_by = %s
        WHERE version = %s AND paused_at IS NULL AND aborted_at IS NULL
    ''', (by, version))
    return cursor.rowcount == 1


async def resume_rollout(conn: AsyncConnection, version: int) -> bool:
    cursor = await conn.execute('''
        UPDATE content_rollouts SET paused_at = NULL, paused_by = NULL
        WHERE version = %s AND paused_at IS NOT NULL AND aborted_at IS NULL
    ''', (version,))
    return cursor.rowcount == 1


async def abort_rollout(conn: AsyncConnection, version: int, by: str) -> bool:
    cursor = await conn.execute('''
        UPDATE content_rollouts SET aborted_at = now(), aborted_by = %s, paused_at = NULL, paused_by = NULL
        WHERE version = %s AND aborted_at IS NULL
    ''', (by, version))
    return cursor.rowcount == 1


async def kiosks_running(conn: AsyncConnection, version: int) -> tuple[int, int]:
    """(active kiosks whose last heartbeat runs `version` or newer, active kiosks)."""
    row = await (await conn.execute(f'''
        SELECT count(*) FILTER (WHERE {_REPORTED.format('content_version')} >= %s) AS running, count(*) AS kiosks
        FROM kiosks k LEFT JOIN heartbeats h ON h.kiosk = k.name
        WHERE k.revoked_at IS NULL
    ''', (version,))).fetchone()
    return row['running'], row['kiosks']


# -- the content draft: one for the whole hub, edited on the Content page -------------------------------------

async def content_draft(conn: AsyncConnection, *, lock: bool = False) -> dict[str, Any] | None:
    """The current draft: programs (the TOML text), saved_by, saved_at; None when nobody has saved one. `lock`
    (inside a transaction) holds it until the end, so nobody saves over the draft being published."""
    return await (await conn.execute('SELECT programs, saved_by, saved_at FROM content_draft'
                                     + (' FOR UPDATE' if lock else ''))).fetchone()


async def save_content_draft(conn: AsyncConnection, programs: str, saved_by: str) -> datetime:
    """Replace the one draft; returns when it was saved."""
    row = await (await conn.execute('''
        INSERT INTO content_draft (programs, saved_by) VALUES (%s, %s)
        ON CONFLICT (only_one) DO UPDATE SET programs = excluded.programs, saved_by = excluded.saved_by,
                                             saved_at = now()
        RETURNING saved_at
    ''', (programs, saved_by))).fetchone()
    return row['saved_at']


async def discard_content_draft(conn: AsyncConnection) -> None:
    await conn.execute('DELETE FROM content_draft')


async def newest_content(conn: AsyncConnection) -> dict[str, Any] | None:
    """The newest published version with its bundle (what a draft is compared with), or None before the first."""
    return await (await conn.execute('''
        SELECT version, bundle, published_by, published_at, note FROM content_versions
        ORDER BY version DESC LIMIT 1
    ''')).fetchone()
