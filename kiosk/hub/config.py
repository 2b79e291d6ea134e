"""Hub settings, in rising precedence: defaults < TOML (KIOSK_HUB_CONFIG) < KIOSK_HUB_* environment < flags."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from kiosk.config import LayeredSettings, build_settings


class HubSettings(LayeredSettings):
    model_config = SettingsConfigDict(env_prefix='KIOSK_HUB_', extra='forbid', frozen=True)

    database_url: str = 'postgresql:///kiosk_hub'
    # The schema owner's URL, for `kiosk hub migrate` and `grant`; unset, database_url owns the schema too.
    migrate_database_url: str | None = None
    host: str = '127.0.0.1'
    port: int = Field(8090, ge=1, le=65535)
    config: Path | None = None
    max_batch: int = Field(1000, ge=1, le=100_000)
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    rate_per_minute: int = Field(120, ge=1, le=100_000)
    stale_minutes: int = Field(15, ge=1, le=7 * 24 * 60)
    retention_days: int = Field(365, ge=1, le=36_500)
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    session_max_hours: int = Field(12, ge=1, le=30 * 24)
    # The reverse proxies whose X-Forwarded-For is believed, e.g. "127.0.0.1/32, 10.0.0.0/8".
    trusted_proxies: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = ()
    token_grace_days: int = Field(7, ge=0, le=365)
    timezone: str = 'America/Chicago'

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
