"""`kiosk hub ...`: serve the hub, migrate it, and manage kiosks and users from a shell."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import datetime, timedelta
from pathlib import Path

from kiosk.hub.config import HubSettings, load_hub_settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    """`kiosk hub ...`; docs/settings.md's hub commands table is generated from it (`make docs`)."""
    hub = commands.add_parser('hub', help="the department's hub: receives every kiosk's sign-ups (PostgreSQL)")
    verbs = hub.add_subparsers(dest='hub_command', required=True)

    def verb(name: str, help_text: str, description: str | None = None) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help_text, description=description)
        sub.add_argument('--config', type=Path, metavar='FILE', help='TOML settings file (KIOSK_HUB_CONFIG)')
        return sub

    run = verb('run', 'serve the hub (migrates first)',
               'serve the API and the screens (default 127.0.0.1:8090); migrates first when its role owns the schema')
    run.add_argument('--host', help='address to bind (KIOSK_HUB_HOST, default 127.0.0.1)')
    run.add_argument('--port', type=int, help='port to bind (KIOSK_HUB_PORT, default 8090)')
    verb('migrate', 'bring the database schema up to date (as KIOSK_HUB_MIGRATE_DATABASE_URL when set)',
         'bring the schema up to date (yoyo-migrations, plain SQL in kiosk/hub/migrations/), as '
         'migrate_database_url when set')
    verb('grant', 'give a runtime role the rows the hub needs, and no UPDATE or DELETE on the audit log',
         'give the runtime role what the hub needs: rows, not the schema; no UPDATE, DELETE or TRUNCATE on the '
         'audit log').add_argument('role')
    for name, help_text, description in (
            ('add-kiosk', "create a kiosk's credential and print its token once",
             "create a kiosk's credential and print its token once (only a SHA-256 is stored)"),
            ('revoke-kiosk', "revoke a kiosk's credential (effective on its next request)",
             "revoke a kiosk's credential: its next request gets 401 and the kiosk pauses sync, keeping its sign-ups"),
            ('rotate-kiosk', 'issue a new token; the old one works for the grace period',
             'a new token; the old one keeps working for token_grace_days (7), as an offline kiosk cannot switch '
             'at once')):
        verb(name, help_text, description).add_argument('name')
    add_user = verb('add-user', 'create a user and print a one-time password',
                    'create a user and print a one-time password, which they must replace with their own at the '
                    'first sign-in')
    add_user.add_argument('email')
    add_user.add_argument('--role', choices=['admin', 'coordinator', 'publisher'], required=True,
                          help='admin: everything; coordinator: the sign-ups of their programs; publisher: the '
                               'Content page only (what the kiosks say), no sign-ups')
    add_user.add_argument('--program', action='append', default=[], metavar='SLUG',
                          help='a program slug (repeat for several); a coordinator sees only their programs')
    verb('set-password', "set a user's password and end their sessions (prompts, or reads a line from stdin)",
         'set a password (12 characters or more): prompts twice, or reads one line from standard input; ends that '
         "user's sessions").add_argument('email')
    verb('disable-user', 'stop a user from signing in and end their sessions now',
         'the user can no longer sign in, and their open sessions end at once').add_argument('email')
    verb('enable-user', 'let a disabled user sign in again').add_argument('email')
    verb('reset-two-factor', "take away a user's second factor (a lost phone) and end their sessions",
         "take away a user's authenticator app and recovery codes, and end their sessions; if the hub requires "
         'a second factor of them (require_2fa), they set up a new one at their next sign-in').add_argument('email')
    set_notify = verb('set-notify', "choose a user's mail: instant, a daily digest, or off",
                      "choose a user's mail: instant (soon after new sign-ups, at most one per "
                      'mail_instant_gap_seconds), daily (a digest at digest_hour) or off')
    set_notify.add_argument('email')
    set_notify.add_argument('choice', choices=['instant', 'daily', 'off'])
    verb('keygen', 'make the key that signs published content; prints the public key for the kiosks',
         'write a new Ed25519 signing key to signing_key_file (0600; an existing key is never overwritten) and print '
         'its public key, which each kiosk trusts with `sudo kiosk trust-key KEY`')
    publish = verb('publish', 'publish a programs file as the next content version',
                   'check a programs file with the kiosk\'s own model (as `kiosk check` does), sign it as version N+1 '
                   '(the first is 1) and store it; kiosks fetch it at their next poll, the canary kiosks first '
                   '(`kiosk hub rollout`)')
    publish.add_argument('file', type=Path, metavar='FILE', help='the programs.toml to publish')
    publish.add_argument('--note', required=True, metavar='TEXT', help='what changed (the release note, audited)')
    publish.add_argument('--target', action='append', default=[], metavar='KIOSK',
                         help='only this kiosk (repeat for several; default every kiosk)')
    publish.add_argument('--activate-at', type=datetime.fromisoformat, metavar='TIME',
                         help='when kiosks switch to it, ISO 8601 with an offset (default at once)')
    export = verb('export-content', 'write a published version\'s bundle to a file (for a USB stick)',
                  'write the signed bundle of a published version, byte for byte as kiosks download it, to FILE; '
                  'on the kiosk `kiosk content apply FILE` takes it')
    export.add_argument('version', type=int, metavar='VERSION')
    export.add_argument('output', type=Path, metavar='FILE')
    set_canary = verb('set-canary', 'mark a kiosk as a canary (it gets new content first), or not',
                      'a canary kiosk gets each new content version first; the others get it once every canary has '
                      'run it with no error for rollout_soak_minutes')
    set_canary.add_argument('name')
    set_canary.add_argument('choice', choices=['on', 'off'])
    verb('rollout', "see, pause, resume or abort the newest content version's rollout",
         "status: which kiosks get the newest version and how the canaries are doing; pause: nobody who does not "
         "have it yet gets it; resume; abort: nobody else ever gets it (publish again to move on)") \
        .add_argument('action', choices=['status', 'pause', 'resume', 'abort'])
    verb('send-digest', 'queue and send the daily digests now (for IT and tests)',
         "queue today's digest for every user who chose daily (at most one a day each) and send the outbox; "
         '--user for one of them').add_argument('--user', metavar='EMAIL', help='only this user')


