"""Mail from real `kiosk hub run` processes: a hub killed between claiming a mail and sending it, and two hubs on
one database, each mailing what is new once between them."""

from __future__ import annotations

import time
import uuid

import httpx
import psycopg

from tests.support.accounts import PASSWORD, enrol, next_code, sign_in
from tests.support.flood import one_record
from tests.support.processes import add_kiosk, hub_command
from tests.support.smtp import MailCatcher
from tests.support.waiting import eventually


def mail_settings(smtp: MailCatcher) -> dict[str, str]:
    """Short intervals, so that what takes minutes in service takes seconds here."""
    return {'smtp_url': smtp.url, 'mail_from': 'kiosk-hub@slmpd.test', 'public_url': 'https://hub.slmpd.test',
            'mail_check_seconds': '0.5', 'mail_send_seconds': '0.5', 'smtp_timeout_seconds': '3',
            'mail_lease_seconds': '4', 'mail_retry_seconds': '0.5'}


def add_user(database: str, email: str, notify: str, *args: str, signs_in: bool = False) -> None:
    """As IT adds one (each command is a process: only a user who signs in here gets a password of their own)."""
    for command in (('add-user', email, *args), ('set-notify', email, notify)):
        result = hub_command(database, *command)
        assert result.returncode == 0, result.stderr
    if signs_in:
        assert hub_command(database, 'set-password', email, stdin=PASSWORD + '\n').returncode == 0


def sync(hub, token: str, kiosk: str, count: int = 1) -> None:
    """One batch of `count` sign-ups (one transaction: they arrive at one moment)."""
    batch = one_record(kiosk)
    batch['signups'] = [{**batch['signups'][0], 'id': str(uuid.uuid4())} for _ in range(count)]
    answer = httpx.post(hub.signups_url, json=batch, headers={'Authorization': f'Bearer {token}'}, timeout=30)
    assert answer.status_code == 200, answer.text


def outbox(database: str) -> list[dict]:
    with psycopg.connect(database, row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute('SELECT recipient, attempts, claimed_at, sent_at FROM mail_outbox ORDER BY id').fetchall()


def test_a_hub_killed_between_claim_and_send_still_mails_once(database, hub_factory, smtp):
    add_user(database, 'chief@slmpd.org', 'instant', '--role', 'admin')
    token = add_kiosk(database, 'lobby-kill')
    smtp.stall = True  # the conversation stops at RCPT TO: claimed, nothing delivered
    hub = hub_factory(**mail_settings(smtp))
    sync(hub, token, 'lobby-kill')
    assert smtp.stalled.wait(30), 'the hub never started sending'
    hub.kill()
    [claimed] = outbox(database)
    assert claimed['claimed_at'] is not None and claimed['sent_at'] is None and claimed['attempts'] == 1

    smtp.release()
    hub.start()  # the dead hub's claim is taken up once its lease (4 s) is over
    eventually(lambda: smtp.received, 30, 'the mail after the restart')
    time.sleep(3)
    [message] = smtp.received
    assert message['To'] == 'chief@slmpd.org' and message['Subject'] == 'Kiosk hub: 1 new sign-up'
    text = message.get_content()
    assert 'at lobby-kill: 1' in text and 'Rosa' not in text and 'Díaz' not in text and '555' not in text
    [sent] = outbox(database)
    assert sent['sent_at'] is not None and sent['attempts'] == 2


def test_two_hubs_mail_each_instant_user_once(database, hub_factory, smtp):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute('TRUNCATE mail_outbox')
    users = [f'desk{n}@slmpd.org' for n in range(4)]
    for email in users:
        add_user(database, email, 'instant', '--role', 'coordinator', '--program', 'pal')
    token = add_kiosk(database, 'lobby-two')
    hubs = [hub_factory(**mail_settings(smtp)) for _ in range(2)]
    sync(hubs[0], token, 'lobby-two', 3)
    eventually(lambda: len(smtp.received) >= len(users), 30, 'a mail to every instant user')
    time.sleep(3)
    assert sorted(message['To'] for message in smtp.received) == users
    assert {message['Subject'] for message in smtp.received} == {'Kiosk hub: 3 new sign-ups'}

    add_user(database, 'admin@slmpd.org', 'off', '--role', 'admin', signs_in=True)
    secret = enrol(database, 'admin@slmpd.org')
    _, admin = sign_in(hubs[1].url, 'admin@slmpd.org', code=next_code(database, 'admin@slmpd.org', secret))
    for path in ('/kiosks', '/account'):  # what they show is in test_mail_screens.py (the user simulation)
        answer = httpx.get(hubs[1].url + path, headers={'Cookie': f'kiosk_hub_session={admin}'}, timeout=30)
        assert answer.status_code == 200 and '/login' not in str(answer.url) and 'My account' in answer.text
