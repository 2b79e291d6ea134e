"""Hub settings, in rising precedence: defaults < TOML (KIOSK_HUB_CONFIG) < KIOSK_HUB_* environment < flags."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from kiosk.config import LayeredSettings, build_settings


class HubSettings(LayeredSettings):
    # Each field's docstring is its line in docs/settings.md (`make docs`): a new setting needs one.
    model_config = SettingsConfigDict(env_prefix='KIOSK_HUB_', extra='forbid', frozen=True,
                                      use_attribute_docstrings=True)

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
    """enrolled or declined sign-ups older than this are deleted nightly (03:30)"""
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    """a signed-in session ends after this long with nothing done (a page load, a filter, a page turn, a status
    change, an export); an open tab's once-a-minute check does not count"""
    session_max_hours: int = Field(12, ge=1, le=30 * 24)
    """a session ends this long after signing in, however busy"""
    trusted_proxies: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = ()
    """networks of the reverse proxies whose `X-Forwarded-For` is believed, comma-separated (`127.0.0.1/32,
    10.0.0.0/8`); the sign-in throttle counts the first hop that is not one of them. Empty: the peer's address"""
    token_grace_days: int = Field(7, ge=0, le=365)
    """how long a rotated-out kiosk token still works"""
    timezone: str = 'America/Chicago'
    """local time on the screens and in CSV files"""

    @property
    def owner_url(self) -> str:
        return self.migrate_database_url or self.database_url

    @field_validator('database_url', 'migrate_database_url')
    @classmethod
    def _libpq_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(('postgresql://', 'postgres://')):
            raise ValueError('not a libpq URL (postgresql://user@host/dbname or postgresql:///dbname)')
        return url

    @field_validator('trusted_proxies', mode='before')
    @classmethod
    def _comma_separated(cls, networks: Any) -> Any:
        return [part.strip() for part in networks.split(',') if part.strip()] if isinstance(networks, str) else networks


def load_hub_settings(**flags: Any) -> HubSettings:
    """Flags that are None were not given on the command line; a bad value raises ConfigError naming its key."""
    return build_settings(HubSettings, flags)
