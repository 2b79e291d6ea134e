"""Settings, in rising precedence: defaults < TOML config file < KIOSK_* environment < command-line flags."""

from __future__ import annotations

import os
import socket
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from kiosk.paths import ASSETS_DIR

Language = Literal['en', 'es']
LANGUAGES: tuple[Language, ...] = ('en', 'es')


class ConfigError(Exception):
    """A setting is wrong; the message is one line that names the key."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix='KIOSK_', extra='forbid', frozen=True)

    host: str = '127.0.0.1'
    port: int = Field(8080, ge=1, le=65535)
    data_dir: Path = Path('var')
    config: Path | None = None
    content: Path = ASSETS_DIR / 'programs.toml'
    language: Language = 'en'
    timezone: str = 'America/Chicago'
    idle_seconds: int = Field(90, ge=2, le=3600)
    idle_countdown_seconds: int = Field(20, ge=2, le=120)
    kiosk_id: str = Field(default_factory=socket.gethostname, min_length=1, max_length=100)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _TomlSource(settings_cls, init_settings)


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by --config or KIOSK_CONFIG; its keys are the setting names."""

    def __init__(self, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        path = init_settings().get('config') or os.environ.get('KIOSK_CONFIG')
        self._values = _read_toml(Path(path)) if path else {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open('rb') as file:
            return tomllib.load(file)
    except FileNotFoundError as error:
        raise ConfigError(f'config: {path}: file not found') from error
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f'config: {path}: {error}') from error


def load_settings(**flags: Any) -> Settings:
    """Build the settings; flags that are None were not given on the command line."""
    given = {key: value for key, value in flags.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        raise ConfigError(describe_setting_errors(error)) from None


def describe_setting_errors(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        key = str(item['loc'][0]) if item['loc'] else '?'
        message = 'not a known setting' if item['type'] == 'extra_forbidden' else item['msg']
        problems.append(f'{key} (KIOSK_{key.upper()}): {message}')
    return '; '.join(problems)
