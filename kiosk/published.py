"""Published content on the kiosk's disk: the verified versions, the one that runs, and the floor under replays.

Under `<data dir>/content/` (0700, its files 0600, like the rest of the data dir):

    <N>/            a verified version: manifest.json, manifest.sig, bundle.sha256 and the bundle's files.
                    Written once and never changed.
    <N>.partial/    a version being written: checked first, then written, fsync'd and renamed to <N>/;
                    whatever a crash leaves is removed at the next start
    <N>.removing/   an old version on its way out (renamed first, so a half-deleted one never looks whole)
    active          the version that runs, one line; switched with one os.replace and a directory fsync
    floor.json      the highest version ever accepted: a bundle must be above it (no replay of an older one)
    state.json      the last refusal, for `kiosk content status`, the staff console and the heartbeat
    content.lock    one writer at a time (the server's fetch, `kiosk content apply`)

So a crash at any moment leaves the old version running or the new one, never a mix: a version is
complete before its name exists, and the pointer names one whole version or the previous one. Without
`active`, the factory programs file (`content`, assets/programs.toml) runs. The version that runs is
kept, with the two before it; older ones are removed. A page load reads `current()`, which notices a
switched pointer with one stat, so the next visitor sees the new content without a restart.
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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from filelock import FileLock

from kiosk.bundle import MANIFEST, PROGRAMS, SIGNATURE, Bundle, BundleError, Manifest, open_bundle, parse_public_key
from kiosk.config import Settings
from kiosk.content import Catalog, ContentError, load_catalog
from kiosk.storage.atomic import fsync_directory, private_dir, remove_orphan_temp_files, write_atomically

log = logging.getLogger('kiosk.content')

KEPT_BEFORE_ACTIVE = 2
REPORTED_ERROR_MAX = 300  # the heartbeat takes up to 1000 characters
PARTIAL, REMOVING = '.partial', '.removing'
# For the crash tests only: `KIOSK_CONTENT_PAUSE_AT=<step>` stops the switch at that step until the process is
# killed, so a test can kill -9 it exactly there. Steps: written, staged, accepted, switched.
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


class PublishedContent:
    def __init__(self, data_dir: Path, factory: Path, kiosk_id: str, key: Ed25519PublicKey | None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = data_dir / 'content'
        self.factory = factory
        self.kiosk_id = kiosk_id
        self.key = key
        self.clock = clock
        self._lock = FileLock(self.root / 'content.lock', mode=0o600, thread_local=False)
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
        active = self.active_version() or 0
        newer = [version for version in self.versions() if version > active]
        return self.manifest(newer[-1]) if newer else None

    def manifest(self, version: int) -> Manifest:
        return Manifest.model_validate_json((self.root / str(version) / MANIFEST).read_bytes())

    def state(self) -> ContentState:
        try:
            return ContentState(**json.loads((self.root / 'state.json').read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return ContentState()

    def known_etags(self) -> list[str]:
        """The bundles this kiosk has, or refused, as ETags: the hub answers 304 when its newest is one of them."""
        known = [self.current().bundle_sha256, self.state().refused_sha256]
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

    def apply(self, data: bytes) -> tuple[Bundle, bool]:
        """Verify and stage a bundle, then switch to it if its `activate_at` has come; (bundle, whether it runs)."""
        bundle = self.accept(data)
        self.activate_due()
        return bundle, self.active_version() == bundle.manifest.version

    def accept(self, data: bytes) -> Bundle:
        """Verify a bundle and keep it as a complete version; BundleError (remembered for the heartbeat) if not."""
        if self.key is None:
            raise NoTrustedKey('no trusted key: run `sudo kiosk trust-key KEY` with the key `kiosk hub keygen` '
                               'printed; until then published content is ignored')
        with self._locked():
            if (kept := self._kept(_sha256(data))) is not None:  # this very bundle again: a crash cut its switch
                bundle = open_bundle(data, self.key, floor=kept - 1, kiosk_id=self.kiosk_id)
                self._raise_floor(kept)
                return bundle
            try:
                bundle = open_bundle(data, self.key, floor=self.floor(), kiosk_id=self.kiosk_id)
            except BundleError as error:
                self._remember_error(str(error), _sha256(data))
                raise
            self._write_version(bundle)
            self._remember_error(None)
        log.info('content: version %d verified and staged', bundle.manifest.version)
        return bundle

    def activate_due(self) -> int | None:
        """Switch to the staged version if its time has come; the version switched to, or None."""
        with self._locked():
            staged = self.staged()
            if staged is None or (staged.activate_at and staged.activate_at.timestamp() > self.clock()):
                return None
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

    def _switch(self, version: int) -> None:
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
        state = ContentState(error, datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec='seconds')
                             if error else None, refused_sha256)
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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pause_at(step: str) -> None:
    if os.environ.get(PAUSE_ENV) == step:
        print(f'content: paused at {step}', file=sys.stderr, flush=True)
        while True:
            time.sleep(60)
