"""Secrets at the hub: kiosk tokens (only their SHA-256 is stored) and user passwords (salted scrypt)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from kiosk.pin import SCRYPT, scrypt_hash

MIN_PASSWORD = 12


def new_token() -> str:
    """A kiosk's bearer token: 256 bits, printed once, never stored."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
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
