"""Mail from the hub: what to tell whom and when (instant, daily), queued in PostgreSQL and sent over SMTP.

A mail is composed and queued in the transaction that moves its user's cursor, so it is queued once; a sender
claims it, talks SMTP off the event loop, and marks it sent, so a restart loses none and a claim left by a
dead hub is taken up after the lease. No NiceGUI here: the scheduler in app.py and the CLI call it.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from kiosk.hub import db
from kiosk.hub.config import HubSettings
from kiosk.hub.content import ProgramTitles
from kiosk.hub.follow_up import FollowUp, duration_text, plural

log = logging.getLogger('kiosk.hub.mail')

# A sign-up is stamped when its batch's transaction starts and becomes visible when it commits (well under a
# second); a window that ends this long ago never closes over one still being written.
SETTLE = timedelta(seconds=5)
RETRY_CAP = timedelta(hours=1)
CLAIM_BATCH = 1  # one at a time: a claim's lease need only outlast its own SMTP conversation, never a batch's
NAMES_LIMIT = 50  # first names in one mail, with mail_names; the rest are counted
WHY = {'instant': 'you chose "instant": a mail soon after sign-ups arrive or are assigned to you, at most one '
                   'every {gap}',
       'daily': 'you chose "daily": one digest a day at {hour:02d}:00'}


@dataclass(frozen=True)
class Late:
    """What a digest says about sign-ups left waiting: overdue (and escalated) counts per program, from
    db.overdue_counts; `escalation` for an admin's digest only."""

    counts: Sequence[dict[str, Any]] = ()
    escalation: bool = False
    escalated_names: Sequence[dict[str, Any]] = ()


class PlainSmtpRefused(Exception):
    """The server offers no STARTTLS, and plain SMTP is allowed only to this machine or by smtp_allow_plain."""


