"""When the next community meetings are, from a cron-like rule, and the calendar event a phone can import."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, model_validator


class MeetingRule(BaseModel):
    """A repeating meeting, for example quarterly on the second Thursday at 7 p.m."""

    model_config = ConfigDict(extra='forbid', frozen=True)

    months: str = Field(examples=['3,6,9,12'])
    day: str = Field(examples=['2nd thu'])
    hour: int = Field(ge=0, le=23)
    minute: int = Field(0, ge=0, le=59)
    timezone: str = 'America/Chicago'
    duration_minutes: int = Field(60, ge=1, le=24 * 60)
    summary_en: str
    summary_es: str
    location: str

    @model_validator(mode='after')
    def _valid_rule(self) -> MeetingRule:
        try:
            self.trigger  # noqa: B018 - building it is the check
        except ZoneInfoNotFoundError:
            raise ValueError(f'unknown time zone {self.timezone!r}') from None
        except ValueError as error:
            raise ValueError(f'not a valid schedule: {error}') from None
        return self

    @cached_property
    def trigger(self) -> CronTrigger:
        return CronTrigger(month=self.months, day=self.day, hour=self.hour, minute=self.minute,
                           timezone=ZoneInfo(self.timezone))

    def next_meetings(self, now: datetime, count: int = 4) -> list[datetime]:
        """The next `count` meeting starts after `now`, in the meeting's own time zone."""
        starts: list[datetime] = []
        after = now
        while len(starts) < count:
            start = self.trigger.get_next_fire_time(None, after)
            if start is None:
                break
            starts.append(start)
            after = start + timedelta(seconds=1)
        return starts

    def calendar_event(self, start: datetime, language: str) -> str:
        """A VEVENT that phone cameras offer to add to the calendar; UTC times need no VTIMEZONE.

        RFC 5545 requires DTSTAMP: it is the start itself, so one meeting always gives the same text and the
        same cached QR code.
        """
        end = start + timedelta(minutes=self.duration_minutes)
        from kiosk.i18n import meeting_time, t

        summary = t('calendar_title', language, summary=self.summary_es if language == 'es' else self.summary_en,
                    time=' '.join(meeting_time(start, language).split()))  # plain spaces for every calendar app
        lines = [
            'BEGIN:VEVENT',
            f'UID:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}-outreach@slmpd-kiosk',
            f'DTSTAMP:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}',
            f'DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}',
            f'DTEND:{end.astimezone(UTC):%Y%m%dT%H%M%SZ}',
            f'SUMMARY:{_escape(summary)}',
            f'LOCATION:{_escape(self.location)}',
            'END:VEVENT',
        ]
        return '\r\n'.join(map(_fold, lines))


def _escape(text: str) -> str:
    """RFC 5545 text escaping (3.3.11): every kind of line break becomes \\n, other control characters go."""
    text = text.replace('\r\n', '\n').replace('\r', '\n')
    text = ''.join(char for char in text if char in '\n\t' or unicodedata.category(char) != 'Cc')
    return text.replace('\\', '\\\\').replace(';', '\\;').replace(',', '\\,').replace('\n', '\\n')


def _fold(line: str, octets: int = 75) -> str:
    """RFC 5545 folding (3.1): at most 75 octets a line, never inside a multi-octet UTF-8 character."""
    parts, part = [], ''
    for char in line:
        if len((part + char).encode()) > octets:
            parts.append(part)
            part = ' '
        part += char
    return '\r\n'.join([*parts, part])
