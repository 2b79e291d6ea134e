"""The `kiosk` command: run the kiosk, or check its config and content."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kiosk.config import ConfigError, Settings, load_settings
from kiosk.content import ContentError, load_catalog


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    try:
        settings = load_settings(host=getattr(args, 'host', None), port=getattr(args, 'port', None),
                                 data_dir=args.data_dir, config=args.config)
        return args.handler(settings)
    except (ConfigError, ContentError) as error:
        for line in str(error).splitlines():
            print(f'kiosk: {line}', file=sys.stderr)
        return 2


def _run(settings: Settings) -> int:
    from kiosk.app import serve  # NiceGUI is heavy: only the server needs it

    serve(settings)
    return 0


def _check(settings: Settings) -> int:
    catalog = load_catalog(settings.content)
    print(f'config OK; {settings.content}: {len(catalog.program)} programs OK')
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='kiosk', description='SLMPD community-programs kiosk')
    commands = parser.add_subparsers(dest='command', required=True)

    def command(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument('--data-dir', type=Path, help='where sign-ups and state live (KIOSK_DATA_DIR)')
        sub.add_argument('--config', type=Path, help='TOML settings file (KIOSK_CONFIG)')
        sub.set_defaults(handler=handler)
        return sub

    run = command('run', _run, 'serve the kiosk')
    run.add_argument('--host', help='address to bind (KIOSK_HOST, default 127.0.0.1)')
    run.add_argument('--port', type=int, help='port to bind (KIOSK_PORT, default 8080)')
    command('check', _check, 'validate the config and the programs file')
    return parser