class Mailer:
    """Queues instant mail and digests, and sends the outbox; every hub process may run one at the same time."""

    def __init__(self, settings: HubSettings, pool: AsyncConnectionPool) -> None:
        self.settings = settings
        self.pool = pool
        self.programs = ProgramTitles()
        self.zone = ZoneInfo(settings.timezone)
        self.follow_up = FollowUp.from_settings(settings)

    async def queue_instant(self) -> int:
        """A mail to each instant user with new sign-ups in their programs whose gap is over; returns how many."""
        gap = timedelta(seconds=self.settings.mail_instant_gap_seconds)
        async with self.pool.connection() as conn:
            emails = await db.users_due_instant(conn, gap)
        return sum([await self._queue(email, 'instant', gap) for email in emails])

    async def queue_digests(self, only: str | None = None, now: datetime | None = None) -> int:
        """Today's digest for each daily user (or only `only`) with something to tell; returns how many.

        `now` decides what is overdue and escalated, and the day's key (tests pass a fixed one).
        """
        async with self.pool.connection() as conn:
            emails = await db.users_choosing(conn, 'daily')
        return sum([await self._queue(email, 'daily', timedelta(0), now or datetime.now(UTC)) for email in emails
                    if only is None or email == only])

    async def _queue(self, email: str, kind: str, gap: timedelta, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        async with self.pool.connection() as conn, conn.transaction():
            cursor = await db.lock_for_mail(conn, email, kind, gap, SETTLE)
            if cursor is None:
                return False
            counts = await db.received_counts(conn, cursor)
            waiting = await db.still_new(conn, cursor)
            names_limit = NAMES_LIMIT if self.settings.mail_names else 0
            assigned = await db.assigned_in_window(conn, cursor, names_limit)
            if not counts and not assigned[0] and (kind == 'instant' or not waiting['n']):
                return False
            names = await db.received_first_names(conn, cursor, NAMES_LIMIT) if self.settings.mail_names else []
            late = await self._late(conn, cursor.viewer, now) if kind == 'daily' else Late()
            await self.programs.refresh(conn)
            mail = self.compose(kind, cursor, counts, waiting, names, late, now, assigned)
            return await db.queue_mail(conn, cursor, mail)

    async def _late(self, conn: AsyncConnection, viewer: db.Viewer, now: datetime) -> Late:
        """The digest's overdue counts; for an admin, the escalated ones too (with mail_names, their first names)."""
        escalated_before = self.follow_up.escalated_before(now)
        counts = await db.overdue_counts(conn, viewer, self.follow_up.overdue_before(now), escalated_before)
        if not viewer.sees_all:
            return Late(counts)
        names = (await db.escalated_first_names(conn, viewer, escalated_before, NAMES_LIMIT)
                 if self.settings.mail_names and any(row['escalated'] for row in counts) else [])
        return Late(counts, escalation=True, escalated_names=names)

    def _links(self, waiting: int, overdue: int, assigned: int) -> list[str]:
        """Links to the list filtered as the mail counts (the filter is in the URL; it names no one)."""
        url = f'{self.settings.public_url}/signups'
        links = [f'See the ones still new: {url}?status=new' if waiting else f'See the list: {url}']
        if overdue:
            links.append(f'See the overdue ones: {url}?status=overdue')
        if assigned:
            links.append(f'See the ones assigned to you: {url}?assigned=me')
        return links

    def compose(self, kind: str, cursor: db.MailCursor, counts: Sequence[dict[str, Any]], waiting: dict[str, Any],
                names: Sequence[dict[str, Any]], late: Late | None = None, now: datetime | None = None,
                assigned: tuple[int, Sequence[dict[str, Any]]] = (0, ())) -> db.Mail:
        """The mail's text: counts per program and kiosk, what was assigned to the user (how many; first names only
        with mail_names), what still waits (and, in a digest, is overdue or escalated), the link, and why it was
        sent.

        No name or phone number unless mail_names: mail leaves the hub's access control and stays in inboxes.
        """
        settings, now, late = self.settings, now or datetime.now(UTC), late or Late()
        received = sum(row['n'] for row in counts)
        since = cursor.since.astimezone(self.zone).strftime('%a %d %b %H:%M')
        scope = 'all programs' if cursor.viewer.sees_all else 'your programs'
        lines = [f'{plural(received, "new sign-up")} in {scope} since {since}.', '']
        for program in dict.fromkeys(row['program'] for row in counts):
            rows = [row for row in counts if row['program'] == program]
            lines.append(f'{self.programs.get(program, program)}: {sum(row["n"] for row in rows)}')
            lines += [f'    at {row["kiosk"]}: {row["n"]}' for row in rows]
        if counts:
            lines.append('')
        lines += self._assigned_lines(*assigned)
        if waiting['n']:
            lines.append(f'{plural(waiting["n"], "sign-up")} still new (nobody has contacted them yet); the oldest '
                         f'has waited {duration_text(now - waiting["oldest"])}.')
        else:
            lines.append('None is still waiting for a first contact.')
        if kind == 'daily':
            lines += self._late_lines(late)
        if names:
            lines += ['', 'First names:']
            lines += [f'    {row["first_name"]} ({self.programs.get(row["program"], row["program"])})'
                      for row in names]
            if received > len(names):
                lines.append(f'    and {received - len(names)} more')
        gap = duration_text(timedelta(seconds=settings.mail_instant_gap_seconds))
        lines += ['', *self._links(waiting['n'], sum(row['overdue'] for row in late.counts), assigned[0]), '',
                  f'Why this mail: {WHY[kind].format(gap=gap, hour=settings.digest_hour)}.',
                  f'To change that: {settings.public_url}/account (My account), or ask IT to run '
                  f'`kiosk hub set-notify {cursor.viewer.email} instant|daily|off`.']
        if kind == 'instant':
            subject = (f'Kiosk hub: {plural(received, "new sign-up")}' if received else
                       f'Kiosk hub: {plural(assigned[0], "sign-up")} assigned to you')
            key = None
        else:
            overdue = sum(row['overdue'] for row in late.counts)
            subject = f'Kiosk hub daily digest: {received} new, {waiting["n"]} waiting' + \
                (f', {overdue} overdue' if overdue else '')
            key = f'daily {cursor.viewer.email} {now.astimezone(self.zone).date().isoformat()}'
        domain = urlsplit(settings.public_url).hostname
        return db.Mail(cursor.viewer.email, kind, make_msgid('kiosk-hub', domain), subject, '\n'.join(lines) + '\n',
                       key)

    def _assigned_lines(self, assigned: int, names: Sequence[dict[str, Any]]) -> list[str]:
        if not assigned:
            return []
        lines = [f'{plural(assigned, "sign-up")} {"was" if assigned == 1 else "were"} assigned to you.']
        lines += [f'    {row["first_name"]} ({self.programs.get(row["program"], row["program"])})' for row in names]
        if names and assigned > len(names):
            lines.append(f'    and {assigned - len(names)} more')
        return [*lines, '']

    def _late_lines(self, late: Late) -> list[str]:
        """Overdue per program; for admins, escalated per program (and first names with mail_names)."""
        follow_up = self.follow_up
        overdue = [row for row in late.counts if row['overdue']]
        lines = ['']
        if overdue:
            lines.append(f'Overdue (still new after {follow_up.window_text()}):')
            lines += [f'    {self.programs.get(row["program"], row["program"])}: {row["overdue"]}' for row in overdue]
        else:
            lines.append(f'None is overdue (still new after {follow_up.window_text()}).')
        escalated = [row for row in late.counts if row['escalated']]
        if late.escalation and escalated:
            lines += ['', f'Escalated to admins (still new after {follow_up.window_text(follow_up.escalate_days)}):']
            lines += [f'    {self.programs.get(row["program"], row["program"])}: {row["escalated"]}'
                      for row in escalated]
            if late.escalated_names:
                lines.append('    First names:')
                lines += [f'        {row["first_name"]} ({self.programs.get(row["program"], row["program"])})'
                          for row in late.escalated_names]
                more = sum(row['escalated'] for row in escalated) - len(late.escalated_names)
                if more > 0:
                    lines.append(f'        and {more} more')
        return lines

    async def send_due(self) -> int:
        """Send what is due, a claimed mail at a time, until nothing is left that can go; returns how many went."""
        sent_total = 0
        while True:
            claimant = str(uuid.uuid4())
            async with self.pool.connection() as conn:
                claimed = await db.claim_mail(conn, claimant, timedelta(seconds=self.settings.mail_lease_seconds),
                                              CLAIM_BATCH)
            sent = 0
            for row in claimed:
                sent += await self._send_one(row, claimant)
            sent_total += sent
            if not sent:  # nothing claimed, or all failed: their retries are due later
                return sent_total

    async def _send_one(self, row: dict[str, Any], claimant: str) -> bool:
        try:
            await asyncio.to_thread(deliver, self.settings, self._message(row))
        except Exception as error:  # whatever it was, the mail waits for its retry rather than for the lease
            reason = failure(error)
            doubled = 2 ** min(row['attempts'] - 1, 20)  # capped before it overflows a timedelta (attempt 42)
            retry_in = min(timedelta(seconds=self.settings.mail_retry_seconds) * doubled, RETRY_CAP)
            log.warning('mail %d not sent (attempt %d): %s; next try in %s', row['id'], row['attempts'], reason,
                        retry_in)
            async with self.pool.connection() as conn:
                await db.mark_failed(conn, row['id'], claimant, reason, retry_in)
            return False
        async with self.pool.connection() as conn:
            await db.mark_sent(conn, row['id'], claimant)
        log.info('mail %d sent', row['id'])
        return True

    def _message(self, row: dict[str, Any]) -> EmailMessage:
        message = EmailMessage()
        message['From'] = self.settings.mail_from
        message['To'] = row['recipient']
        message['Subject'] = row['subject']
        message['Date'] = format_datetime(datetime.now(UTC))
        message['Message-ID'] = row['message_id']
        message.set_content(row['body'])
        return message


def deliver(settings: HubSettings, message: EmailMessage) -> None:
    """One SMTP conversation (blocking: run it in a thread). STARTTLS whenever the server offers it; without it,
    only where plain is allowed; smtps:// is TLS from the first byte."""
    url = urlsplit(settings.smtp_url)
    context = ssl.create_default_context()
    timeout = settings.smtp_timeout_seconds
    if url.scheme == 'smtps':
        connection = smtplib.SMTP_SSL(*settings.smtp_server, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(*settings.smtp_server, timeout=timeout)
    with connection as smtp:
        smtp.ehlo()
        if url.scheme == 'smtp':
            if smtp.has_extn('starttls'):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif not settings.plain_smtp_allowed:
                raise PlainSmtpRefused
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value() if settings.smtp_password else '')
        smtp.send_message(message)


def failure(error: BaseException) -> str:
    """What went wrong, for last_error and the log: the kind and the SMTP code, never a server's text (it may
    quote an address) or the message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        return f'{type(error).__name__} {",".join(map(str, codes))}'
    if isinstance(error, smtplib.SMTPResponseException):
        return f'{type(error).__name__} {error.smtp_code}'
    return type(error).__name__


def password_link_mail(settings: HubSettings, email: str, link: str, hours: int) -> db.Mail:
    """The mail that carries a set-password link: to its user only, and saying who to ask if it was not expected."""
    body = '\n'.join((
        'An admin of the SLMPD Kiosk Hub made you a link to choose your password:', '', link, '',
        f'It works once, for {hours} hours. After that, ask an admin for a new one.',
        'If you did not expect this mail, do not use the link; tell your hub admin or IT.', ''))
    return db.Mail(email, 'password_link', make_msgid('kiosk-hub', urlsplit(settings.public_url).hostname),
                   'Kiosk hub: choose your password', body)
