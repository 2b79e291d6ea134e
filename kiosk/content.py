"""The programs shown on the kiosk, read from `assets/programs.toml` and validated before anything is shown."""

from __future__ import annotations

import hashlib
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, ValidationError, model_validator

from kiosk.config import Language
from kiosk.meetings import MeetingRule
from kiosk.phone import to_e164


class ContentError(Exception):
    """The programs file is wrong; `problems` holds one line per mistake."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__('\n'.join(problems))
        self.problems = problems


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError('must not be empty')
    return text.strip()


Text = Annotated[str, AfterValidator(_not_blank)]


def _phone(text: str) -> str:
    e164 = to_e164(text)
    if e164 is None:
        raise ValueError('not a phone number')
    return e164


Phone = Annotated[str, AfterValidator(_phone)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra='forbid', frozen=True)


class Words(_Strict):
    """One language's text for a program."""

    title: Text
    summary: Text = Field(max_length=200)
    body: Text
    facts: list[Text] = []


class AgeLimit(_Strict):
    """Who may take part; `participant` says whose age and name the sign-up form asks for."""

    min: int = Field(ge=0, le=120)
    max: int = Field(ge=0, le=120)
    participant: Literal['child', 'self'] = 'self'

    @model_validator(mode='after')
    def _ordered(self) -> AgeLimit:
        if self.min > self.max:
            raise ValueError('min is above max')
        return self


class Program(_Strict):
    slug: str = Field(pattern=r'^[a-z0-9]+(-[a-z0-9]+)*$', max_length=40)
    url: HttpUrl | None = None
    url_purpose: Literal['apply', 'info'] = 'apply'
    phone: Phone | None = None
    signup: bool = True
    call_first: bool = False
    count_views: bool = True
    age: AgeLimit | None = None
    meetings: MeetingRule | None = None
    en: Words
    es: Words

    def words(self, language: Language) -> Words:
        return self.es if language == 'es' else self.en


class Department(_Strict):
    """Who runs the kiosk: the number the night screen gives when nobody can be reached on site."""

    phone: Phone


class Catalog(_Strict):
    department: Department | None = None
    program: list[Program] = Field(min_length=1)

    @model_validator(mode='after')
    def _unique_slugs(self) -> Catalog:
        slugs = [p.slug for p in self.program]
        duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
        if duplicates:
            raise ValueError(f'duplicate slug: {", ".join(duplicates)}')
        return self

    @cached_property
    def by_slug(self) -> dict[str, Program]:
        return {p.slug: p for p in self.program}

    @property
    def outreach(self) -> Program | None:
        """The program whose meetings the attract screen announces."""
        return next((p for p in self.program if p.meetings), None)


def load_catalog(path: Path) -> Catalog:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ContentError([f'{path}: file not found']) from None
    except OSError as error:
        raise ContentError([f'{path}: {error}']) from None
    return parse_catalog(data, str(path))


def parse_catalog(data: bytes, source: str) -> Catalog:
    """The same checks as `kiosk check`, on bytes: a bundle's programs file is checked before it touches the disk."""
    try:
        raw = tomllib.loads(data.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ContentError([f'{source}: {error}']) from None
    try:
        return Catalog.model_validate(raw)
    except ValidationError as error:
        raise ContentError(_describe(source, raw, error)) from None


def _describe(source: str, raw: dict, error: ValidationError) -> list[str]:
    """Turn pydantic's locations into `file: program 3 (hmca): phone: not a phone number`."""
    programs = raw.get('program') if isinstance(raw.get('program'), list) else []
    lines = []
    for item in error.errors():
        loc = list(item['loc'])
        where = [source]
        if len(loc) >= 2 and loc[0] == 'program' and isinstance(loc[1], int):
            index = loc[1]
            entry = programs[index] if index < len(programs) and isinstance(programs[index], dict) else {}
            where.append(f'program {index + 1} ({entry.get("slug", "?")})')
            loc = loc[2:]
        field = '.'.join(str(part) for part in loc) or 'programs'
        lines.append(f'{": ".join(where)}: {field}: {_message(item)}')
    return lines


def _message(item: dict) -> str:
    return 'not a known field' if item['type'] == 'extra_forbidden' else str(item['msg']).removeprefix('Value error, ')


def field_problems(raw: dict) -> dict[tuple, list[str]]:
    """The same checks as `kiosk check`, by field: {('program', 0, 'es', 'title'): ['must not be empty']}, so a
    form can say each problem next to its field. Empty when the catalog is valid."""
    try:
        Catalog.model_validate(raw)
    except ValidationError as error:
        problems: dict[tuple, list[str]] = {}
        for item in error.errors():
            problems.setdefault(tuple(item['loc']), []).append(_message(item))
        return problems
    return {}


def content_hash(path: Path) -> str:
    """Which version of the programs file this kiosk shows; the hub's fleet page compares them."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
