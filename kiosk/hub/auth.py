"""Secrets at the hub: kiosk tokens, session ids and set-password links (only their SHA-256 is stored), passwords
(salted scrypt), and the second factor: TOTP codes (RFC 6238, pyotp) and one-use recovery codes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address

import pyotp
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from kiosk.hub import db
from kiosk.pin import scrypt_hash

MIN_PASSWORD = 12
# OWASP's Password Storage Cheat Sheet: N=2^17, r=8, p=1 (128 MiB, a few tenths of a second). The parameters
# are kept in each hash, so an older hash still verifies, and is replaced at its owner's next sign-in.
PASSWORD_SCRYPT = {'n': 2 ** 17, 'r': 8, 'p': 1}


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
    return '$'.join(['scrypt', str(PASSWORD_SCRYPT['n']), str(PASSWORD_SCRYPT['r']), str(PASSWORD_SCRYPT['p']),
                     salt.hex(), scrypt_hash(password, salt, PASSWORD_SCRYPT).hex()])


def needs_rehash(stored: str) -> bool:
    return stored.split('$')[1:4] != [str(PASSWORD_SCRYPT[key]) for key in ('n', 'r', 'p')]


def password_matches(password: str, stored: str | None) -> bool:
    try:
        scheme, n, r, p, salt, expected = (stored or '').split('$')
        cost = {'n': int(n), 'r': int(r), 'p': int(p)}
    except ValueError:
        return False
    return scheme == 'scrypt' and hmac.compare_digest(scrypt_hash(password, bytes.fromhex(salt), cost).hex(), expected)


# -- the second factor -----------------------------------------------------------------------------------

ISSUER = 'SLMPD Kiosk Hub'  # what the authenticator app calls the account
RECOVERY_CODES = 10
CHALLENGE_MINUTES = 5  # from a right password to its code
PASSWORD_LINK_HOURS = 24
REQUIRE_2FA = ('admin', 'all', 'none')


def must_enrol(viewer: db.Viewer, require: str) -> bool:
    """Whether this user must turn on two-factor sign-in before any screen opens, under `require_2fa`."""
    return not viewer.second_factor and (require == 'all' or (require == 'admin' and viewer.sees_all))


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 160 bits, RFC 4226's recommended length


def totp_uri(secret: str, email: str) -> str:
    """What the enrolment's QR code holds: the otpauth:// URI authenticator apps read."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def totp_step(secret: str, code: str, after_step: int | None, now: float | None = None) -> int | None:
    """The time-step a six-digit code is right for (this one, or one either side, for a clock a little off),
    if it is later than `after_step`, the last one used: a code is good once. None when it is not."""
    code = ''.join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time() if now is None else now)
    for step in (current - 1, current, current + 1):
        if (after_step is None or step > after_step) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of 80 random bits each, written xxxx-xxxx-xxxx-xxxx (base32, lower case) to copy by hand."""
    alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = ''.join(secrets.choice(alphabet) for _ in range(16))
        codes.append('-'.join(raw[i:i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_digest(code: str) -> bytes:
    """What is stored of a recovery code: its SHA-256, of the code as typed without dashes, spaces or case."""
    return hashlib.sha256(''.join(char for char in code.lower() if char.isalnum()).encode()).digest()


# -- signing in -----------------------------------------------------------------------------------------

SESSION_COOKIE = 'kiosk_hub_session'
# Failures decay: only those inside the window count. The account's limit slows guessing at one account; the
# client's, over a day, stops the guesser: one address can hold an account locked 75 minutes a day at most.
ACCOUNT_LIMIT = (5, timedelta(minutes=15))
CLIENT_LIMIT = (25, timedelta(hours=24))
CODE_LIMIT = ACCOUNT_LIMIT  # wrong second-factor codes, counted apart from wrong passwords
# scrypt takes a few tenths of a second of one core and 128 MiB: this many at once, and a sign-in that finds
# them all busy is told to try again in a moment instead of queueing.
HASHES_AT_ONCE = 4
# Of the pool's connections, sign-ins use at most this many at once (they wait their turn for one), so a
# flood of them leaves the rest to the kiosks and the screens.
CONNECTIONS_AT_ONCE = 3
# A client the database refused is refused again without asking it for this long: a flood from one address
# then costs no database work at all. The count itself stays in the database, for every hub process.
REFUSAL_MEMO_SECONDS = 10
# Refused and busy answers wait this long first: it costs the hub nothing and holds the sender's
# connection idle, so a flood from one address slows to a trickle and a full hub is not asked again at once.
REFUSED_PAUSE_SECONDS, BUSY_PAUSE_SECONDS = 3.0, 1.0
# Checked against when the email is unknown or the account is locked, so every refusal takes as long.
_NOBODY = hash_password('no one has this password')


@dataclass(frozen=True)
class SignIn:
    ok: bool
    busy: bool = False  # every hashing slot was taken: nothing was checked or counted
    checked: bool = True  # False when the client's address was over its limit and nothing was hashed


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted: Sequence[IPv4Network | IPv6Network]) -> str:
    """Whom a sign-in is counted against: the peer, or when the peer is a trusted proxy, the first hop of
    X-Forwarded-For, read from the right, that is not a trusted proxy (the hops left of it are the client's
    own say, and anyone can write them)."""
    address = _canonical(peer or 'unknown')
    hops = [hop.strip() for hop in (forwarded_for or '').split(',') if hop.strip()]
    while hops and is_trusted(address, trusted):
        address = _canonical(hops.pop())
    return address


def _canonical(address: str) -> str:
    try:
        return str(ip_address(address))
    except ValueError:
        return address[:64]


def is_trusted(address: str, trusted: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


class SignIns:
    """Checks passwords for one pool, within the bounds above."""

    def __init__(self, pool: AsyncConnectionPool, hashes_at_once: int = HASHES_AT_ONCE) -> None:
        self.pool = pool
        self.hashing = asyncio.Semaphore(hashes_at_once)
        self._connections = asyncio.Semaphore(CONNECTIONS_AT_ONCE)
        self._refused_clients: dict[str, float] = {}  # address -> until when (time.monotonic())

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        async with self._connections, self.pool.connection() as conn:
            yield conn

    async def check(self, email: str, password: str, client: str) -> SignIn:
        """Check a password without holding a database connection while it hashes.

        The attempt is counted first. Unknown, disabled, locked and wrong all hash (a dummy hash where there is
        no real one) and get the same answer, so neither the page nor its timing tells whether an account exists.
        """
        if self._refused_clients.get(client, 0.0) <= time.monotonic():
            async with self._connection() as conn:
                counted = await db.count_sign_in(conn, client, email, CLIENT_LIMIT, ACCOUNT_LIMIT)
            if counted.refused_by != 'client':
                return await self._check(counted, email, password)
            if len(self._refused_clients) > 10_000:
                self._refused_clients.clear()
            self._refused_clients[client] = time.monotonic() + REFUSAL_MEMO_SECONDS
        await asyncio.sleep(REFUSED_PAUSE_SECONDS)  # decided by the address alone: it tells nothing of the account
        return SignIn(ok=False, checked=False)

    async def _check(self, counted: db.CountedSignIn, email: str, password: str) -> SignIn:
        if self.hashing.locked():
            async with self._connection() as conn:
                await db.forgive_sign_in(conn, counted.seqs)
            await asyncio.sleep(BUSY_PAUSE_SECONDS)
            return SignIn(ok=False, busy=True)
        stored = counted.password_hash if counted.refused_by is None else None
        async with self.hashing:
            matches = await asyncio.to_thread(password_matches, password, stored or _NOBODY)
        ok = matches and stored is not None
        if ok:
            if needs_rehash(stored):
                async with self.hashing:
                    rehashed = await asyncio.to_thread(hash_password, password)
                async with self._connection() as conn:
                    await db.rehash_password(conn, email, stored, rehashed)
            async with self._connection() as conn:
                await db.forgive_sign_in(conn, counted.seqs, email)
        return SignIn(ok=ok)

    async def check_code(self, email: str, code: str, client: str) -> SignIn:
        """Check a second-factor code (TOTP, or a recovery code, which is then spent) for a user whose password
        was right, counted first like a password: against the client and against the account's codes."""
        if self._refused_clients.get(client, 0.0) > time.monotonic():
            await asyncio.sleep(REFUSED_PAUSE_SECONDS)
            return SignIn(ok=False, checked=False)
        async with self._connection() as conn:
            counted = await db.count_code(conn, client, email, CLIENT_LIMIT, CODE_LIMIT)
            if counted.refused_by is not None:
                ok = False
            elif (step := totp_step(counted.totp_secret, code, counted.totp_last_step)
                  if counted.totp_secret else None) is not None:
                ok = await db.use_totp_step(conn, email, step)
            else:
                ok = counted.totp_secret is not None and await db.use_recovery_code(conn, email,
                                                                                    recovery_digest(code))
            if ok:
                await db.forgive_code(conn, counted.seqs, email)
        if counted.refused_by is not None:
            await asyncio.sleep(REFUSED_PAUSE_SECONDS)
        return SignIn(ok=ok, checked=counted.refused_by is None)
