"""The staff PIN: only a salted scrypt hash is stored, and wrong guesses lock the console for longer and longer.

A 4- to 8-digit PIN can be brute-forced from a stolen hash whatever the algorithm, so the real
protection is the lockout, kept on disk so that pulling the plug does not reset it, and a private file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from kiosk.storage.atomic import private_dir, write_atomically

PIN_FILE = 'staff-pin.json'
LOCK_FILE = 'staff-lock.json'
PIN_PATTERN = re.compile(r'^[0-9]{4,8}$')
FREE_TRIES = 5
FIRST_LOCK_SECONDS = 5 * 60
# scrypt with n=2**15, r=8 takes ~0.1 s and 32 MiB: slow for a thief, instant for a person.
SCRYPT = {'n': 2 ** 15, 'r': 8, 'p': 1}


class PinError(ValueError):
    """The PIN is not 4 to 8 digits."""


@dataclass
class Attempt:
    ok: bool
    locked_for: float = 0.0  # seconds left on the lock, when refused because of it
    just_locked: bool = False
    not_a_pin: bool = False  # too short or not digits: a stray tap, not a guess, so it is not counted


@dataclass
class _LockState:
    failures: int = 0
    locked_until: float = 0.0


class StaffPin:
    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self.pin_path = data_dir / PIN_FILE
        self.lock_path = data_dir / LOCK_FILE
        self.clock = clock
        self._checking = threading.Lock()  # concurrent tries must not each see the same failure count

    @property
    def is_set(self) -> bool:
        return self.pin_path.exists()

    def set(self, pin: str) -> None:
        if not PIN_PATTERN.match(pin):
            raise PinError('the PIN must be 4 to 8 digits')
        salt = os.urandom(16)
        record = {'salt': salt.hex(), **SCRYPT, 'hash': scrypt_hash(pin, salt, SCRYPT).hex()}
        private_dir(self.pin_path.parent)
        write_atomically(self.pin_path, json.dumps(record).encode())
        write_atomically(self.lock_path, json.dumps(asdict(_LockState())).encode())

    def locked_for(self) -> float:
        return max(0.0, self._lock_state().locked_until - self.clock())

    def check(self, pin: str) -> Attempt:
        """Verify a PIN, counting failures; while locked, even the right PIN is refused unchecked.

        An entry that cannot be a PIN (an empty pad, one digit) is refused without counting, so stray taps
        never lock staff out; every real guess still counts.
        """
        with self._checking:
            return self._check(pin)

    def _check(self, pin: str) -> Attempt:
        state = self._lock_state()
        now = self.clock()
        if state.locked_until > now:
            return Attempt(ok=False, locked_for=state.locked_until - now)
        if not PIN_PATTERN.match(pin):
            return Attempt(ok=False, not_a_pin=True)
        if self._matches(pin):
            self._save(_LockState())
            return Attempt(ok=True)
        state.failures += 1
        just_locked = state.failures >= FREE_TRIES
        if just_locked:
            state.locked_until = now + FIRST_LOCK_SECONDS * 2 ** (state.failures - FREE_TRIES)
        self._save(state)
        return Attempt(ok=False, locked_for=max(0.0, state.locked_until - now), just_locked=just_locked)

    def _matches(self, pin: str) -> bool:
        try:
            record = json.loads(self.pin_path.read_text())
            expected = bytes.fromhex(record['hash'])
            actual = scrypt_hash(pin, bytes.fromhex(record['salt']), {key: record[key] for key in SCRYPT})
        except (OSError, ValueError, KeyError):
            return False
        return hmac.compare_digest(expected, actual)

    def _lock_state(self) -> _LockState:
        try:
            return _LockState(**json.loads(self.lock_path.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return _LockState()

    def _save(self, state: _LockState) -> None:
        write_atomically(self.lock_path, json.dumps(asdict(state)).encode())


def scrypt_hash(secret: str, salt: bytes, cost: dict[str, int]) -> bytes:
    """The same slow hash for staff PINs and hub passwords."""
    # scrypt needs 128 * r * N bytes (and a little more); twice that leaves room without allowing any cost.
    return hashlib.scrypt(secret.encode(), salt=salt, n=cost['n'], r=cost['r'], p=cost['p'],
                          maxmem=2 * 128 * cost['r'] * cost['n'], dklen=32)
