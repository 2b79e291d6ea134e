"""Published content on the kiosk's disk: the verified versions, the one that runs, and the floor under replays.

Under `<data dir>/content/` (0700, its files 0600, like the rest of the data dir):

    <N>/            a verified version: manifest.json, manifest.sig, bundle.sha256 and the bundle's files.
                    Written once and never changed.
    <N>.partial/    a version being written: checked first, then written, fsync'd and renamed to <N>/;
                    whatever a crash leaves is removed at the next start
    <N>.removing/   an old version on its way out (renamed first, so a half-deleted one never looks whole)
    active          the version that runs, one line; switched with one os.replace and a directory fsync
    floor.json      the highest version ever accepted: a bundle must be above it (no replay of an older one)
    failed.json     versions that failed here after their switch, with the reason: never switched to again
    switch.json     the last switch: from which version, when, whether its screens were checked, and the server
                    starts since (two starts within CONFIRM_WINDOW_SECONDS are two crashes: back to the previous one)
    state.json      the last refusal or failure, and the last time the hub answered, for `kiosk content status`,
                    the staff console and the heartbeat
    content.lock    one writer at a time (the server's fetch, `kiosk content apply`)

So a crash at any moment leaves the old version running or the new one, never a mix: a version is
complete before its name exists, and the pointer names one whole version or the previous one. Without
`active`, the factory programs file (`content`, assets/programs.toml) runs. The version that runs is
kept, with the two before it; older ones are removed. A page load reads `current()`, which notices a
switched pointer with one stat, so the next visitor sees the new content without a restart.

Confirm or fall back: after a switch the server loads every screen (kiosk/confirm.py) and `confirm()`s the
version, or `fall_back()` puts the previous version back, reports `apply_failed: ...` and lists the version in
failed.json. The same happens by itself when the server starts a second time within 2 minutes of a switch: it
crashed twice (a clean stop does not count).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from filelock import FileLock

from kiosk.bundle import (
    MANIFEST,
    PROGRAMS,
    SIGNATURE,
    Bundle,
    BundleError,
    Manifest,
    open_bundle,
    parse_public_key,
    public_key_text,
)
from kiosk.config import Settings
from kiosk.content import Catalog, ContentError, load_catalog
from kiosk.storage.atomic import fsync_directory, private_dir, remove_orphan_temp_files, write_atomically

log = logging.getLogger('kiosk.content')

KEPT_BEFORE_ACTIVE = 2
CONFIRM_WINDOW_SECONDS = 120
CRASHES_BEFORE_FALLBACK = 2
APPLY_FAILED = 'apply_failed'
HUB_CONTACT_RECORDED_EVERY = 3600  # seconds: the last contact is rewritten at most hourly (an SD card's wear)
REPORTED_ERROR_MAX = 300  # the heartbeat takes up to 1000 characters
PARTIAL, REMOVING = '.partial', '.removing'
# For the crash tests only: `KIOSK_CONTENT_PAUSE_AT=<step>` stops the switch at that step until the process is
# killed, so a test can kill -9 it exactly there. Steps: written, staged, accepted, prepared, switched.
PAUSE_ENV = 'KIOSK_CONTENT_PAUSE_AT'


class NoTrustedKey(Exception):
    """This kiosk trusts no publisher's key, so it takes no published content."""


def trusted_key(settings: Settings) -> Ed25519PublicKey | None:
    """`content_public_key`, else the key in `content_public_key_file`; None when neither is set.

    A key that is there but unreadable as one raises BundleError: `kiosk doctor` says so.
    """
    if settings.content_public_key:
        return parse_public_key(settings.content_public_key)
    try:
        text = settings.content_public_key_file.read_text()
    except FileNotFoundError:
        return None
    return parse_public_key(text)


@dataclass(frozen=True)
class ActiveContent:
    """The content a page load shows: a published version, or the factory file (version 0)."""

    version: int
    catalog: Catalog
    programs_sha256: str  # of the programs file: the heartbeat's `content_hash`, as before
    bundle_sha256: str | None  # of the bundle it came from; None for the factory file


@dataclass
class ContentState:
    last_error: str | None = None
    last_error_at: str | None = None
    refused_sha256: str | None = None  # the last bundle refused: not downloaded again until the hub has another
    refused_under: str | None = None  # the trusted key it was refused under: a new key (trust-key) asks again
    last_hub_contact: str | None = None  # when the hub last answered a content poll (ISO time, at most hourly)


@dataclass
class SwitchRecord:
    """The last switch, written before the pointer moves: what to go back to, and the starts that followed."""

    version: int
    previous: int  # 0: the factory content
    at: float
    confirmed: bool = False  # every screen loaded from the new version
    starts: int = 0  # server starts since the switch, not counting those after a clean stop
    clean_stop: bool = False