_REQUIRED = {'admin': 'admins set up an authenticator app at their first sign-in',
             'all': 'every user sets up an authenticator app at their first sign-in',
             'none': 'not required; anyone may turn it on'}


def welcome(settings: HubSettings) -> str:
    """Where the hub is served, which database and mail server it uses (never a password), and how to get in."""
    from psycopg.conninfo import conninfo_to_dict

    from kiosk.config import served_at

    database = conninfo_to_dict(settings.database_url)
    shown = f"{database.get('dbname', '')} on {database.get('host') or 'the local socket'}"
    host, port = settings.smtp_server
    mail = f'through {host}:{port}, digests at {settings.digest_hour:02d}:00' if settings.smtp_url else \
        'off (no smtp_url; docs/hub.md, "Mail")'
    return '\n'.join((f'kiosk hub: serving the hub at {served_at(settings.host, settings.port)}/ (behind an HTTPS '
                      'proxy for anyone else; Ctrl+C stops it)',
                      f'  database: {shown}',
                      f'  mail: {mail}',
                      '  kiosks: kiosk hub add-kiosk NAME gives each kiosk its token (its KIOSK_SYNC_TOKEN)',
                      '  sign in: kiosk hub add-user EMAIL --role admin prints a one-time password (docs/hub.md)',
                      f'  second factor: {_REQUIRED[settings.require_2fa]} (require_2fa)'))


def run(args: argparse.Namespace) -> int:
    settings = load_hub_settings(config=args.config, host=getattr(args, 'host', None),
                                 port=getattr(args, 'port', None))
    if args.hub_command == 'run':
        from kiosk.hub.app import serve  # NiceGUI is heavy: only the server needs it

        print(welcome(settings), flush=True)
        serve(settings)
        return 0
    if args.hub_command == 'migrate':
        from kiosk.hub.db import migrate

        applied = migrate(settings.owner_url)
        print(f'applied: {", ".join(applied)}' if applied else 'the schema is up to date')
        return 0
    if args.hub_command == 'grant':
        from kiosk.hub.db import grant_runtime, migrate

        migrate(settings.owner_url)
        grant_runtime(settings.owner_url, args.role)
        print(f'{args.role} may read and write the rows the hub needs; it owns nothing, and the audit log only grows')
        return 0
    if args.hub_command == 'keygen':
        return _keygen(settings)
    if args.hub_command in ('publish', 'export-content'):
        return asyncio.run(_content(settings, args))
    if args.hub_command == 'rollout':
        return asyncio.run(_rollout(settings, args.action))
    if args.hub_command == 'send-digest':
        return asyncio.run(_send_digest(settings, args.user.lower() if args.user else None))
    return asyncio.run(_manage(settings, args))


