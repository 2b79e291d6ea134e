"""Hub settings, in rising precedence: defaults < TOML (KIOSK_HUB_CONFIG) < KIOSK_HUB_* environment < flags."""

from __future__ import annotations

from datetime import date
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from kiosk.config import LayeredSettings, build_settings, is_loopback


class HubSettings(LayeredSettings):
    # Each field's docstring is its line in docs/settings.md (`make docs`): a new setting needs one.
    model_config = SettingsConfigDict(env_prefix='KIOSK_HUB_', extra='forbid', frozen=True,
                                      use_attribute_docstrings=True)
    # A secret of its own (not part of a URL IT already guards): a settings file is often readable by all.
    environment_only: ClassVar[tuple[str, ...]] = ('smtp_password',)

    database_url: str = 'postgresql:///kiosk_hub'
    """a libpq URL (the default uses the local socket)"""
    migrate_database_url: str | None = None
    """the schema owner's libpq URL, for `kiosk hub migrate` and `grant` (see [Two roles](hub.md#two-roles)); unset,
    `database_url` owns the schema too"""
    host: str = '127.0.0.1'
    """where to listen (behind the HTTPS proxy)"""
    port: int = Field(8090, ge=1, le=65535)
    """the port to listen on"""
    config: Path | None = None
    """the TOML settings file (also `--config`); its keys are the keys in this table"""
    max_batch: int = Field(1000, ge=1, le=100_000)
    """records per request; more gets 413"""
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    """size of a batch's body, counted as it arrives (chunked too); more gets 413 and the rest is never read. A
    heartbeat may be 64 KiB"""
    rate_per_minute: int = Field(120, ge=1, le=100_000)
    """requests per kiosk in any minute, counted in the database for all hub processes together; more gets 429 with
    `Retry-After`"""
    stale_minutes: int = Field(15, ge=1, le=7 * 24 * 60)
    """a kiosk silent this long turns red on the Kiosks screen"""
    retention_days: int = Field(365, ge=1, le=36_500)
    """sign-ups closed (enrolled, declined or duplicate) this long ago are deleted nightly (03:30)"""
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    """a signed-in session ends after this long with nothing done (a page load, a filter, a page turn, a status
    change, an export); an open tab's once-a-minute check does not count"""
    session_max_hours: int = Field(12, ge=1, le=30 * 24)
    """a session ends this long after signing in, however busy"""
    require_2fa: Literal['admin', 'all', 'none'] = 'admin'
    """who must sign in with a second factor (a code from an authenticator app): `admin`s, `all` users, or `none`
    required (anyone may still turn it on). One who must and has none is sent to set it up after their password"""
    trusted_proxies: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = ()
    """networks of the reverse proxies whose `X-Forwarded-For` is believed, comma-separated (`127.0.0.1/32,
    10.0.0.0/8`); the sign-in throttle counts the first hop that is not one of them. Empty: the peer's address"""
    signing_key_file: Path = Path('/etc/kiosk/hub-signing.key')
    """the Ed25519 private key that signs published content (`kiosk hub keygen` writes it, 0600); outside the
    database, so a copy of the database cannot sign"""
    rollout_soak_minutes: float = Field(30, ge=0, le=30 * 24 * 60)
    """a new content version goes to the canary kiosks first, and to every kiosk once each canary has run it with
    no error for this long (a fraction is allowed: 0.5 is 30 seconds); 0, or no canary kiosk: every kiosk at once"""
    rollout_check_seconds: float = Field(60, ge=1, le=3600)
    """how often the hub checks the canaries and moves a rollout on"""
    token_grace_days: int = Field(7, ge=0, le=365)
    """how long a rotated-out kiosk token still works"""
    timezone: str = 'America/Chicago'
    """local time on the screens, in CSV files and in mail (and the digest's hour)"""
    smtp_url: str | None = None
    """the mail server: `smtp://host:587` (STARTTLS) or `smtps://host:465`. Unset, the hub sends no mail"""
    smtp_user: str | None = None
    """the mail server's login, if it wants one"""
    smtp_password: SecretStr | None = None
    """its password, from the environment only (the 0600 env file: a settings file holding it is refused); never
    logged or shown"""
    smtp_allow_plain: bool = False
    """allow SMTP without STARTTLS to a host other than this machine: the mail crosses the network readable"""
    smtp_timeout_seconds: float = Field(30, gt=0, le=600)
    """how long one SMTP conversation may take before it counts as a failure"""
    mail_from: str | None = None
    """the sender of the hub's mail (`kiosk-hub@slmpd.org`); needed with `smtp_url`"""
    public_url: str | None = None
    """where people reach the hub (`https://hub.slmpd.org`): links in mail point there; needed with `smtp_url`"""
    digest_hour: int = Field(8, ge=0, le=23)
    """the hour (local time, `timezone`) the daily digests go out"""
    mail_names: bool = False
    """put first names and programs in mail: only for a department whose mail stays internal"""
    mail_instant_gap_seconds: float = Field(600, ge=0, le=86400)
    """an instant mail goes at most this often per user; what arrives meanwhile is gathered into the next"""
    mail_check_seconds: float = Field(20, gt=0, le=3600)
    """how often the hub looks for sign-ups to tell instant users about"""
    mail_send_seconds: float = Field(5, gt=0, le=3600)
    """how often the hub sends what waits in its outbox"""
    mail_retry_seconds: float = Field(60, gt=0, le=86400)
    """the wait after a failed send, doubled at each failure up to an hour"""
    mail_lease_seconds: float = Field(300, gt=0, le=86400)
    """a mail claimed this long ago and not sent belonged to a hub that stopped: another sends it. Longer than
    `smtp_timeout_seconds`"""
    follow_up_days: int = Field(2, ge=1, le=60)
    """business days a sign-up may stay `new`: one still new after the day it came and this many business days
    more is overdue (red on the Sign-ups page, counted in the digests)"""
    escalate_days: int = Field(5, ge=1, le=120)
    """business days after which a sign-up still `new` is listed in the admins' digests too; at least
    `follow_up_days`"""
    holidays: Annotated[tuple[date, ...], NoDecode] = ()
    """days that are not business days, in `timezone`, comma-separated (`2026-12-25,2027-01-01`); Saturdays and
    Sundays never are, so for a holiday on a weekend list the weekday the offices close instead"""

    @property
    def owner_url(self) -> str:
        return self.migrate_database_url or self.database_url

    @field_validator('database_url', 'migrate_database_url')
    @classmethod
    def _libpq_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(('postgresql://', 'postgres://')):
            raise ValueError('not a libpq URL (postgresql://user@host/dbname or postgresql:///dbname)')
        return url

    @field_validator('smtp_url')
    @classmethod
    def _smtp_url(cls, url: str | None) -> str | None:
        if not url:
            return None
        parts = urlsplit(url)
        try:
            parts.port  # noqa: B018 (a port that is not a number raises here, not at the first mail)
        except ValueError:
            raise ValueError('the port is not a number') from None
        if parts.scheme not in ('smtp', 'smtps') or not parts.hostname:
            raise ValueError('not an smtp:// or smtps:// URL')
        if parts.username or parts.password:  # the password belongs in the environment file only
            raise ValueError('no login in the URL: use smtp_user, and KIOSK_HUB_SMTP_PASSWORD in the environment')
        return url

    @field_validator('public_url')
    @classmethod
    def _public_url(cls, url: str | None) -> str | None:
        if url and (urlsplit(url).scheme not in ('http', 'https') or not urlsplit(url).hostname):
            raise ValueError('not an http(s) URL')
        return url.rstrip('/') if url else None

    @model_validator(mode='after')
    def _escalation_after_follow_up(self) -> HubSettings:
        if self.escalate_days < self.follow_up_days:
            raise ValueError('escalate_days: must be at least follow_up_days')
        return self

    @model_validator(mode='after')
    def _mail_complete(self) -> HubSettings:
        """A mail needs a sender and links that work; a plain conversation only stays on this machine."""
        if self.smtp_url is None:
            return self
        if not self.mail_from or not self.public_url:
            raise ValueError('smtp_url: needs mail_from and public_url too')
        if self.smtp_password is not None and not self.smtp_user:
            raise ValueError('smtp_password: needs smtp_user')
        if self.mail_lease_seconds <= self.smtp_timeout_seconds:
            raise ValueError('mail_lease_seconds: must be longer than smtp_timeout_seconds')
        return self

    @property
    def smtp_server(self) -> tuple[str, int]:
        """The mail server's host and port: the URL's, else 465 for smtps:// and 587 (submission) for smtp://."""
        url = urlsplit(self.smtp_url or '')
        return url.hostname or '', url.port or (465 if url.scheme == 'smtps' else 587)

    @property
    def plain_smtp_allowed(self) -> bool:
        """Mail without STARTTLS: to this machine (tests, a local relay), or when IT explicitly allows it."""
        return self.smtp_allow_plain or is_loopback(urlsplit(self.smtp_url or '').hostname or '')

    @field_validator('trusted_proxies', 'holidays', mode='before')
    @classmethod
    def _comma_separated(cls, networks: Any) -> Any:
        return [part.strip() for part in networks.split(',') if part.strip()] if isinstance(networks, str) else networks


def load_hub_settings(**flags: Any) -> HubSettings:
    """Flags that are None were not given on the command line; a bad value raises ConfigError naming its key."""
    return build_settings(HubSettings, flags)
