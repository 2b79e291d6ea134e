"""Mail, against a real PostgreSQL and a real SMTP server on loopback: who gets what, what it says (and does not),
one mail for a burst, digests scoped to each user's programs, retries, and each mail exactly once however many
queue and send at the same time. The jobs are called directly here; test_mail_processes.py uses real hubs."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import subprocess
import sys
import time
import tomllib
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from kiosk.content import load_catalog
from kiosk.hub import db
from kiosk.hub.config import HubSettings
from kiosk.hub.content import programs_toml, publish
from kiosk.hub.mail import SETTLE, Mailer, PlainSmtpRefused, deliver
from kiosk.paths import ASSETS_DIR
from tests.support.processes import clean_environment
from tests.support.smtp import MailCatcher

PROGRAMS = {program.slug: program.en.title for program in load_catalog(ASSETS_DIR / 'programs.toml').program}
PERSONAL = ('Quintero', 'Ana', 'Bea', 'Hope', 'Carl', '555', '+1314', '(314)')
PUBLIC_URL = 'https://hub.slmpd.test'


def record(program: str, first: str, kiosk: str = 'lobby-a', status_phone: str = '+13145550134') -> dict:
    return {'id': str(uuid.uuid4()), 'created_at': (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
            'program': program, 'name': f'{first} Quintero', 'participant_name': 'Hope Junior',
            'phone': status_phone, 'email': 'family@example.org', 'contact_method': 'phone', 'age': 9, 'note': '',
            'language': 'en', 'consent': True, 'kiosk_id': kiosk}


def settings_for(database: str, smtp_url: str, **overrides) -> HubSettings:
    return HubSettings(database_url=database, smtp_url=smtp_url, mail_from='kiosk-hub@slmpd.test',
                       public_url=PUBLIC_URL, mail_retry_seconds=0.3, **overrides)


async def add_user(pool, email: str, role: str, programs: tuple[str, ...], notify: str) -> None:
    """A user who has been there an hour: their window starts then, not at this instant."""
    async with pool.connection() as conn:
        await db.add_user(conn, email, role, list(programs), 'no-password')
        await db.set_notify(conn, email, notify)
        await conn.execute("UPDATE users SET notified_until = now() - interval '1 hour' WHERE email = %s", (email,))


async def receive(pool, kiosk: str, *records: dict, now: bool = False) -> None:
    """Sign-ups as ingest stores them, received a minute ago (past the window's settling time) unless `now`."""
    async with pool.connection() as conn:
        await db.insert_signups(conn, kiosk, json.dumps(list(records)))
        if not now:
            await conn.execute("UPDATE signups SET received_at = now() - interval '1 minute' "
                               "WHERE id = ANY(%s::uuid[])", ([r['id'] for r in records],))


async def seed_three_programs(pool) -> None:
    await receive(pool, 'lobby-a', record('pal', 'Ana'), record('hmca', 'Hope'))
    await receive(pool, 'lobby-b', record('pal', 'Bea', kiosk='lobby-b', status_phone='+13145559876'))


def body(message) -> str:
    return message.get_content().replace('\r\n', '\n')


async def test_instant_mail_counts_per_program_and_kiosk_names_no_one_and_says_why(database, pool, smtp):
    await add_user(pool, 'chief@slmpd.org', 'admin', (), 'instant')
    await add_user(pool, 'pal@slmpd.org', 'coordinator', ('pal',), 'instant')
    await add_user(pool, 'digest@slmpd.org', 'admin', (), 'daily')
    await add_user(pool, 'quiet@slmpd.org', 'admin', (), 'off')
    await seed_three_programs(pool)
    mailer = Mailer(settings_for(database, smtp.url), pool)

    assert await mailer.queue_instant() == 2
    assert await mailer.send_due() == 2
    assert {message['To'] for message in smtp.received} == {'chief@slmpd.org', 'pal@slmpd.org'}

    [chief] = smtp.to('chief@slmpd.org')
    assert chief['Subject'] == 'Kiosk hub: 3 new sign-ups'
    assert chief['From'] == 'kiosk-hub@slmpd.test'
    text = body(chief)
    assert 'in all programs' in text
    assert 'Police Athletic League (PAL): 2\n    at lobby-a: 1\n    at lobby-b: 1' in text
    assert 'Homicide Ministers and Community Alliance (HMCA): 1\n    at lobby-a: 1' in text
    assert '3 sign-ups still new' in text and 'the oldest has waited 2 hours' in text
    assert f'See the ones still new: {PUBLIC_URL}/signups?status=new' in text  # the list, filtered as counted
    assert 'Why this mail: you chose "instant"' in text and 'at most one every 10 minutes' in text
    assert f'{PUBLIC_URL}/account' in text and 'kiosk hub set-notify chief@slmpd.org instant|daily|off' in text

    [pal] = smtp.to('pal@slmpd.org')
    assert pal['Subject'] == 'Kiosk hub: 2 new sign-ups'
    assert 'HMCA' not in body(pal) and 'in your programs' in body(pal) and '2 sign-ups still new' in body(pal)

    for message in smtp.received:
        for personal in PERSONAL:
            assert personal not in message['Subject'] + body(message), f'{personal!r} in a mail without mail_names'

    # Nothing new: nothing more, whoever asks.
    assert await mailer.queue_instant() == 0


async def test_mail_names_a_program_as_the_newest_published_content_does(database, pool, smtp):
    """Titles once came from the factory file, so a program renamed (or added) at the Content page kept its old
    name (or its slug) in every mail."""
    factory = tomllib.loads((ASSETS_DIR / 'programs.toml').read_text())
    next(program for program in factory['program'] if program['slug'] == 'pal')['en']['title'] = 'PAL Youth Sports'
    async with pool.connection() as conn:
        await publish(conn, Ed25519PrivateKey.generate(), programs_toml(factory).encode(), note='PAL renamed',
                      published_by='chief@slmpd.org')
    try:
        await add_user(pool, 'chief@slmpd.org', 'admin', (), 'instant')
        await seed_three_programs(pool)
        mailer = Mailer(settings_for(database, smtp.url), pool)
        assert await mailer.queue_instant() == 1 and await mailer.send_due() == 1
        text = body(smtp.to('chief@slmpd.org')[0])
        assert 'PAL Youth Sports: 2\n' in text and 'Police Athletic League' not in text
    finally:
        with psycopg.connect(database, autocommit=True) as admin:
            admin.execute('TRUNCATE content_versions CASCADE')


async def test_mail_names_adds_first_names_and_programs_but_no_surname_or_phone(database, pool, smtp):
    await add_user(pool, 'pal@slmpd.org', 'coordinator', ('pal',), 'instant')
    await seed_three_programs(pool)
    mailer = Mailer(settings_for(database, smtp.url, mail_names=True), pool)
    await mailer.queue_instant()
    await mailer.send_due()
    [pal] = smtp.received
    text = body(pal)
    assert 'First names:\n    Ana (Police Athletic League (PAL))\n    Bea (Police Athletic League (PAL))' in text
    assert 'Hope' not in text, 'another program\'s sign-up named in a coordinator\'s mail'
    for personal in ('Quintero', '555', '+1314', 'family@example.org'):
        assert personal not in text


async def test_a_burst_after_the_first_sign_up_is_gathered_into_one_mail_per_gap(database, pool, smtp):
    await add_user(pool, 'pal@slmpd.org', 'coordinator', ('pal',), 'instant')
    mailer = Mailer(settings_for(database, smtp.url, mail_instant_gap_seconds=5), pool)
    await receive(pool, 'lobby-a', record('pal', 'Ana'))
    assert await mailer.queue_instant() == 1, 'the first sign-up after a quiet spell goes at the first check'
    gap_started = time.monotonic()
    for first in ('Bea', 'Cleo', 'Dora', 'Eva'):
        await receive(pool, 'lobby-a', record('pal', first), now=True)
        assert await mailer.queue_instant() == 0, 'within the gap, a burst waits'
    last_arrived = time.monotonic()
    while time.monotonic() - gap_started < 2.5:  # well inside the gap, even on a loaded machine
        assert await mailer.queue_instant() == 0
        await asyncio.sleep(0.5)
    # The gap is over after 5 s, and the burst is counted once its window settles (SETTLE after it arrived).
    await asyncio.sleep(max(0.0, gap_started + 5.2 - time.monotonic(),
                            last_arrived + SETTLE.total_seconds() + 0.5 - time.monotonic()))
    assert await mailer.queue_instant() == 1
    assert await mailer.send_due() == 2
    assert [message['Subject'] for message in smtp.received] == ['Kiosk hub: 1 new sign-up',
                                                                 'Kiosk hub: 4 new sign-ups']


async def test_each_daily_user_gets_one_digest_a_day_of_their_own_programs(database, pool, smtp):
    await add_user(pool, 'chief@slmpd.org', 'admin', (), 'daily')
    await add_user(pool, 'pal@slmpd.org', 'coordinator', ('pal',), 'daily')
    await add_user(pool, 'hmca@slmpd.org', 'coordinator', ('hmca',), 'instant')
    await add_user(pool, 'academy@slmpd.org', 'coordinator', ('citizens-academy',), 'daily')  # nothing for them
    await add_user(pool, 'quiet@slmpd.org', 'admin', (), 'off')
    await seed_three_programs(pool)
    mailer = Mailer(settings_for(database, smtp.url), pool)

    assert await mailer.queue_digests() == 2
    assert await mailer.queue_digests() == 0, 'one digest per user and day, whoever asks again'
    await mailer.send_due()
    assert sorted(message['To'] for message in smtp.received) == ['chief@slmpd.org', 'pal@slmpd.org']
    [pal] = smtp.to('pal@slmpd.org')
    assert pal['Subject'] == 'Kiosk hub daily digest: 2 new, 2 waiting'
    assert 'HMCA' not in body(pal) and 'lobby-a: 1' in body(pal) and 'lobby-b: 1' in body(pal)
    assert 'Why this mail: you chose "daily": one digest a day at 08:00' in body(pal)
    assert smtp.to('chief@slmpd.org')[0]['Subject'] == 'Kiosk hub daily digest: 3 new, 3 waiting'
    for message in smtp.received:
        assert not any(personal in message['Subject'] + body(message) for personal in PERSONAL)


async def test_a_refusing_server_gets_the_mail_once_after_retries_and_the_error_names_no_one(database, pool, smtp):
    await add_user(pool, 'pal@slmpd.org', 'coordinator', ('pal',), 'instant')
    await receive(pool, 'lobby-a', record('pal', 'Ana'))
    mailer = Mailer(settings_for(database, smtp.url), pool)
    smtp.refuse = 2
    await mailer.queue_instant()
    assert await mailer.send_due() == 0
    async with pool.connection() as conn:
        row = await (await conn.execute('SELECT attempts, last_error, claimed_at, sent_at FROM mail_outbox'))\
            .fetchone()
        health = await db.outbox_health(conn)
    assert row == {'attempts': 1, 'last_error': 'SMTPDataError 451', 'claimed_at': None, 'sent_at': None}
    assert health['failing'] == 1 and health['last_error'] == 'SMTPDataError 451'
    assert await mailer.send_due() == 0, 'not due yet: the backoff holds it'
    deadline = time.monotonic() + 10
    while not smtp.received and time.monotonic() < deadline:
        await mailer.send_due()
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    assert await mailer.send_due() == 0
    assert len(smtp.received) == 1
    async with pool.connection() as conn:
        row = await (await conn.execute('SELECT attempts, last_error, sent_at FROM mail_outbox')).fetchone()
    assert row['attempts'] == 3 and row['last_error'] is None and row['sent_at'] is not None


async def test_a_server_that_is_down_gets_the_mail_once_when_it_is_back(database, pool):
    down = MailCatcher()  # its port, with nothing listening yet
    await add_user(pool, 'pal@slmpd.org', 'coordinator', ('pal',), 'instant')
    await receive(pool, 'lobby-a', record('pal', 'Ana'))
    mailer = Mailer(settings_for(database, down.url), pool)
    await mailer.queue_instant()
    assert await mailer.send_due() == 0
    async with pool.connection() as conn:
        assert (await db.outbox_health(conn))['last_error'] == 'ConnectionRefusedError'
    down.start()
    try:
        deadline = time.monotonic() + 10
        while not down.received and time.monotonic() < deadline:
            await mailer.send_due()
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        await mailer.send_due()
        assert len(down.received) == 1
    finally:
        down.stop()


async def test_a_slow_server_never_gets_a_mail_twice_when_a_second_sender_comes_after_the_lease(database, pool,
                                                                                               smtp):
    users = [f'desk{n}@slmpd.org' for n in range(3)]
    for email in users:
        await add_user(pool, email, 'coordinator', ('pal',), 'instant')
    smtp.delay = 1.5  # each conversation: slower than a lease's worth for two, quicker than one
    settings = settings_for(database, smtp.url, mail_lease_seconds=2, smtp_timeout_seconds=1.8)
    first, second = Mailer(settings, pool), Mailer(settings, pool)
    await receive(pool, 'lobby-a', record('pal', 'Ana'))
    assert await first.queue_instant() == 3

    async def after_the_first_lease() -> int:
        await asyncio.sleep(2.5)
        return await second.send_due()

    assert sum(await asyncio.gather(first.send_due(), after_the_first_lease())) == 3
    assert sorted(message['To'] for message in smtp.received) == users


async def test_concurrent_queuers_and_senders_mail_each_user_exactly_once(database, pool, smtp):
    instant = [f'instant{n}@slmpd.org' for n in range(8)]
    daily = [f'daily{n}@slmpd.org' for n in range(8)]
    for email in instant:
        await add_user(pool, email, 'coordinator', ('pal',), 'instant')
    for email in daily:
        await add_user(pool, email, 'admin', (), 'daily')
    await seed_three_programs(pool)
    settings = settings_for(database, smtp.url)
    pools = [AsyncConnectionPool(database, min_size=1, max_size=3, open=False, kwargs={'row_factory': dict_row})
             for _ in range(4)]
    for each in pools:
        await each.open()
    try:
        mailers = [Mailer(settings, each) for each in pools]
        for _ in range(3):
            await asyncio.gather(*(job() for mailer in mailers
                                   for job in (mailer.queue_instant, mailer.queue_digests, mailer.send_due)))
        await asyncio.gather(*(mailer.send_due() for mailer in mailers))
    finally:
        for each in pools:
            await each.close()
    assert sorted(message['To'] for message in smtp.received) == sorted(instant + daily)
    assert len({message['Message-ID'] for message in smtp.received}) == len(instant + daily)


def test_two_send_digest_commands_at_once_send_each_digest_once(database, smtp):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute('TRUNCATE signups, mail_outbox, status_changes, users CASCADE')
    users = [f'daily{n}@slmpd.org' for n in range(12)]
    asyncio.run(_seed_daily(database, users))
    env = {**clean_environment(), 'KIOSK_HUB_DATABASE_URL': database, 'KIOSK_HUB_SMTP_URL': smtp.url,
           'KIOSK_HUB_MAIL_FROM': 'kiosk-hub@slmpd.test', 'KIOSK_HUB_PUBLIC_URL': PUBLIC_URL}
    commands = [subprocess.Popen([sys.executable, '-m', 'kiosk', 'hub', 'send-digest'], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [command.communicate(timeout=60) for command in commands]
    assert [command.returncode for command in commands] == [0, 0], outputs
    assert sorted(message['To'] for message in smtp.received) == sorted(users)
    queued = sum(int(out.split(' digest(s) queued')[0]) for out, _ in outputs)
    assert queued == len(users)


async def _seed_daily(database: str, users: list[str]) -> None:
    async with AsyncConnectionPool(database, min_size=1, max_size=2, open=False,
                                   kwargs={'row_factory': dict_row}) as opened:
        for email in users:
            await add_user(opened, email, 'admin', (), 'daily')
        await seed_three_programs(opened)


def test_send_digest_for_one_user_and_set_notify_from_the_shell(database, smtp):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute('TRUNCATE signups, mail_outbox, status_changes, users CASCADE')
    asyncio.run(_seed_daily(database, ['one@slmpd.org', 'other@slmpd.org']))
    env = {**clean_environment(), 'KIOSK_HUB_DATABASE_URL': database, 'KIOSK_HUB_SMTP_URL': smtp.url,
           'KIOSK_HUB_MAIL_FROM': 'kiosk-hub@slmpd.test', 'KIOSK_HUB_PUBLIC_URL': PUBLIC_URL}

    def hub(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, '-m', 'kiosk', 'hub', *args], env=env, capture_output=True,
                              text=True, timeout=60)

    assert hub('set-notify', 'Other@slmpd.org', 'off').returncode == 0
    refused = hub('send-digest', '--user', 'other@slmpd.org')
    assert refused.returncode == 2 and "chose 'off'" in refused.stderr
    assert hub('set-notify', 'nobody@slmpd.org', 'daily').returncode == 2
    sent = hub('send-digest', '--user', 'one@slmpd.org')
    assert sent.returncode == 0, sent.stderr
    assert [message['To'] for message in smtp.received] == ['one@slmpd.org']
    with psycopg.connect(database) as conn:
        actions = conn.execute("SELECT detail FROM audit_log WHERE action = 'notify_changed'").fetchall()
    assert actions == [({'user': 'other@slmpd.org', 'notify': 'off'},)]


def test_mail_settings_need_a_sender_and_links_and_keep_the_password_secret():
    from kiosk.config import ConfigError
    from kiosk.hub.config import load_hub_settings

    with pytest.raises(ValueError, match='needs mail_from and public_url'):
        HubSettings(smtp_url='smtp://mail.slmpd.org:587')
    with pytest.raises(ValueError, match='smtp:// or smtps://'):
        HubSettings(smtp_url='http://mail.slmpd.org', mail_from='a@b', public_url=PUBLIC_URL)
    settings = HubSettings(smtp_url='smtps://mail.slmpd.org', mail_from='a@b', public_url=PUBLIC_URL + '/',
                           smtp_user='hub', smtp_password='hunter2-long-secret')
    assert 'hunter2' not in repr(settings) and settings.public_url == PUBLIC_URL
    assert not settings.plain_smtp_allowed
    assert HubSettings(smtp_url='smtp://127.0.0.1:2525', mail_from='a@b', public_url=PUBLIC_URL).plain_smtp_allowed
    with pytest.raises(ConfigError, match='smtp_url'):
        load_hub_settings(smtp_url='smtp://mail.slmpd.org')


def test_an_smtp_url_with_a_login_or_a_port_that_is_no_number_is_refused_at_start():
    with pytest.raises(ValueError, match='no login in the URL'):  # it would carry the password around the rule
        HubSettings(smtp_url='smtp://hub:secret@mail.slmpd.org:587', mail_from='a@b', public_url=PUBLIC_URL)
    with pytest.raises(ValueError, match='the port is not a number'):  # not at the first mail, nor in the welcome
        HubSettings(smtp_url='smtp://mail.slmpd.org:abc', mail_from='a@b', public_url=PUBLIC_URL)


async def test_mail_turned_on_again_counts_from_then_not_the_backlog(database, pool, smtp):
    await add_user(pool, 'pal@slmpd.org', 'coordinator', ('pal',), 'off')
    mailer = Mailer(settings_for(database, smtp.url), pool)
    await receive(pool, 'lobby-a', record('pal', 'Ana'), record('pal', 'Bea'))  # while mail was off
    async with pool.connection() as conn:
        await conn.execute("UPDATE signups SET received_at = now() - interval '10 minutes'")
        await db.set_notify(conn, 'pal@slmpd.org', 'instant')
        # As if the choice was made five minutes ago; a sign-up came a minute ago, past the window's settling.
        await conn.execute("UPDATE users SET notified_until = notified_until - interval '5 minutes'")
    await receive(pool, 'lobby-a', record('pal', 'Cleo'))
    assert await mailer.queue_instant() == 1
    assert await mailer.send_due() == 1
    assert [message['Subject'] for message in smtp.received] == ['Kiosk hub: 1 new sign-up']


def test_the_smtp_password_is_refused_in_a_settings_file(tmp_path):
    from kiosk.config import ConfigError
    from kiosk.hub.config import load_hub_settings

    toml = tmp_path / 'hub.toml'
    toml.write_text('smtp_user = "hub"\nsmtp_password = "in-a-file"\n')
    with pytest.raises(ConfigError, match='smtp_password belongs in the environment'):
        load_hub_settings(config=toml)


def test_plain_smtp_to_another_host_is_refused_unless_allowed(smtp):
    """The catcher offers no STARTTLS; on this machine's network address (not loopback), the hub will not talk
    plain to it unless told to."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(('10.255.255.255', 9))  # no packet is sent: this only picks the outward interface
        except OSError:
            pytest.skip('this machine has no network interface but loopback')
        address = probe.getsockname()[0]
    if address.startswith('127.'):
        pytest.skip('this machine has no network interface but loopback')
    outside = MailCatcher(address).start()
    try:
        message = EmailMessage()
        message['From'], message['To'], message['Subject'] = 'a@b', 'c@d', 'x'
        message.set_content('x')
        base = {'smtp_url': f'smtp://{address}:{outside.port}', 'mail_from': 'a@b', 'public_url': PUBLIC_URL}
        with pytest.raises(PlainSmtpRefused):
            deliver(HubSettings(**base), message)
        assert outside.received == []
        deliver(HubSettings(**base, smtp_allow_plain=True), message)
        assert len(outside.received) == 1
    finally:
        outside.stop()


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1, trusted by this process's default TLS context (SSL_CERT_FILE)."""
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', str(key), '-out', str(cert),
                    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
                   check=True, capture_output=True)
    monkeypatch.setenv('SSL_CERT_FILE', str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_starttls_and_a_login_when_the_server_offers_them_and_the_password_is_never_logged(
        database, pool, certificate, caplog):
    """The server refuses mail and logins before STARTTLS: a mail that arrives went through it."""
    secure = MailCatcher(tls_context=certificate, logins={('kiosk-hub', 'the-right-password')}).start()
    try:
        await add_user(pool, 'pal@slmpd.org', 'coordinator', ('pal',), 'instant')
        await receive(pool, 'lobby-a', record('pal', 'Ana'))
        wrong = Mailer(settings_for(database, secure.url, smtp_user='kiosk-hub', smtp_password='a-wrong-password'),
                       pool)
        await wrong.queue_instant()
        assert await wrong.send_due() == 0
        async with pool.connection() as conn:
            assert (await db.outbox_health(conn))['last_error'] == 'SMTPAuthenticationError 535'
        await asyncio.sleep(0.4)
        right = Mailer(settings_for(database, secure.url, smtp_user='kiosk-hub', smtp_password='the-right-password'),
                       pool)
        assert await right.send_due() == 1
        assert [message['To'] for message in secure.received] == ['pal@slmpd.org']
    finally:
        secure.stop()
    assert 'password' not in caplog.text and 'kiosk-hub' not in caplog.text.replace('kiosk.hub', '')


def test_the_hub_schedules_the_check_the_sender_and_the_digest_at_its_local_hour():
    from zoneinfo import ZoneInfo

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from kiosk.hub.app import schedule_mail

    settings = HubSettings(smtp_url='smtp://127.0.0.1:2525', mail_from='a@b', public_url=PUBLIC_URL, digest_hour=7,
                           mail_check_seconds=25)
    zone = ZoneInfo(settings.timezone)
    scheduler = AsyncIOScheduler(timezone=zone)
    schedule_mail(scheduler, Mailer(settings, None))
    digest = scheduler.get_job('mail-digest').trigger
    assert digest.get_next_fire_time(None, datetime(2026, 12, 7, 9, tzinfo=zone)) == datetime(2026, 12, 8, 7,
                                                                                               tzinfo=zone)
    assert scheduler.get_job('mail-instant').trigger.interval == timedelta(seconds=25)
    assert scheduler.get_job('mail-send').trigger.interval == timedelta(seconds=5)