async def _send_digest(settings: HubSettings, only: str | None) -> int:
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    from kiosk.hub import db
    from kiosk.hub.mail import Mailer

    if not settings.smtp_url:
        return _fail('no mail server is set (KIOSK_HUB_SMTP_URL); nothing was queued')
    db.migrate_if_owner(settings.owner_url)
    async with AsyncConnectionPool(settings.database_url, min_size=1, max_size=2, open=False,
                                   kwargs={'row_factory': dict_row}) as pool:
        if only is not None:
            async with pool.connection() as conn:
                choice = await db.notify_choice(conn, only)
            if choice != 'daily':
                return _fail(f'no user {only!r}' if choice is None else f'{only} chose {choice!r}: no digest')
        mailer = Mailer(settings, pool)
        queued = await mailer.queue_digests(only)
        sent = await mailer.send_due()
        async with pool.connection() as conn:
            failing = (await db.outbox_health(conn))['failing']
    print(f'{queued} digest(s) queued (a user with nothing new and nothing waiting, or whose digest went today, '
          f'gets none); {sent} mail(s) sent; {failing} failed and will be retried')
    return 0 if not failing else 1


def _keygen(settings: HubSettings) -> int:
    from kiosk.bundle import public_key_text
    from kiosk.hub.content import write_signing_key

    try:
        key = write_signing_key(settings.signing_key_file)
    except FileExistsError:
        return _fail(f'{settings.signing_key_file} exists already: every kiosk trusts its key, so it is never '
                     'overwritten (move it away first to start again, then trust the new key on every kiosk)')
    print(f'signing key written to {settings.signing_key_file} (0600; keep it out of backups anyone can read).\n'
          f'On each kiosk, trust it with:\nsudo kiosk trust-key {public_key_text(key)}')
    return 0


async def _content(settings: HubSettings, args: argparse.Namespace) -> int:
    from kiosk.content import ContentError
    from kiosk.hub import db
    from kiosk.hub.content import PublishError, publish, read_signing_key
    from kiosk.storage.atomic import write_atomically

    db.migrate_if_owner(settings.owner_url)
    conn = await db.connect(settings.database_url)
    try:
        if args.hub_command == 'export-content':
            bundle = await db.content_bundle(conn, args.version)
            if bundle is None:
                return _fail(f'no published version {args.version}')
            try:
                write_atomically(args.output, bundle)
            except OSError as error:
                return _fail(f'{args.output}: {error.strerror.lower()} (is the stick mounted?); nothing was written')
            print(f'version {args.version} written to {args.output} ({len(bundle)} bytes); on a kiosk: '
                  f'kiosk content apply {args.output.name}')
            return 0
        if args.activate_at and args.activate_at.tzinfo is None:
            return _fail('--activate-at needs an offset (2026-12-10T06:00-06:00), or kiosks would guess the zone')
        try:
            version, sha256 = await publish(conn, read_signing_key(settings.signing_key_file),
                                            args.file.read_bytes(), source=str(args.file), note=args.note,
                                            published_by='cli',
                                            targets=args.target or None, activate_at=args.activate_at,
                                            soak_minutes=settings.rollout_soak_minutes)
        except FileNotFoundError:
            return _fail(f'{args.file}: file not found; nothing was published')
        except ContentError as error:
            for line in error.problems:
                print(f'kiosk: {line}', file=sys.stderr)
            return _fail('nothing was published')
        except PublishError as error:
            return _fail(f'{error}; nothing was published')
        await conn.commit()
    finally:
        await conn.close()
    print(f'published version {version} (sha256 {sha256[:12]}) for '
          f'{", ".join(args.target) if args.target else "every kiosk"}: kiosks take it at their next poll, the '
          'canary kiosks first (`kiosk hub rollout status`)')
    return 0


async def _rollout(settings: HubSettings, action: str) -> int:
    from kiosk.hub import db, rollout

    db.migrate_if_owner(settings.owner_url)
    conn = await db.connect(settings.database_url)
    try:
        if action == 'status':
            status = await rollout.status(conn, settings.rollout_soak_minutes, settings.stale_minutes)
            print('\n'.join(status.lines()) if status else 'no content version has been published with a rollout')
            return 0
        try:
            version = await {'pause': rollout.pause, 'resume': rollout.resume, 'abort': rollout.abort}[action](
                conn, 'cli')
        except rollout.RolloutError as error:
            return _fail(str(error))
    finally:
        await conn.close()
    print({'pause': f'the rollout of version {version} is paused: kiosks that do not have it keep what they run',
           'resume': f'the rollout of version {version} goes on',
           'abort': f'the rollout of version {version} is aborted: nobody else gets it; the kiosks that have it keep '
                    'it until a new version is published (to go back, publish the old content again)'}[action])
    return 0


