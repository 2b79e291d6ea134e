"""Settings, in rising precedence: defaults < TOML config file < KIOSK_* environment < command-line flags."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import tomllib
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from kiosk.night import SleepWindow
from kiosk.paths import ASSETS_DIR

AnySettings = TypeVar('AnySettings', bound=BaseSettings)
Language = Literal['en', 'es']
LANGUAGES: tuple[Language, ...] = ('en', 'es')


class ConfigError(Exception):
    """A setting is wrong; the message is one line that names the key."""


def served_at(host: str, port: int) -> str:
    """Where a browser on this machine finds a server: loopback when the server listens everywhere."""
    shown = '127.0.0.1' if host in ('0.0.0.0', '::', '') else host
    return f'http://{f"[{shown}]" if ":" in shown else shown}:{port}'


class LayeredSettings(BaseSettings):
    """Flags (init) beat the environment, which beats the TOML file named by --config or <prefix>CONFIG."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlSource(settings_cls, init_settings)


class Settings(LayeredSettings):
    # Each field's docstring is its line in docs/settings.md (`make docs`): a new setting needs one.
    model_config = SettingsConfigDict(env_prefix='KIOSK_', extra='forbid', frozen=True, use_attribute_docstrings=True)

    host: str = '127.0.0.1'
    """address to bind"""
    port: int = Field(8080, ge=1, le=65535)
    """port to bind"""
    data_dir: Path = Path('var')
    """sign-ups and state (created 0700); relative to the working directory"""
    config: Path | None = None
    """the TOML settings file (also `--config`); its keys are the keys in this table"""
    content: Path = ASSETS_DIR / 'programs.toml'
    """the factory programs file, shown until a published version signed with the trusted key is accepted"""
    content_public_key: str | None = None
    """the hub's content-signing public key (base64, as `kiosk hub keygen` prints it); unset, the key in
    `content_public_key_file`. Without either, published content is ignored (`kiosk doctor` says so)"""
    content_public_key_file: Path = Path('/etc/kiosk/content.pub')
    """where `sudo kiosk trust-key KEY` writes the trusted key"""
    content_poll_seconds: float = Field(300, ge=5, le=86400)
    """how often the kiosk asks the hub for newer content (with jitter, and after every successful sync pass);
    needs `sync_url`"""
    content_stale_days: float = Field(30, gt=0)
    """days without an answer from the hub to a content poll before the staff console and /healthz say
    `content_stale` (a quiet warning: the visitor's screen never changes because of it)"""
    language: Language = 'en'
    """language each visit starts in (`en` or `es`)"""
    timezone: str = 'America/Chicago'
    """local time for sign-up times and exports"""
    idle_seconds: int = Field(90, ge=2, le=3600)
    '''untouched time before "Are you still there?"'''
    idle_countdown_seconds: int = Field(20, ge=2, le=120)
    """countdown before the screen starts over"""
    kiosk_id: str = Field(default_factory=socket.gethostname, min_length=1, max_length=100)
    """names this kiosk to the department"""
    sync_url: str | None = None
    """the department's endpoint; https unless loopback. Unset, sync is off"""
    sync_token: SecretStr | None = None
    """sent as `Authorization: Bearer`; never logged"""
    sync_interval_seconds: float = Field(60, gt=0, le=86400)
    """how often a sync pass runs"""
    sync_batch_size: int = Field(100, ge=1, le=1000)
    """records per request"""
    sync_timeout_seconds: float = Field(15, gt=0, le=600)
    """per request"""
    sync_backoff_cap_seconds: float = Field(1800, gt=0, le=86400)
    """longest wait between failing passes, also for an endpoint's `Retry-After`; failing for twice this long
    warns `sync_failing`"""
    sync_allow_http: bool = False
    """allow plain http to another host: **for testing only**"""
    retention_days: int = Field(30, ge=1, le=3650)
    """synced records older than this are deleted nightly"""
    rejected_retention_days: int = Field(90, ge=1, le=3650)
    """rejected records are deleted this many days after the nightly upkeep first finds them rejected (**Retry
    rejected** starts it again); the console says so"""
    staff_idle_seconds: int = Field(120, ge=2, le=3600)
    """untouched time before the staff console locks"""
    screen_missing_seconds: int = Field(120, ge=1, le=86400)
    """no kiosk page connected this long (since start-up, or since the last one left): `/healthz` warns
    `screen_missing`"""
    export_dir: Path = Path('/media/kiosk-export')
    """where a USB stick is mounted (also Chromium's download folder); the console offers CSV files only while a
    file system other than the root one is mounted there, and deletes whatever is left in it otherwise"""
    sleep: str | None = None
    """local hours of the closed-for-the-night screen, `"22:00-06:00"` (may cross midnight). Unset, always open"""
    log_level: Literal['DEBUG', 'INFO', 'WARNING', 'ERROR'] = 'INFO'
    """`DEBUG`, `INFO`, `WARNING` or `ERROR`; logs go to standard output, one line per event"""
    speech: bool = True
    """the Read aloud button (where `espeak-ng` is installed)"""
    speech_rate: int = Field(130, ge=80, le=260)
    """words per minute (espeak's own 175 is fast for many seniors)"""
    printer: str | None = None
    """an ESC/POS receipt printer: `usb:VID:PID` (hex), `serial:/dev/ttyUSB0` or `file:/dev/usb/lp0`"""
    printer_columns: int = Field(42, ge=24, le=64)
    """characters a line on the printer's paper (font A): `42` or `48` on 80 mm paper, `32` on 58 mm; `kiosk check`
    accepts 24 to 64"""
    location: str | None = Field(None, max_length=120)
    """the kiosk's place, printed at the foot of every slip"""

    @field_validator('printer')
    @classmethod
    def _printer_spec(cls, spec: str | None) -> str | None:
        if not spec:
            return None
        if not re.fullmatch(r'usb:[0-9a-fA-F]{4}:[0-9a-fA-F]{4}|serial:/\S+|file:/\S+', spec.strip()):
            raise ValueError('not a printer: use usb:VID:PID (hex, like usb:04b8:0e15), serial:/dev/ttyUSB0 '
                             'or file:/dev/usb/lp0')
        return spec.strip()

    @field_validator('sleep')
    @classmethod
    def _sleep_window(cls, window: str | None) -> str | None:
        if not window:
            return None
        SleepWindow.parse(window)
        return window.strip()

    @field_validator('log_level', mode='before')
    @classmethod
    def _upper_case_level(cls, level: object) -> object:
        return level.upper() if isinstance(level, str) else level

    @property
    def sleep_window(self) -> SleepWindow | None:
        return SleepWindow.parse(self.sleep) if self.sleep else None

    @property
    def local_url(self) -> str:
        """Where the browser on this box finds the kiosk."""
        return served_at(self.host, self.port)

    @field_validator('sync_url')
    @classmethod
    def _url_shape(cls, url: str | None) -> str | None:
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            raise ValueError('not an http(s) URL')
        return url

    @model_validator(mode='after')
    def _https_unless_loopback(self) -> Settings:
        """Sign-ups are personal data: plain HTTP only to this machine, or when IT explicitly allows it."""
        url = urlsplit(self.sync_url or '')
        if url.scheme == 'http' and not self.sync_allow_http and not is_loopback(url.hostname or ''):
            raise ValueError('sync_url: must use https (KIOSK_SYNC_ALLOW_HTTP=1 allows http, for testing only)')
        return self


class TomlSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by --config or <prefix>CONFIG (KIOSK_CONFIG); its keys are the setting names."""

    def __init__(self, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        path = init_settings().get('config') or os.environ.get(f'{settings_cls.model_config["env_prefix"]}CONFIG')
        self._values = _read_toml(Path(path)) if path else {}
        for key in getattr(settings_cls, 'environment_only', ()):
            if key in self._values:
                raise ConfigError(f'config: {path}: {key} belongs in the environment (the 0600 env file), '
                                  'not in a settings file')

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


def is_loopback(host: str) -> bool:
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(**flags: Any) -> Settings:
    """Build the settings; flags that are None were not given on the command line."""
    return build_settings(Settings, flags)


def build_settings(settings_cls: type[AnySettings], flags: dict[str, Any]) -> AnySettings:
    given = {key: value for key, value in flags.items() if value is not None}
    try:
        return settings_cls(**given)
    except ValidationError as error:
        raise ConfigError(describe_setting_errors(error, settings_cls.model_config['env_prefix'])) from None


def describe_setting_errors(error: ValidationError, prefix: str = 'KIOSK_') -> str:
    problems = []
    for item in error.errors():
        key = str(item['loc'][0]) if item['loc'] else ''
        message = 'not a known setting' if item['type'] == 'extra_forbidden' else item['msg']
        message = message.removeprefix('Value error, ')
        if not key:  # a rule across settings names its key at the start of the message
            key, _, message = message.partition(': ')
        problems.append(f'{key} ({prefix}{key.upper()}): {message}')
    return '; '.join(problems)
