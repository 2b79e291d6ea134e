"""A published content version as one signed file: the hub builds and signs it, a kiosk opens and verifies it.

The bundle is a plain tar holding `manifest.json`, `manifest.sig` (Ed25519 over the manifest's exact bytes)
and the files the manifest lists (`programs.toml`, and any file it names). It is the same file whether it
comes from the hub's API, from `kiosk hub export-content` or from a USB stick, so there is one way to check
it. A kiosk checks, in this order, and refuses at the first failure with the reason: the signature, the
version against the highest it has accepted (no replay of an older bundle), the targets, each file's size
and SHA-256, and the kiosk's own content validation (kiosk/content.py, as `kiosk check` runs it).
Nothing is ever extracted by tarfile itself: members are read as bytes and names are checked, so a link, an
absolute path or `..` cannot write outside the kiosk's content directory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from kiosk.content import Catalog, ContentError, parse_catalog

MANIFEST = 'manifest.json'
SIGNATURE = 'manifest.sig'
PROGRAMS = 'programs.toml'
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_BUNDLE_BYTES = 32 * 1024 * 1024
MAX_FILES = 100
MEDIA_TYPE = 'application/x-tar'
# A file name in a bundle: a plain relative path of simple parts (no `..`, no leading `/`, no backslash).
FILE_NAME = re.compile(r'^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}){0,3}$')


class BundleError(Exception):
    """The bundle is refused; the message says why in one line (shown by `kiosk content`, reported to the hub)."""


class FileEntry(BaseModel):
    model_config = ConfigDict(extra='forbid', frozen=True)

    sha256: str = Field(pattern=r'^[0-9a-f]{64}$')
    size: int = Field(ge=0, le=MAX_FILE_BYTES)


class Manifest(BaseModel):
    """What a bundle promises; signed, so every field is the publisher's word."""

    model_config = ConfigDict(extra='forbid', frozen=True)

    version: int = Field(ge=1, le=2 ** 31 - 1)
    created_at: AwareDatetime
    activate_at: AwareDatetime | None = None
    targets: Literal['all'] | list[str] = 'all'
    files: dict[str, FileEntry] = Field(max_length=MAX_FILES)

    def targets_kiosk(self, kiosk_id: str) -> bool:
        return self.targets == 'all' or kiosk_id in self.targets


@dataclass(frozen=True)
class Bundle:
    """An opened and verified bundle: every file checked against the signed manifest."""

    manifest: Manifest
    manifest_bytes: bytes
    signature: bytes
    files: dict[str, bytes]
    catalog: Catalog
    sha256: str  # of the whole bundle file: the hub's ETag, and how the kiosk names what it runs


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte public key in base64: one short line to paste into `kiosk trust-key`."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes_raw()).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise BundleError('not an Ed25519 public key (44 characters of base64, as `kiosk hub keygen` prints)') \
            from None


