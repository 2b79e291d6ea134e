"""The night: when the kiosk shows its dark "closed" screen instead of inviting people in.

`KIOSK_SLEEP = "22:00-06:00"` is a window in local time; it may cross midnight. A window whose ends
are equal would be always or never, which nobody means, so it is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_WINDOW = re.compile(r'^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$')


@dataclass(frozen=True)
class SleepWindow:
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> SleepWindow:
        match = _WINDOW.match(text.strip())
        if not match:
            raise ValueError(f'{text!r} is not a time window like "22:00-06:00" (24-hour HH:MM-HH:MM)')
        hour1, minute1, hour2, minute2 = (int(part) for part in match.groups())
        window = cls(time(hour1, minute1), time(hour2, minute2))
        if window.start == window.end:
            raise ValueError(f'{text!r} starts and ends at the same minute')
        return window

    def contains(self, moment: time) -> bool:
        """Start inclusive, end exclusive; a window like 22:00-06:00 wraps past midnight."""
        moment = moment.replace(second=0, microsecond=0, tzinfo=None)
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def next_change(self, moment: datetime) -> datetime:
        """The first minute after `moment` (a local time with its zone) at which the window opens or closes."""
        ends = (moment.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0) + timedelta(days=days)
                for end in (self.start, self.end) for days in (0, 1))
        return min(end for end in ends if end > moment)


def asleep(window: SleepWindow | None, timezone: str, now: datetime | None = None) -> bool:
    """Is it night at the kiosk now? Always False without a window."""
    if window is None:
        return False
    return window.contains((now or datetime.now(ZoneInfo(timezone))).astimezone(ZoneInfo(timezone)).time())


def seconds_until_change(window: SleepWindow, timezone: str, now: datetime | None = None) -> float:
    """How long until the kiosk opens or closes for the night, so a screen can change on the minute."""
    moment = (now or datetime.now(ZoneInfo(timezone))).astimezone(ZoneInfo(timezone))
    return window.next_change(moment).timestamp() - moment.timestamp()
