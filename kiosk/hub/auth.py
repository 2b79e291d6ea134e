"""Secrets at the hub: kiosk tokens and session ids (only their SHA-256 is stored), passwords (salted scrypt)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from psycopg import AsyncConnection

from kiosk.hub import db
from kiosk.pin import SCRYPT, scrypt_hash

MIN_PASSWORD = 12


def new_token() -> str:
    """A kiosk's bearer token: 256 bits, printed once, never stored."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    """What is stored of a kiosk token or a session id."""
    return hashlib.sha256(token.encode()).digest()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f'a password needs at least {MIN_PASSWORD} characters')
    salt = secrets.token_bytes(16)
    return '$'.join(['scrypt', str(SCRYPT['n']), str(SCRYPT['r']), str(SCRYPT['p']), salt.hex(),
                     scrypt_hash(password, salt, SCRYPT).hex()])


def password_matches(password: str, stored: str | None) -> bool:
    try:
        scheme, n, r, p, salt, expected = (stored or '').split('$')
        cost = {'n': int(n), 'r': int(r), 'p': int(p)}
    except ValueError:
        return False
    return scheme == 'scrypt' and hmac.compare_digest(scrypt_hash(password, bytes.fromhex(salt), cost).hex(), expected)


# -- signing in -----------------------------------------------------------------------------------------

SESSION_COOKIE = 'kiosk_hub_session'
FREE_TRIES = 5
FIRST_LOCK_SECONDS = 5 * 60
# Checked against when the email is unknown, so a wrong email takes as long as a wrong password.
_NOBODY = hash_password('no one has this password')


@dataclass(frozen=True)
class SignIn:
    ok: bool
    locked_for: float = 0.0  # seconds, when the account is locked after too many failures


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


async def sign_in(conn: AsyncConnection, email: str, password: str) -> SignIn:
    """Check a password, with the same lockout as the kiosk's PIN: 5 free tries, then 5 minutes, doubling."""
    row = await db.password_hash_and_lock(conn, email)
    if row is None:
        await asyncio.to_thread(password_matches, password, _NOBODY)
        return SignIn(ok=False)
    if row['locked_for'] > 0:
        return SignIn(ok=False, locked_for=row['locked_for'])
    ok = await asyncio.to_thread(password_matches, password, row['password_hash'])  # ~0.1 s: off the loop
    locked_for = await db.record_login(conn, email, ok, FREE_TRIES, FIRST_LOCK_SECONDS)
    return SignIn(ok=ok, locked_for=locked_for)
