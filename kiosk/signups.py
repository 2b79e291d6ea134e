"""A visitor's request to be contacted about a program: what the form accepts and what gets stored.

Validation errors carry an i18n key as their type (for example `error_phone`), so the screen can show
each problem next to its field in the visitor's language.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from kiosk.config import Language
from kiosk.content import Program
from kiosk.phone import to_e164

SCHEMA_VERSION = 1
ContactMethod = Literal['phone', 'text', 'email']
CONTACT_METHODS: tuple[ContactMethod, ...] = ('phone', 'text', 'email')
Status = Literal['queued', 'synced', 'rejected']
STATUSES: tuple[Status, ...] = ('queued', 'synced', 'rejected')

NAME_MAX = 100
NOTE_MAX = 500
EMAIL_MAX = 254
PHONE_MAX = 30
# Bidi overrides and isolates can make stored text display differently from what was typed.
_BIDI_CONTROLS = set('\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069')
_EMAIL = re.compile(r'^[^@\s<>()\[\],;:"\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
                    r'(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,}$')

# What the department receives; everything else in a record is the kiosk's own bookkeeping.
PAYLOAD_FIELDS = ('id', 'created_at', 'program', 'name', 'participant_name', 'phone', 'email', 'contact_method',
                  'age', 'note', 'language', 'consent', 'kiosk_id')
# `rejected_at` is set by the nightly upkeep the first night it finds a record rejected (kiosk.jobs).
BOOKKEEPING_FIELDS = ('status', 'attempts', 'last_error', 'synced_at', 'pulled_at', 'rejected_at')


class SignupInvalid(Exception):
    """The form has problems: field name -> (i18n key, values for the message)."""

    def __init__(self, problems: dict[str, tuple[str, dict[str, Any]]]) -> None:
        super().__init__(', '.join(f'{field}: {key}' for field, (key, _) in problems.items()))
        self.problems = problems


def _problem(key: str, **values: Any) -> PydanticCustomError:
    return PydanticCustomError(key, key, values)


def _plain_text(text: str, max_length: int, *, allow_newlines: bool = False) -> str:
    """Visitor text, trimmed: no control characters or bidi overrides, and not longer than `max_length`."""
    for char in text:
        if char in _BIDI_CONTROLS or (unicodedata.category(char) == 'Cc' and not (allow_newlines and char == '\n')):
            raise _problem('error_strange_characters')
    text = text.strip()
    if len(text) > max_length:
        raise _problem('error_too_long', max=max_length)
    return text


class SignupDetails(BaseModel):
    """What the visitor typed, checked against the program (context `program`). Field order matters:
    later checks look at earlier fields."""

    model_config = ConfigDict(extra='forbid', validate_default=True)  # a missing field is checked too

    name: str
    participant_name: str = ''
    email: str = ''
    phone: str = ''
    contact_method: ContactMethod | None = None
    age: int | None = None
    note: str = ''
    consent: bool = False

    @field_validator('name')
    @classmethod
    def _name(cls, value: str) -> str:
        value = _plain_text(value, NAME_MAX)
        if not value:
            raise _problem('error_name_required')
        return value

    @field_validator('participant_name')
    @classmethod
    def _participant(cls, value: str, info: ValidationInfo) -> str:
        value = _plain_text(value, NAME_MAX)
        program: Program = info.context['program']
        if program.age and program.age.participant == 'child' and not value:
            raise _problem('error_child_name_required')
        return value

    @field_validator('email')
    @classmethod
    def _email(cls, value: str) -> str:
        value = _plain_text(value, EMAIL_MAX)
        if value and not _EMAIL.match(value):
            raise _problem('error_email')
        return value

    @field_validator('phone')
    @classmethod
    def _phone(cls, value: str, info: ValidationInfo) -> str:
        value = _plain_text(value, PHONE_MAX)
        if not value:
            if info.data.get('email') == '':
                raise _problem('error_need_contact')
            return ''
        e164 = to_e164(value)
        if e164 is None:
            raise _problem('error_phone')
        return e164

    @field_validator('contact_method')
    @classmethod
    def _method(cls, value: ContactMethod | None, info: ValidationInfo) -> ContactMethod:
        if value is None:
            raise _problem('error_choose_method')
        if value == 'email' and info.data.get('email') == '':
            raise _problem('error_method_needs_email')
        if value in ('phone', 'text') and info.data.get('phone') == '':
            raise _problem('error_method_needs_phone')
        return value

    @field_validator('age', mode='before')
    @classmethod
    def _age(cls, value: Any, info: ValidationInfo) -> int | None:
        program: Program = info.context['program']
        if program.age is None:
            return None
        text = str(value if value is not None else '').strip()
        if not text:
            raise _problem('error_age_required')
        if not text.isascii() or not text.isdigit() or len(text) > 3:
            raise _problem('error_age_number')
        age = int(text)
        if not program.age.min <= age <= program.age.max:
            raise _problem('error_age_range', min=program.age.min, max=program.age.max)
        return age

    @field_validator('note')
    @classmethod
    def _note(cls, value: str) -> str:
        return _plain_text(value, NOTE_MAX, allow_newlines=True)

    @field_validator('consent')
    @classmethod
    def _consent(cls, value: bool) -> bool:
        if not value:
            raise _problem('error_consent')
        return value


def check_form(program: Program, form: dict[str, Any]) -> SignupDetails:
    """Validate everything at once, so the visitor sees every problem in one go."""
    try:
        return SignupDetails.model_validate(form, context={'program': program})
    except ValidationError as error:
        problems: dict[str, tuple[str, dict[str, Any]]] = {}
        for item in error.errors():
            field = str(item['loc'][0]) if item['loc'] else 'form'
            key = item['type'] if item['type'].startswith('error_') else 'error_invalid'
            problems.setdefault(field, (key, dict(item.get('ctx') or {})))
        raise SignupInvalid(problems) from None


def new_record(details: SignupDetails, program: Program, language: Language, kiosk_id: str,
               now: datetime) -> dict[str, Any]:
    """A queued record; its `id` never changes and is the receiver's idempotency key."""
    return {
        'id': str(uuid.uuid4()),
        'created_at': now.isoformat(timespec='seconds'),
        'program': program.slug,
        **details.model_dump(),
        'language': language,
        'kiosk_id': kiosk_id,
        'status': 'queued',
        'attempts': 0,
        'last_error': None,
        'synced_at': None,
        'pulled_at': None,
    }


def payload(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the department's endpoint receives it: no sync bookkeeping."""
    return {field: record.get(field) for field in PAYLOAD_FIELDS}