def build(files: dict[str, bytes], version: int, key: Ed25519PrivateKey, *, targets: Literal['all'] | list[str] = 'all',
          activate_at: datetime | None = None, created_at: datetime | None = None) -> bytes:
    """The signed tar for these files (`programs.toml` among them, checked as a kiosk would check it)."""
    if PROGRAMS not in files:
        raise BundleError(f'a bundle needs {PROGRAMS}')
    for name, data in files.items():
        _check_name(name)
        if len(data) > MAX_FILE_BYTES:
            raise BundleError(f'{name}: over {MAX_FILE_BYTES} bytes')
    parse_catalog(files[PROGRAMS], PROGRAMS)
    manifest = Manifest(version=version, created_at=created_at or datetime.now(UTC), activate_at=activate_at,
                        targets=targets,
                        files={name: FileEntry(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
                               for name, data in sorted(files.items())})
    manifest_bytes = manifest.model_dump_json(indent=2).encode()
    members = {MANIFEST: manifest_bytes, SIGNATURE: key.sign(manifest_bytes), **dict(sorted(files.items()))}
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode='w', format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, int(manifest.created_at.timestamp())
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def open_bundle(data: bytes, key: Ed25519PublicKey, *, floor: int, kiosk_id: str) -> Bundle:
    """Verify a bundle, in the order the contract gives; BundleError says which check refused it."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(f'over {MAX_BUNDLE_BYTES} bytes')
    members = _members(data)
    manifest_bytes, signature = members.pop(MANIFEST, None), members.pop(SIGNATURE, None)
    if manifest_bytes is None or signature is None:
        raise BundleError(f'not a content bundle: no {MANIFEST} or {SIGNATURE}')
    try:
        key.verify(signature, manifest_bytes)
    except InvalidSignature:
        raise BundleError('the signature does not match the trusted key (a changed manifest, or another '
                          "publisher's key)") from None
    manifest = _parse_manifest(manifest_bytes)
    if manifest.version <= floor:
        raise BundleError(f'version {manifest.version} is not above {floor}, the highest this kiosk accepted '
                          '(an older bundle is never taken again)')
    if not manifest.targets_kiosk(kiosk_id):
        raise BundleError(f'version {manifest.version} is not meant for this kiosk ({kiosk_id})')
    if set(members) != set(manifest.files):
        extra, missing = sorted(set(members) - set(manifest.files)), sorted(set(manifest.files) - set(members))
        raise BundleError(f'the files differ from the manifest (unlisted: {extra}, missing: {missing})')
    for name, entry in manifest.files.items():
        if len(members[name]) != entry.size:
            raise BundleError(f'{name}: {len(members[name])} bytes, the manifest says {entry.size}')
        if hashlib.sha256(members[name]).hexdigest() != entry.sha256:
            raise BundleError(f'{name}: its SHA-256 differs from the manifest (the file was changed)')
    if PROGRAMS not in members:
        raise BundleError(f'no {PROGRAMS} in the bundle')
    try:
        catalog = parse_catalog(members[PROGRAMS], PROGRAMS)
    except ContentError as error:
        raise BundleError(f'the programs file does not pass `kiosk check`: {"; ".join(error.problems)}') from None
    return Bundle(manifest, manifest_bytes, signature, members, catalog, hashlib.sha256(data).hexdigest())


def programs_of(data: bytes) -> bytes:
    """The programs file of a bundle the hub signed and stored itself (no check: for showing and comparing)."""
    return _members(data)[PROGRAMS]


def _members(data: bytes) -> dict[str, bytes]:
    """Every member as bytes; anything but a plain file with a plain relative name refuses the whole bundle."""
    members: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode='r:') as tar:
            for info in tar:
                if not info.isfile():
                    raise BundleError(f'{info.name!r}: only plain files belong in a bundle (a link or device is '
                                      'refused)')
                if info.name not in (MANIFEST, SIGNATURE):
                    _check_name(info.name)
                if info.name in members:
                    raise BundleError(f'{info.name!r} appears twice')
                if len(members) >= MAX_FILES + 2:
                    raise BundleError(f'more than {MAX_FILES} files')
                if info.size > MAX_FILE_BYTES:
                    raise BundleError(f'{info.name}: over {MAX_FILE_BYTES} bytes')
                total += info.size
                if total > MAX_BUNDLE_BYTES:
                    raise BundleError(f'over {MAX_BUNDLE_BYTES} bytes')
                members[info.name] = tar.extractfile(info).read()
    except (tarfile.TarError, EOFError) as error:
        raise BundleError(f'not a readable tar file ({error})') from None
    return members


def _check_name(name: str) -> None:
    if not FILE_NAME.fullmatch(name) or name in (MANIFEST, SIGNATURE):
        raise BundleError(f'{name!r}: not an allowed file name (absolute, `..`, or odd characters)')


def _parse_manifest(data: bytes | None) -> Manifest:
    if data is None:
        raise BundleError(f'not a content bundle: no {MANIFEST}')
    try:
        return Manifest.model_validate(json.loads(data))
    except (ValueError, ValidationError) as error:
        raise BundleError(f'{MANIFEST} is not a manifest ({str(error).splitlines()[0]})') from None
