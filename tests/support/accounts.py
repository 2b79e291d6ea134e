"""Hub users for tests: a second factor turned on as enrolment leaves it, the code an authenticator app would show
next, and the hub's two-step sign-in over HTTP (a real process, or NiceGUI's simulated client)."""

from __future__ import annotations

import re
import time

import httpx
import psycopg
import pyotp

PASSWORD = 'a long enough password'
CSRF_COOKIE, CHALLENGE_COOKIE, SESSION_COOKIE = 'kiosk_hub_csrf', 'kiosk_hub_challenge', 'kiosk_hub_session'


def enrol(database: str, email: str) -> str:
    """Turn on a user's second factor as the enrolment screen does (tests/hub/test_account_screens.py drives
    the screen itself); returns the secret their app would hold."""
    secret = pyotp.random_base32()
    with psycopg.connect(database) as conn:
        conn.execute('UPDATE users SET totp_secret = %s, totp_last_step = NULL WHERE email = %s', (secret, email))
    return secret


def next_code(database: str, email: str, secret: str) -> str:
    """The code an app shows now; when this step was used already (a test signing in twice within 30 s), the
    next step's, which the hub accepts too (a phone's clock a little fast), or it waits for a fresh step."""
    with psycopg.connect(database) as conn:
        (last,) = conn.execute('SELECT totp_last_step FROM users WHERE email = %s', (email,)).fetchone()
    totp = pyotp.TOTP(secret)
    while last is not None and last > totp.timecode(time.time()):
        time.sleep(1)
    current = totp.timecode(time.time())
    return totp.generate_otp(current if last is None or last < current else current + 1)


def cookie(answer: httpx.Response, name: str) -> str | None:
    found = re.search(rf'{name}=([^;]+)', ', '.join(answer.headers.get_list('set-cookie')))
    return found.group(1) if found else None


def sign_in(hub_url: str, email: str, password: str = PASSWORD, code: str | None = None) -> tuple[str, str | None]:
    """A browser's sign-in to a real hub: the password, then the code when asked; returns where the hub sent it
    and the session cookie (None when it opened none)."""
    csrf = cookie(httpx.get(hub_url + '/login', timeout=10), CSRF_COOKIE)
    answer = httpx.post(hub_url + '/login', headers={'Cookie': f'{CSRF_COOKIE}={csrf}'}, timeout=30,
                        data={'email': email, 'password': password, 'csrf': csrf})
    if answer.headers['location'] == '/login/code' and code is not None:
        challenge = cookie(answer, CHALLENGE_COOKIE)
        answer = httpx.post(hub_url + '/login/code', timeout=30, data={'code': code, 'csrf': csrf},
                            headers={'Cookie': f'{CSRF_COOKIE}={csrf}; {CHALLENGE_COOKIE}={challenge}'})
    return answer.headers['location'], cookie(answer, SESSION_COOKIE)
