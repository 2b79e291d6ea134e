"""Published content at the hub: the signing key, the Content page's draft, publishing a programs file as the next
signed version, and serving each kiosk the newest version meant for it.

A version is built once, signed with the key in `signing_key_file` (outside the database) and stored as those
exact bytes, so the API, `kiosk hub export-content` and a USB stick all carry the same file, and its SHA-256
is its strong ETag. A kiosk that already has it asks with `If-None-Match` and gets a 304 from one small query
that never reads a bundle. The programs file is checked by the kiosk's own model (kiosk/content.py) before
anything is signed.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import tomli_w
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from kiosk.bundle import MEDIA_TYPE, PROGRAMS, BundleError, build, programs_of
from kiosk.content import Catalog, ContentError, field_problems, parse_catalog
from kiosk.hub import db, rollout
from kiosk.hub.config import HubSettings
from kiosk.hub.ingest import kiosk_for_bearer
from kiosk.paths import ASSETS_DIR
from kiosk.qr import QrAction, too_dense

log = logging.getLogger('kiosk.hub')

NOTE_MAX = 500
FACTORY_PROGRAMS = ASSETS_DIR / 'programs.toml'  # version 0: what every kiosk shows before a first publish
DEFAULT_SOAK_MINUTES = HubSettings.model_fields['rollout_soak_minutes'].default


class PublishError(Exception):
    """Nothing was published; the message says why (one line, or the programs file's problems)."""


def write_signing_key(path: Path) -> Ed25519PrivateKey:
    """A new Ed25519 key in `path` (PKCS#8 PEM, 0600); an existing key is never overwritten: kiosks trust it."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # FileExistsError: refuse
    with os.fdopen(descriptor, 'wb') as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())
    return key


def read_signing_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise PublishError(f'no signing key at {path}: run `kiosk hub keygen` once (KIOSK_HUB_SIGNING_KEY_FILE)') \
            from None
    except (OSError, ValueError) as error:
        raise PublishError(f'{path}: not a usable signing key ({error})') from None
    if not isinstance(key, Ed25519PrivateKey):
        raise PublishError(f'{path}: not an Ed25519 key')
    return key


async def publish(conn: AsyncConnection, key: Ed25519PrivateKey, programs: bytes, *, note: str, published_by: str,
                  targets: list[str] | None = None, activate_at: datetime | None = None,
                  source: str = PROGRAMS, soak_minutes: float = DEFAULT_SOAK_MINUTES) -> tuple[int, str]:
    """Check, sign and store the programs file as the next version (the first is 1) and start its rollout (pass
    the hub's `rollout_soak_minutes`), audited; (version, sha256)."""
    note = note.strip()
    if not note or len(note) > NOTE_MAX:
        raise PublishError(f'a release note is required (1 to {NOTE_MAX} characters): say what changed')
    catalog = parse_catalog(programs, source)  # ContentError lists every problem, as `kiosk check` does
    if dense := too_dense(catalog, datetime.now(UTC)):
        raise ContentError([f'{source}: program {index + 1} ({catalog.program[index].slug}): '
                            f'{_too_dense(action, language)}' for index, language, action in dense])
    async with conn.transaction():
        if targets and (unknown := sorted(set(targets) - set(await db.active_kiosk_names(conn)))):
            raise PublishError(f'no kiosk is named {", ".join(unknown)} (a typo, or revoked): the Kiosks page lists '
                               'them')
        version = await db.lock_content_versions(conn) + 1
        bundle = build({PROGRAMS: programs}, version, key, targets=targets or 'all', activate_at=activate_at)
        sha256 = hashlib.sha256(bundle).hexdigest()
        await db.insert_content_version(conn, version, bundle, sha256, note, published_by, targets, activate_at)
        await db.audit(conn, published_by, 'content_published',
                       {'version': version, 'sha256': sha256, 'note': note, 'targets': targets or 'all',
                        'activate_at': activate_at.isoformat() if activate_at else None})
        await rollout.start(conn, version, targets, soak_minutes, published_by)
    return version, sha256


class ProgramTitles(Mapping[str, str]):
    """slug -> English title, for the hub's screens, mail and the Users screen's program boxes: each program as the
    newest published version that has it names it, newest first, then the factory file's (a sign-up for a program
    since retired keeps its name, and its coordinators stay in the Users grid). Screens and mail call `refresh`
    first; it reads the stored versions again only when the newest one has changed, in any hub process, so a
    program added at the Content page can be given a coordinator at once."""

    def __init__(self) -> None:
        self._factory = _titles(FACTORY_PROGRAMS.read_bytes())
        self._titles = self._factory
        self._newest: str | None = None  # the newest version's sha256 when the titles were read (None: none yet)

    async def refresh(self, conn: AsyncConnection) -> None:
        newest = await db.newest_content_sha256(conn)
        if newest == self._newest:
            return
        titles: dict[str, str] = {}
        for bundle in await db.content_bundles(conn):  # newest first
            try:
                programs = programs_of(bundle)
            except (BundleError, KeyError) as error:
                log.error('a stored content bundle has no readable programs file: %s', error)
                continue
            for slug, title in _titles(programs).items():
                titles.setdefault(slug, title)
        self._titles = titles | {slug: title for slug, title in self._factory.items() if slug not in titles}
        self._newest = newest

    def __getitem__(self, slug: str) -> str:
        return self._titles[slug]

    def __iter__(self) -> Iterator[str]:
        return iter(self._titles)

    def __len__(self) -> int:
        return len(self._titles)


def _titles(programs: bytes) -> dict[str, str]:
    """Only each program's slug and English title, read leniently: a version a later, stricter model would refuse
    must not take the hub's screens down with it."""
    try:
        data = tomllib.loads(programs.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        log.error('a published programs file does not parse: %s', error)
        return {}
    titles = {}
    for program in data.get('program') or []:
        slug = program.get('slug') if isinstance(program, dict) else None
        title = (program.get('en') or {}).get('title') if isinstance(slug, str) else None
        if isinstance(title, str):
            titles[slug] = title
    return titles


# -- the draft: edited on the Content page, kept in the database, published through publish() ---------------


@dataclass(frozen=True)
class Draft:
    """What the Content page starts from: the saved draft, else the newest published version, else the factory
    file. `published` is the programs file it is compared with, and `published_version` its number (0: factory)."""

    programs: str
    published: str
    published_version: int
    saved_by: str | None = None
    saved_at: datetime | None = None

    @property
    def data(self) -> dict:
        return tomllib.loads(self.programs)


async def current_draft(conn: AsyncConnection) -> Draft:
    newest = await db.newest_content(conn)
    published = programs_of(bytes(newest['bundle'])).decode() if newest else FACTORY_PROGRAMS.read_text()
    version = newest['version'] if newest else 0
    saved = await db.content_draft(conn)
    if saved:
        return Draft(saved['programs'], published, version, saved['saved_by'], saved['saved_at'])
    return Draft(programs_toml(tomllib.loads(published)), published, version)


def programs_toml(data: dict) -> str:
    """The draft as a programs file: the form's values, in the kiosk's own layout of keys."""
    return tomli_w.dumps(data, multiline_strings=True)


def draft_problems(data: dict) -> dict[tuple, list[str]]:
    """Field by field: the kiosk's own checks (kiosk/content.py, as `kiosk check`), https for every URL, as a
    published URL is opened on a visitor's phone, and every QR code small enough to scan from the screen."""
    problems = field_problems(data)
    for index, program in enumerate(data.get('program') or []):
        url = program.get('url') if isinstance(program, dict) else None
        if isinstance(url, str) and url.strip() and not url.strip().lower().startswith('https://'):
            problems.setdefault(('program', index, 'url'), []).append('must start with https://')
    if not problems:
        for index, language, action in too_dense(Catalog.model_validate(data), datetime.now(UTC)):
            field = ('program', index, 'url') if action.mark == 'qr-url' else ('program', index, 'meetings', 'location')
            problems.setdefault(field, []).append(_too_dense(action, language))
    return problems


def _too_dense(action: QrAction, language: str) -> str:
    what = 'link' if action.mark == 'qr-url' else f'calendar event ({language}); shorten the place or the name'
    return f'too long for a QR code a phone can read from the screen: the {what}'


def draft_diff(draft: Draft) -> str:
    """A unified diff of the published programs file against the draft, both written the same way (so it shows
    what changed, not how the file was laid out); empty when they say the same."""
    published = programs_toml(tomllib.loads(draft.published)).splitlines(keepends=True)
    drafted = programs_toml(draft.data).splitlines(keepends=True)
    return ''.join(difflib.unified_diff(published, drafted, f'version {draft.published_version}', 'draft'))


async def save_draft(conn: AsyncConnection, data: dict, saved_by: str) -> datetime:
    """Keep the form as the one current draft (problems and all), audited."""
    async with conn.transaction():
        saved_at = await db.save_content_draft(conn, programs_toml(data), saved_by)
        await db.audit(conn, saved_by, 'content_draft_saved', {'problems': len(draft_problems(data))})
    return saved_at


async def publish_draft(conn: AsyncConnection, key: Ed25519PrivateKey, *, note: str, published_by: str,
                        soak_minutes: float, expected: str | None = None) -> tuple[int, str]:
    """Publish the saved draft as the next version through publish() (the path `kiosk hub publish` takes); a draft
    with a problem is refused, and so is one that is not `expected` (someone else saved theirs meanwhile). The draft
    is then done with: the page starts again from what was published."""
    async with conn.transaction():
        saved = await db.content_draft(conn, lock=True)
        if saved is None:
            raise PublishError('there is no saved draft to publish')
        if expected is not None and saved['programs'] != expected:
            raise PublishError(f'{saved["saved_by"]} saved another draft meanwhile: open the page again to see it')
        problems = draft_problems(tomllib.loads(saved['programs']))
        if problems:
            raise PublishError(f'the draft has {len(problems)} problem(s): fix them first')
        published = await publish(conn, key, saved['programs'].encode(), note=note, published_by=published_by,
                                  soak_minutes=soak_minutes)
        await db.discard_content_draft(conn)
    return published


@dataclass
class Delivery:
    """The answer to `GET /api/v1/content`."""

    status: int
    body: bytes = b''
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str | None = None


async def newest_for_kiosk(pool: AsyncConnectionPool, authorization: str | None,
                           if_none_match: str | None) -> Delivery:
    """The newest bundle the rollouts allow the token's kiosk; 304 when the kiosk has it, 204 when there is none."""
    async with pool.connection() as conn:
        kiosk = await kiosk_for_bearer(conn, authorization)
        if kiosk is None:
            return Delivery(401, b'{"error":"unknown, expired or revoked token"}', {'WWW-Authenticate': 'Bearer'},
                            'application/json')
        newest = await db.newest_content_for(conn, kiosk)
        if newest is None:
            return Delivery(204)
        etag = f'"{newest["sha256"]}"'
        headers = {'ETag': etag, 'Cache-Control': 'no-cache'}
        if _matches(if_none_match, etag):
            return Delivery(304, headers=headers)
        bundle = await db.content_bundle(conn, newest['version'])
    return Delivery(200, bundle or b'', {**headers, 'Content-Disposition':
                                         f'attachment; filename="content-{newest["version"]}.tar"'}, MEDIA_TYPE)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110's If-None-Match: a list of tags (weak comparison) or `*`."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix('W/') for tag in if_none_match.split(',')]
    return '*' in tags or etag in tags
