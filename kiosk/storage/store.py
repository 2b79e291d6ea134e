"""The sign-up store: TinyDB files in the data directory, one writer at a time across processes.

Layout (all 0600, in a 0700 directory):
  signups.json                      the live TinyDB file, table `signups`, plus `_meta` (schema version)
  archive/signups-YYYY-MM.json      older records, moved out by creation month, same format
  signups.lock                      the cross-process lock held for every read-modify-write
  signups.corrupt-<time>.json       a file that did not parse, moved aside (never deleted)

Why the archive: TinyDB rewrites a whole file on every write, so saving a sign-up costs time in
proportion to the file. Keeping the live file to at most LIVE_LIMIT records keeps a save quick even
with years of records stored, and the archives are only rewritten when their records change.

Why the index: the staff list shows a page of the newest matching records out of tens of thousands.
The store keeps, in memory, a few fields of every record (time, id, program, status, handled), sorted
newest first, and rebuilds a file's part only when that file changed (a write here or in another
process), so a page filters that index and copies 25 records instead of sorting every record.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from filelock import FileLock
from tinydb.table import Table

from kiosk.signups import SCHEMA_VERSION, STATUSES
from kiosk.storage.atomic import AtomicJSONStorage, CorruptFile, private_dir, remove_orphan_temp_files

log = logging.getLogger('kiosk.storage')

LIVE_NAME = 'signups.json'
TABLE = 'signups'
META_TABLE = '_meta'
LIVE_LIMIT = 2000
SELECTIONS_KEPT = 8  # the console's list, its charts, and a few filters staff switch between


class StoreUnavailable(Exception):
    """The disk refused a write (full, read-only, broken). Nothing was changed."""


Record = dict[str, Any]


@dataclass(frozen=True)
class Selection:
    """Which records the staff list shows: None means any program or any status."""

    program: str | None = None
    status: str | None = None
    include_pulled: bool = False
    since: str | None = None  # only those created at or after this ISO time

    def __contains__(self, entry: _Entry) -> bool:
        return ((self.program is None or entry.program == self.program)
                and (self.status is None or entry.status == self.status)
                and (self.include_pulled or not entry.pulled)
                and (self.since is None or entry.created_at >= self.since))


@dataclass(frozen=True)
class Page:
    records: list[Record]  # newest first
    total: int  # how many match in all
    offset: int  # where `records` starts among them (the first page is 0)


class _Entry(NamedTuple):
    """What the index keeps of a record: enough to select, sort and find it again."""

    created_at: str
    id: str
    program: str | None
    status: str
    pulled: bool
    path: Path
    doc_id: str


class _Index(NamedTuple):
    versions: tuple  # (path, file version) of every file it was built from
    entries: list[_Entry]  # newest first, each id once
    counts: dict[str, int]


class SignupStore:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.live_path = data_dir / LIVE_NAME
        self.archive_dir = data_dir / 'archive'
        self._storages: dict[Path, AtomicJSONStorage] = {}
        self._threads = threading.RLock()
        self._files = FileLock(data_dir / 'signups.lock', mode=0o600, timeout=60)
        self._file_entries: dict[Path, tuple[Any, list[_Entry]]] = {}  # per file: its version and its entries
        self._index: _Index | None = None
        self._selected: dict[Selection, list[_Entry]] = {}  # per selection asked for since the index was built

    # -- start-up ---------------------------------------------------------------------------------

    def open(self) -> None:
        """Make the store usable after whatever happened before: a crash, a power cut, a bad file."""
        private_dir(self.data_dir)
        with self._locked():
            for directory in (self.data_dir, self.archive_dir):
                if directory.exists() and (orphans := remove_orphan_temp_files(directory)):
                    log.warning('removed %d unfinished temporary file(s) in %s', len(orphans), directory)
            for path in self._shard_paths():
                self._table(path)  # quarantines a file that does not parse
            self._check_schema()
            self._rotate()
            self._current_index()  # built now, at start-up, not when staff first open the console

    def quarantined_files(self) -> list[Path]:
        """Files moved aside because they did not parse: staff must be told."""
        return sorted([*self.data_dir.glob('*.corrupt-*.json'), *self.archive_dir.glob('*.corrupt-*.json')])

    # -- writes -----------------------------------------------------------------------------------

    def add(self, record: Record) -> None:
        """Durably store a new record: when this returns, it is on disk (fsync'd)."""
        with self._locked():
            self._write(lambda: self._table(self.live_path).insert(record))
            if self._count(self.live_path) > 2 * LIVE_LIMIT:  # rotation normally runs at start and nightly
                self._rotate()

    def update(self, ids: set[str] | list[str], change: Callable[[Record], None] | Record) -> int:
        """Apply `change` (fields to set, or a function that edits a record) to the records with these ids."""
        wanted = set(ids)
        return self._write_where(lambda record: record.get('id') in wanted,
                                 lambda table, doc_ids: table.update(change, doc_ids=doc_ids))

    def retry_rejected(self) -> int:
        """Staff's Retry: every rejected record queued again, its error and rejection time cleared; how many."""
        rejected = self.records(lambda record: record.get('status') == 'rejected')
        self.update({record['id'] for record in rejected},
                    {'status': 'queued', 'last_error': None, 'rejected_at': None})
        return len(rejected)

    def mark_pulled(self, ids: set[str], at: datetime) -> int:
        """Staff exported these records at `at`: the staff list leaves them out unless asked to show pulled ones."""
        return self.update(ids, {'pulled_at': at.isoformat(timespec='seconds')})

    def remove(self, condition: Callable[[Record], bool]) -> int:
        return self._write_where(condition, lambda table, doc_ids: table.remove(doc_ids=doc_ids))

    def rotate(self) -> None:
        with self._locked():
            self._rotate()

    # -- reads ------------------------------------------------------------------------------------

    def records(self, condition: Callable[[Record], bool] | None = None) -> list[Record]:
        """Matching records, newest first, each id once (a rotation cut short can leave two copies)."""
        seen: set[str] = set()
        found: list[Record] = []
        with self._locked(reading=True):
            for path in self._shard_paths():
                for record in self._raw(self._table(path)).values():
                    if record.get('id') not in seen and (condition is None or condition(record)):
                        seen.add(record.get('id'))
                        found.append(dict(record))
        found.sort(key=lambda record: record.get('created_at') or '', reverse=True)
        return found

    def counts(self) -> dict[str, int]:
        """Records per status, from the index (health checks call this often)."""
        with self._locked(reading=True):
            return dict(self._current_index().counts)

    def listing(self, selection: Selection, offset: int = 0, limit: int | None = None) -> Page:
        """The selected records newest first, from `offset`, at most `limit` of them (None: all), and how many
        are selected in all. Only the records returned are copied."""
        with self._locked(reading=True):
            index = self._current_index()
            selected = self._selected.get(selection)
            if selected is None:
                if len(self._selected) >= SELECTIONS_KEPT:
                    self._selected.clear()
                selected = self._selected[selection] = [entry for entry in index.entries if entry in selection]
            if offset >= len(selected):  # past the end (marking shortened the list): the last page
                offset = (max(len(selected) - 1, 0) // limit) * limit if limit else len(selected)
            offset = max(0, offset)
            chosen = selected[offset:] if limit is None else selected[offset:offset + limit]
            raw = {path: self._raw(self._table(path)) for path in {entry.path for entry in chosen}}
            return Page([dict(raw[entry.path][entry.doc_id]) for entry in chosen], len(selected), offset)

    # -- inside the lock --------------------------------------------------------------------------

    @contextmanager
    def _locked(self, *, reading: bool = False) -> Iterator[None]:
        """Hold the cross-process lock. On a read-only disk nobody can write, so reading goes ahead without it."""
        with self._threads:
            try:
                self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._files.acquire()
            except OSError as error:
                if reading and error.errno == errno.EROFS:
                    yield
                    return
                log.error('could not lock the sign-up store: %s', error.strerror or error)
                raise StoreUnavailable(error.strerror or str(error)) from error
            try:
                yield
            finally:
                self._files.release()

    def _current_index(self) -> _Index:
        """The index of every file as it is now; a file's part is rebuilt only if the file changed."""
        versions = []
        for path in self._shard_paths():
            raw = self._raw(self._table(path))
            version = self._storages[path].version
            known = self._file_entries.get(path)
            if known is None or known[0] != version:
                self._file_entries[path] = (version, [
                    _Entry(record.get('created_at') or '', record.get('id'), record.get('program'),
                           record.get('status', 'queued'), bool(record.get('pulled_at')), path, doc_id)
                    for doc_id, record in raw.items()])
            versions.append((path, version))
        if self._index is None or self._index.versions != tuple(versions):
            for gone in set(self._file_entries) - {path for path, _ in versions}:
                del self._file_entries[gone]
            seen: set[str] = set()
            entries = []
            for path, _ in versions:  # the live file first: a rotation cut short leaves an older copy behind
                for entry in self._file_entries[path][1]:
                    if entry.id not in seen:
                        seen.add(entry.id)
                        entries.append(entry)
            entries.sort(key=lambda entry: entry.created_at, reverse=True)
            self._index = _Index(tuple(versions), entries,
                                 {**dict.fromkeys(STATUSES, 0), **Counter(entry.status for entry in entries)})
            self._selected.clear()
        return self._index

    def _shard_paths(self) -> list[Path]:
        archives = sorted(self.archive_dir.glob('signups-????-??.json')) if self.archive_dir.exists() else []
        return [self.live_path, *archives]

    def _table(self, path: Path, name: str = TABLE) -> Table:
        storage = self._storages.setdefault(path, AtomicJSONStorage(path))
        try:
            storage.read()
        except CorruptFile as error:
            self._quarantine(path, error)
        return Table(storage, name, cache_size=0)  # no query cache: another process may change the file

    @staticmethod
    def _raw(table: Table) -> dict[str, Record]:
        """The stored dicts by document id, without TinyDB's per-document conversion (they are not copies)."""
        return (table.storage.read() or {}).get(table.name, {})

    def _count(self, path: Path) -> int:
        return len(self._raw(self._table(path)))

    def _write_where(self, condition: Callable[[Record], bool], operation: Callable[[Table, list[int]], Any]) -> int:
        """Run `operation` on the matching documents of each file that has any; returns how many matched."""
        matched = 0
        with self._locked():
            for path in self._shard_paths():
                table = self._table(path)
                doc_ids = [int(doc_id) for doc_id, record in self._raw(table).items() if condition(record)]
                if doc_ids:
                    self._write(lambda table=table, doc_ids=doc_ids: operation(table, doc_ids))
                    matched += len(doc_ids)
        return matched

    def _write(self, operation: Callable[[], Any]) -> Any:
        try:
            return operation()
        except OSError as error:
            log.error('could not write sign-ups: %s', error.strerror or error)
            raise StoreUnavailable(error.strerror or str(error)) from error

    def _quarantine(self, path: Path, error: CorruptFile) -> None:
        stamp = datetime.now().strftime('%Y%m%dT%H%M%S')
        target = path.with_name(f'{path.stem}.corrupt-{stamp}.json')
        try:
            path.replace(target)
            target.chmod(0o600)
        except OSError as move_error:
            raise StoreUnavailable(f'{path.name} did not parse and could not be moved aside: {move_error}') from error
        log.error('%s did not parse (%s); moved it to %s and started that file afresh', path.name, error, target.name)

    def _check_schema(self) -> None:
        meta = self._table(self.live_path, META_TABLE)
        stored = self._raw(meta).get('1', {}).get('schema_version')
        if stored is None:
            self._write(lambda: meta.insert({'schema_version': SCHEMA_VERSION}))
        elif stored > SCHEMA_VERSION:
            log.error('signups.json has schema %s, newer than this kiosk understands (%s)', stored, SCHEMA_VERSION)

    def _rotate(self) -> None:
        """Move the oldest live records into monthly archives until the live file holds LIVE_LIMIT // 2.

        Archives are written first, then the live file: a crash in between leaves a record in both,
        which reads de-duplicate and the next rotation finishes.
        """
        live = self._table(self.live_path)
        raw = self._raw(live)
        if len(raw) <= LIVE_LIMIT:
            return
        oldest = sorted(raw.items(), key=lambda item: item[1].get('created_at') or '')[:len(raw) - LIVE_LIMIT // 2]
        by_month: dict[str, list[Record]] = {}
        for _doc_id, record in oldest:
            by_month.setdefault((record.get('created_at') or '0000-00')[:7], []).append(record)
        self.archive_dir.mkdir(mode=0o700, exist_ok=True)
        for month, records in by_month.items():
            archive = self._table(self.archive_dir / f'signups-{month}.json')
            present = {record.get('id') for record in self._raw(archive).values()}
            missing = [record for record in records if record.get('id') not in present]
            if missing:
                self._write(lambda archive=archive, missing=missing: archive.insert_multiple(missing))
        self._write(lambda: live.remove(doc_ids=[int(doc_id) for doc_id, _ in oldest]))
        log.info('moved %d older sign-ups into the monthly archive', len(oldest))
