"""A TinyDB Storage whose every write is atomic and durable, and which notices other processes' writes.

TinyDB's JSONStorage truncates and rewrites in place, so a power cut mid-write leaves an empty or
half-written file. Here a write goes to a temporary file in the same directory, is flushed and
fsync'd, replaces the old file with os.replace, and the directory is fsync'd so the rename itself
survives a power cut. A reader therefore sees the old file or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

TEMP_SUFFIX = '.tmp'


class CorruptFile(Exception):
    """The file exists but is not a TinyDB JSON document."""


class AtomicJSONStorage(Storage):
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._cached: dict[str, Any] | None = None
        self._cached_stamp: tuple[int, int, int] | None = None

    def read(self) -> dict[str, Any] | None:
        """The whole database; re-read from disk only when the file changed (another process wrote it)."""
        stamp = self._stamp()
        if stamp is None:
            self._cached, self._cached_stamp = None, None
            return None
        if stamp != self._cached_stamp:
            try:
                data = json.loads(self.path.read_bytes())
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise CorruptFile(f'{self.path.name}: {error}') from None
            if not isinstance(data, dict) or not all(isinstance(table, dict) for table in data.values()):
                raise CorruptFile(f'{self.path.name}: not a TinyDB document')
            self._cached, self._cached_stamp = data, stamp
        return self._cached

    def write(self, data: dict[str, Any]) -> None:
        # TinyDB hands back the dict read() returned, already changed. If the write fails, that change
        # must not linger in the cache as if it were on disk, so drop the cache first.
        self._cached, self._cached_stamp = None, None
        write_atomically(self.path, json.dumps(data, ensure_ascii=False, separators=(',', ':')).encode())
        self._cached, self._cached_stamp = data, self._stamp()

    @property
    def version(self) -> tuple[int, int, int] | None:
        """Which state of the file the last read() or write() holds; it changes with every write."""
        return self._cached_stamp

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return info.st_ino, info.st_mtime_ns, info.st_size


def write_atomically(path: Path, content: bytes) -> None:
    """Replace `path` with `content` so that a crash at any moment leaves the old or the new file (0600)."""
    descriptor, temp_name = tempfile.mkstemp(prefix=f'.{path.name}.', suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(descriptor, 'wb') as file:  # mkstemp creates the file 0600 whatever the umask
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def private_dir(directory: Path) -> Path:
    """The data directory holds visitors' data: private to the kiosk's user (0700) whatever the umask."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    return directory


def remove_orphan_temp_files(directory: Path) -> list[Path]:
    """Temp files left by a write that a crash interrupted; call only while holding the store's lock."""
    orphans = [path for path in directory.glob(f'.*{TEMP_SUFFIX}') if path.is_file()]
    for path in orphans:
        path.unlink(missing_ok=True)
    return orphans