class PublishedContent:
    def __init__(self, data_dir: Path, factory: Path, kiosk_id: str, key: Ed25519PublicKey | None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = data_dir / 'content'
        self.factory = factory
        self.kiosk_id = kiosk_id
        self.key = key
        self.clock = clock
        # Per thread: the server's poll and its check of a switch write from two threads at once, and a lock shared
        # by every thread of the process (thread_local=False) let both in, each clearing the other's temporary file.
        self._lock = FileLock(self.root / 'content.lock', mode=0o600)
        self._current: tuple[object, ActiveContent] | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> PublishedContent:
        try:
            key = trusted_key(settings)
        except BundleError:
            key = None  # `kiosk doctor` names the broken key; the kiosk keeps showing what it has
        return cls(settings.data_dir, settings.content, settings.kiosk_id, key)

    # -- reading --------------------------------------------------------------------------------------

    def current(self) -> ActiveContent:
        """What runs now; re-read only when the pointer changed (one stat per call)."""
        stamp = self._pointer_stamp()
        if self._current is None or self._current[0] != stamp:
            self._current = (stamp, self._load(self.active_version()))
        return self._current[1]

    def active_version(self) -> int | None:
        try:
            version = int((self.root / 'active').read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return version if (self.root / str(version)).is_dir() else None

    def versions(self) -> list[int]:
        """The complete versions on disk, lowest first."""
        if not self.root.is_dir():
            return []
        return sorted(int(path.name) for path in self.root.iterdir() if path.name.isdigit() and path.is_dir())

    def floor(self) -> int:
        """The highest version accepted: from floor.json, or a complete version whose floor write a crash cut."""
        return max([self._stored_floor(), *self.versions()])

    def _stored_floor(self) -> int:
        try:
            return int(json.loads((self.root / 'floor.json').read_text())['version'])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return 0

    def staged(self) -> Manifest | None:
        """The newest verified version above the one that runs, waiting for its `activate_at`."""
        active, failed = self.active_version() or 0, self.failed()
        newer = [version for version in self.versions() if version > active and version not in failed]
        return self.manifest(newer[-1]) if newer else None

    def manifest(self, version: int) -> Manifest:
        return Manifest.model_validate_json((self.root / str(version) / MANIFEST).read_bytes())

    def state(self) -> ContentState:
        try:
            return ContentState(**json.loads((self.root / 'state.json').read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return ContentState()

    def failed(self) -> dict[int, str]:
        """The versions that failed on this kiosk after their switch, with why: none is ever switched to again."""
        try:
            return {int(version): reason for version, reason in
                    json.loads((self.root / 'failed.json').read_text()).items()}
        except (FileNotFoundError, ValueError, TypeError, AttributeError):
            return {}

    def last_switch(self) -> SwitchRecord | None:
        try:
            return SwitchRecord(**json.loads((self.root / 'switch.json').read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def stale_days(self) -> float | None:
        """Days since the hub last answered a content poll; None if it never has."""
        contact = self.state().last_hub_contact
        if contact is None:
            return None
        return (self.clock() - datetime.fromisoformat(contact).timestamp()) / 86400

    def known_etags(self) -> list[str]:
        """The bundles this kiosk has, or refused, as ETags: the hub answers 304 when its newest is one of them."""
        state = self.state()
        refused_here = state.refused_under == (public_key_text(self.key) if self.key else None)
        known = [self.current().bundle_sha256, state.refused_sha256 if refused_here else None]
        for version in self.versions():
            with contextlib.suppress(OSError):
                known.append((self.root / str(version) / 'bundle.sha256').read_text().strip())
        return [f'"{sha256}"' for sha256 in dict.fromkeys(known) if sha256]

    def report(self) -> dict:
        """The heartbeat's content fields (additive): what runs, its hashes, what waits, the last refusal."""
        active, staged = self.current(), self.staged()
        return {'content_hash': active.programs_sha256, 'content_version': active.version,
                'content_sha256': active.bundle_sha256, 'content_staged': staged.version if staged else None,
                'content_error': (self.state().last_error or '')[:REPORTED_ERROR_MAX] or None}

    # -- writing --------------------------------------------------------------------------------------

    def apply(self, data: bytes, prepare: Callable[[Catalog], None] | None = None) -> tuple[Bundle, bool]:
        """Verify and stage a bundle, then switch to it if its `activate_at` has come; (bundle, whether it runs)."""
        bundle = self.accept(data)
        self.activate_due(prepare)
        return bundle, self.active_version() == bundle.manifest.version

    def accept(self, data: bytes) -> Bundle:
        """Verify a bundle and keep it as a complete version; BundleError (remembered for the heartbeat) if not."""
        if self.key is None:
            raise NoTrustedKey('no trusted key: run `sudo kiosk trust-key KEY` with the key `kiosk hub keygen` '
                               'printed; until then published content is ignored')
        with self._locked():
            if (kept := self._kept(_sha256(data))) is not None:  # this very bundle again: a crash cut its switch
                self._refuse_if_failed(kept)
                bundle = open_bundle(data, self.key, floor=kept - 1, kiosk_id=self.kiosk_id)
                self._raise_floor(kept)
                return bundle
            try:
                bundle = open_bundle(data, self.key, floor=self.floor(), kiosk_id=self.kiosk_id)
            except BundleError as error:
                # a version that failed here: say so, and keep its apply_failed for the heartbeat
                self._refuse_if_failed(_version_of(data, self.key, self.kiosk_id))
                self._remember_error(str(error), _sha256(data))
                raise
            self._write_version(bundle)
            self._remember_error(None)
        log.info('content: version %d verified and staged', bundle.manifest.version)
        return bundle

    def activate_due(self, prepare: Callable[[Catalog], None] | None = None) -> int | None:
        """Switch to the staged version if its time has come; the version switched to, or None.

        `prepare` gets the new catalog before the pointer moves: what the first visitor would otherwise wait for.
        """
        with self._locked():
            staged = self.staged()
            if staged is None or (staged.activate_at and staged.activate_at.timestamp() > self.clock()):
                return None
            if prepare is not None:
                prepare(load_catalog(self.root / str(staged.version) / PROGRAMS))
                _pause_at('prepared')
            self._switch(staged.version)
        log.info('content: version %d runs from the next page load', staged.version)
        return staged.version

    def _write_version(self, bundle: Bundle) -> None:
        version = bundle.manifest.version
        final = self.root / str(version)
        partial = self.root / f'{version}{PARTIAL}'
        shutil.rmtree(partial, ignore_errors=True)
        private_dir(partial)
        contents = {MANIFEST: bundle.manifest_bytes, SIGNATURE: bundle.signature,
                    'bundle.sha256': bundle.sha256.encode(), **bundle.files}
        for name, data in contents.items():
            path = partial / name
            if path.parent != partial:
                private_dir(path.parent)
            _write_private(path, data)
        for directory in {(partial / name).parent for name in contents}:
            fsync_directory(directory)
        _pause_at('written')
        os.replace(partial, final)
        fsync_directory(self.root)
        _pause_at('staged')
        self._raise_floor(version)
        _pause_at('accepted')

    def _raise_floor(self, version: int) -> None:
        if self._stored_floor() < version:
            write_atomically(self.root / 'floor.json', json.dumps({'version': version}).encode())

    # -- confirm or fall back ------------------------------------------------------------------------------

    def note_start(self) -> int | None:
        """At each server start, before anything is shown: count it, and fall back after the second crash within
        CONFIRM_WINDOW_SECONDS of a switch. The version given up, or None."""
        if self.last_switch() is None:  # nothing switched yet: the data dir is left as it is
            return None
        with self._locked():
            record = self._open_switch()
            if record is None:
                return None
            if record.clean_stop:
                record.clean_stop = False
            else:
                record.starts += 1
            if record.starts < CRASHES_BEFORE_FALLBACK:
                self._write_switch(record)
                return None
            self._fall_back(record, f'the server crashed {record.starts} times within '
                                    f'{CONFIRM_WINDOW_SECONDS // 60} minutes of the switch')
            return record.version

    def note_clean_stop(self) -> None:
        """A stop that was asked for (systemctl stop or restart) is not a crash."""
        if self.last_switch() is None:
            return
        with self._locked():
            if (record := self._open_switch()) is not None:
                record.clean_stop = True
                self._write_switch(record)

    def unconfirmed(self) -> int | None:
        """The running version, if it was switched to and its screens were not checked yet."""
        record = self.last_switch()
        if record is None or record.confirmed or record.version != self.active_version():
            return None
        return record.version

    def confirm(self, version: int) -> None:
        with self._locked():
            record = self.last_switch()
            if record is not None and record.version == version and not record.confirmed:
                record.confirmed = True
                self._write_switch(record)
        log.info('content: version %d confirmed: every screen loads', version)

    def fall_back(self, version: int, reason: str) -> bool:
        """Put back the version that ran before `version`, and never switch to `version` again; False if
        `version` no longer runs (nothing to do)."""
        with self._locked():
            record = self.last_switch()
            if record is None or record.version != version or self.active_version() != version:
                return False
            self._fall_back(record, reason)
            return True

    def _refuse_if_failed(self, version: int) -> None:
        if version in (failed := self.failed()):
            raise BundleError(f'version {version} failed on this kiosk before ({failed[version]}); it is never '
                              'tried again: publish a corrected version')

    def _open_switch(self) -> SwitchRecord | None:
        record = self.last_switch()
        if record is None or record.version != self.active_version() \
                or self.clock() - record.at > CONFIRM_WINDOW_SECONDS:
            return None
        return record

    def _fall_back(self, record: SwitchRecord, reason: str) -> None:
        failed = {**self.failed(), record.version: reason}
        write_atomically(self.root / 'failed.json', json.dumps({str(k): v for k, v in failed.items()}).encode())
        if record.previous and (self.root / str(record.previous)).is_dir():
            write_atomically(self.root / 'active', f'{record.previous}\n'.encode())
        else:
            (self.root / 'active').unlink(missing_ok=True)  # the factory content
            fsync_directory(self.root)
        (self.root / 'switch.json').unlink(missing_ok=True)
        self._remember_error(f'{APPLY_FAILED}: version {record.version}: {reason}; back on '
                             f'{f"version {record.previous}" if record.previous else "the factory content"}')
        log.error('content: version %d failed (%s); back on version %d', record.version, reason, record.previous)

    def _write_switch(self, record: SwitchRecord) -> None:
        write_atomically(self.root / 'switch.json', json.dumps(asdict(record)).encode())

    def note_hub_contact(self) -> None:
        """The hub answered a content poll: the kiosk's content is not stale (recorded at most hourly)."""
        state = self.state()
        now = self.clock()
        if state.last_hub_contact and now - datetime.fromisoformat(state.last_hub_contact).timestamp() \
                < HUB_CONTACT_RECORDED_EVERY:
            return
        with self._locked():
            self._write_state(replace(self.state(), last_hub_contact=_iso(now)))

    def _switch(self, version: int) -> None:
        # Written before the pointer moves: a crash just after the switch still knows where to go back to.
        self._write_switch(SwitchRecord(version, self.active_version() or 0, self.clock()))
        write_atomically(self.root / 'active', f'{version}\n'.encode())  # os.replace, then fsync of the directory
        _pause_at('switched')
        self._prune(version)

    def _prune(self, active: int) -> None:
        older = [found for found in self.versions() if found < active]
        for version in older[:-KEPT_BEFORE_ACTIVE] if len(older) > KEPT_BEFORE_ACTIVE else []:
            doomed = self.root / f'{version}{REMOVING}'
            os.replace(self.root / str(version), doomed)
            shutil.rmtree(doomed)

    def _kept(self, bundle_sha256: str) -> int | None:
        """The complete version on disk made from this exact bundle, if any."""
        for version in self.versions():
            with contextlib.suppress(OSError):
                if (self.root / str(version) / 'bundle.sha256').read_text().strip() == bundle_sha256:
                    return version
        return None

    def _remember_error(self, error: str | None, refused_sha256: str | None = None) -> None:
        state = self.state()
        self._write_state(replace(state, last_error=error, last_error_at=_iso(self.clock()) if error else None,
                                  refused_sha256=refused_sha256,
                                  refused_under=public_key_text(self.key) if refused_sha256 and self.key else None))

    def _write_state(self, state: ContentState) -> None:
        if state != self.state():
            write_atomically(self.root / 'state.json', json.dumps(asdict(state)).encode())

    @contextlib.contextmanager
    def _locked(self):
        """One writer at a time; what a crashed writer left half-done is cleared first."""
        private_dir(self.root)
        with self._lock:
            for leftover in self.root.iterdir():
                if leftover.is_dir() and leftover.name.endswith((PARTIAL, REMOVING)):
                    shutil.rmtree(leftover)
            remove_orphan_temp_files(self.root)
            yield

    def _pointer_stamp(self) -> object:
        try:
            info = (self.root / 'active').stat()
        except FileNotFoundError:
            return None
        return info.st_ino, info.st_mtime_ns

    def _load(self, version: int | None) -> ActiveContent:
        if version is not None:
            folder = self.root / str(version)
            try:
                programs = folder / PROGRAMS
                return ActiveContent(version, load_catalog(programs), _sha256(programs.read_bytes()),
                                     (folder / 'bundle.sha256').read_text().strip())
            except (OSError, ContentError) as error:
                log.error('content: version %d cannot be read (%s); showing the factory content', version, error)
        return ActiveContent(0, load_catalog(self.factory), _sha256(self.factory.read_bytes()), None)


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, 'wb') as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _version_of(data: bytes, key: Ed25519PublicKey, kiosk_id: str) -> int | None:
    """The version of a genuine bundle for this kiosk whatever the floor; None if it is not one."""
    try:
        return open_bundle(data, key, floor=0, kiosk_id=kiosk_id).manifest.version
    except BundleError:
        return None


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec='seconds')


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pause_at(step: str) -> None:
    if os.environ.get(PAUSE_ENV) == step:
        print(f'content: paused at {step}', file=sys.stderr, flush=True)
        while True:
            time.sleep(60)
