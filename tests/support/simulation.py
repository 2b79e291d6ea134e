"""Waiting, in NiceGUI's user simulation, for what a hub screen draws (or downloads) after its queries.

A hub screen's frame holds a `ui.timer`, which waits for the connection, so NiceGUI serves the page as soon as the
page function first awaits: `user.open()` returns with the frame alone, and the rows come over the socket when the
queries return. `should_see`'s default (three looks in 0.3 s) is shorter than that on a loaded machine.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from nicegui.testing import User
from psycopg import AsyncConnection

from kiosk.hub import db
from kiosk.hub.auth import new_token, token_digest

DRAWN_SECONDS = 10
DOWNLOAD_SECONDS = 10


ADMIN_AND_COORDINATOR = (('chief@slmpd.org', 'admin', []), ('pal@slmpd.org', 'coordinator', ['pal']))


async def open_sessions(database: str, conn: AsyncConnection, monkeypatch: pytest.MonkeyPatch, tables: str,
                    users: tuple[tuple[str, str, list[str]], ...] = ADMIN_AND_COORDINATOR) -> dict[str, str]:
    """After emptying `tables` (and users): these users (email, role, programs), each with a session, as the token
    by role, and the env the simulated hub reads, with no second factor asked (test_account_screens.py's subject)."""
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute(f'TRUNCATE users, {tables} CASCADE')
    tokens = {}
    for email, role, programs in users:
        await db.add_user(conn, email, role, programs, 'no-password')
        await conn.execute('UPDATE users SET must_change_password = false WHERE email = %s', (email,))
        tokens[role] = new_token()
        await db.open_session(conn, token_digest(tokens[role]), email)
    await conn.commit()
    monkeypatch.setenv('KIOSK_HUB_DATABASE_URL', database)
    monkeypatch.setenv('KIOSK_HUB_REQUIRE_2FA', 'none')
    return tokens


async def drawn(user: User, *args: Any, **kwargs: Any) -> None:
    """`user.should_see(...)` that waits up to DRAWN_SECONDS: for the first thing a screen draws after a query, before
    reading rows, values or links next to it, or asserting what is absent."""
    await user.should_see(*args, retries=int(DRAWN_SECONDS / 0.1), **kwargs)


async def downloaded(user: User, seconds: float = DOWNLOAD_SECONDS) -> bytes:
    """The next download's bytes, waiting up to DOWNLOAD_SECONDS (NiceGUI's default of 1 s is less than a query, an
    audit and a workbook take on a loaded machine)."""
    return (await user.download.next(timeout=seconds)).content