async def _manage(settings: HubSettings, args: argparse.Namespace) -> int:
    from psycopg import errors

    from kiosk.hub import db
    from kiosk.hub.auth import hash_password, new_token, token_digest

    db.migrate_if_owner(settings.owner_url)
    conn = await db.connect(settings.database_url)
    try:
        if args.hub_command == 'add-kiosk':
            token = new_token()
            try:
                await db.add_kiosk(conn, args.name, token_digest(token))
            except errors.UniqueViolation:
                return _fail(f'a kiosk named {args.name!r} exists already (rotate-kiosk gives it a new token)')
            await db.audit(conn, 'cli', 'kiosk_added', {'kiosk': args.name})
            print(f'kiosk {args.name} added. Its token, shown this once (KIOSK_SYNC_TOKEN on the kiosk):\n{token}')
        elif args.hub_command == 'revoke-kiosk':
            if not await db.revoke_kiosk(conn, args.name):
                return _fail(f'no active kiosk named {args.name!r}')
            await db.audit(conn, 'cli', 'kiosk_revoked', {'kiosk': args.name})
            print(f'kiosk {args.name} revoked: its next request gets 401')
        elif args.hub_command == 'rotate-kiosk':
            token = new_token()
            grace = timedelta(days=settings.token_grace_days)
            if not await db.rotate_kiosk(conn, args.name, token_digest(token), grace):
                return _fail(f'no active kiosk named {args.name!r}')
            await db.audit(conn, 'cli', 'kiosk_rotated', {'kiosk': args.name})
            print(f'new token for {args.name} (the old one works for {settings.token_grace_days} more days):\n{token}')
        elif args.hub_command == 'set-canary':
            canary = args.choice == 'on'
            if not await db.set_canary(conn, args.name, canary):
                return _fail(f'no active kiosk named {args.name!r}')
            await db.audit(conn, 'cli', 'kiosk_canary', {'kiosk': args.name, 'canary': canary})
            print(f'kiosk {args.name} is {"a canary: it gets new content first" if canary else "no longer a canary"}')
        elif args.hub_command == 'add-user':
            if args.program and args.role != 'coordinator':
                return _fail(f'--program is for coordinators: {"an" if args.role == "admin" else "a"} {args.role} '
                             f'{"sees every program" if args.role == "admin" else "sees no sign-ups"}')
            password = new_token()[:20]
            try:
                await db.add_user(conn, args.email.lower(), args.role, args.program, hash_password(password))
            except errors.UniqueViolation:
                return _fail(f'a user {args.email!r} exists already')
            await db.audit(conn, 'cli', 'user_added', {'user': args.email.lower(), 'role': args.role,
                                                       'programs': args.program})
            print(f'user {args.email.lower()} added ({args.role}). One-time password, shown this once '
                  f'(they choose their own at the first sign-in):\n{password}')
        elif args.hub_command == 'set-password':
            password = _read_password()
            try:
                hashed = hash_password(password)
            except ValueError as error:
                return _fail(f'{error}; nothing was changed')
            if not await db.set_password(conn, args.email.lower(), hashed):
                return _fail(f'no user {args.email!r}')
            await db.audit(conn, 'cli', 'password_set', {'user': args.email.lower()})
            print(f'password set for {args.email.lower()}; their sessions have ended')
        elif args.hub_command in ('disable-user', 'enable-user'):
            disable = args.hub_command == 'disable-user'
            if not await db.set_disabled(conn, args.email.lower(), disable, 'cli'):
                return _fail(f'no user {args.email!r}')
            await db.audit(conn, 'cli', 'user_disabled' if disable else 'user_enabled', {'user': args.email.lower()})
            print(f'{args.email.lower()} {"disabled; their sessions have ended" if disable else "enabled"}')
        elif args.hub_command == 'reset-two-factor':
            if not await db.reset_second_factor(conn, args.email.lower(), 'cli'):
                return _fail(f'no user {args.email!r}')
            print(f'two-factor sign-in of {args.email.lower()} reset; their sessions have ended')
        elif args.hub_command == 'set-notify':
            if not await db.set_notify(conn, args.email.lower(), args.choice):
                return _fail(f'no user {args.email!r}')
            await db.audit(conn, 'cli', 'notify_changed', {'user': args.email.lower(), 'notify': args.choice})
            print(f'{args.email.lower()} now gets mail: {args.choice}')
        await conn.commit()
    finally:
        await conn.close()
    return 0


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip('\n')
    password = getpass.getpass('New password (12 characters or more): ')
    if getpass.getpass('The same password again: ') != password:
        raise SystemExit('kiosk: the two passwords differ; nothing was changed')
    return password


def _fail(message: str) -> int:
    print(f'kiosk: {message}', file=sys.stderr)
    return 2
