"""The `kiosk` command: serve, check, export, sync, set the PIN, examine the box, start the screen."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from kiosk.config import ConfigError, Settings, load_settings
from kiosk.content import ContentError, load_catalog
from kiosk.hub import cli as hub_cli

if TYPE_CHECKING:
    from kiosk.published import PublishedContent


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == 'hub':
        try:
            return hub_cli.run(args)
        except ConfigError as error:
            print(f'kiosk: {error}', file=sys.stderr)
            return 2
    flags = {'host': getattr(args, 'host', None), 'port': getattr(args, 'port', None),
             'data_dir': args.data_dir, 'config': args.config}
    try:
        if args.command == 'doctor':  # it reports a broken config as one line of its checklist
            return _doctor(flags)
        settings = load_settings(**flags)
        configure_logging(settings.log_level)
        options = {key: value for key, value in vars(args).items()
                   if key not in ('command', 'handler', 'host', 'port', 'data_dir', 'config')}
        return args.handler(settings, **options)
    except (ConfigError, ContentError) as error:
        for line in str(error).splitlines():
            print(f'kiosk: {line}', file=sys.stderr)
        return 2
    except Exception as error:
        if (denied := _permission_denied(error)) is None:
            raise
        # A normal user at a kiosk whose data only the kiosk user may read: the fix, not a traceback.
        print(f'kiosk: cannot use {denied.filename or "the data dir"} as this user (permission denied): '
              f'run it as the kiosk user: sudo kiosk {args.command}', file=sys.stderr)
        return 1


def _permission_denied(error: BaseException | None) -> PermissionError | None:
    """The PermissionError behind an error, if that is what it comes down to (the store wraps its own)."""
    while error is not None and not isinstance(error, PermissionError):
        error = error.__cause__
    return error


class _OneLine(logging.Formatter):
    """journald keeps one entry per line: a traceback folds into its event's line instead of scattering."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace('\n', ' | ')


def configure_logging(level: str) -> None:
    """Events go to stdout, one line each; under systemd the journal adds the time, so the line does not."""
    handler = logging.StreamHandler(sys.stdout)
    stamp = '' if os.environ.get('JOURNAL_STREAM') else '%(asctime)s '
    handler.setFormatter(_OneLine(stamp + '%(levelname)s %(name)s: %(message)s'))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Months of "job ran" and per-request lines would bury what matters in the journal.
    for chatty in ('apscheduler', 'httpx', 'httpcore'):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _run(settings: Settings) -> int:
    from kiosk.app import serve  # NiceGUI is heavy: only the server needs it
    from kiosk.pin import StaffPin

    print(welcome(settings, pin_set=StaffPin(settings.data_dir).is_set), flush=True)
    serve(settings)
    return 0


def welcome(settings: Settings, pin_set: bool) -> str:
    """What someone who just typed `make run` needs next: where to look, where the data is, what is off."""
    where = settings.local_url + '/'
    if settings.sync_url:
        sync = f'to {urlsplit(settings.sync_url).hostname} every {settings.sync_interval_seconds:g} s'
    else:
        sync = 'off: set KIOSK_SYNC_URL and KIOSK_SYNC_TOKEN to send sign-ups to the hub (docs/settings.md)'
    staff = 'hold the logo for 3 seconds' if pin_set else \
        'set a PIN with kiosk set-pin (sudo on an installed box), then hold the logo for 3 seconds'
    return '\n'.join((f'kiosk: serving the kiosk at {where} (open it in a browser; Ctrl+C stops it)',
                      f'  data: {settings.data_dir.resolve()}',
                      f'  sync: {sync}',
                      f'  staff console: {staff} (or open {where}staff)'))


def _check(settings: Settings) -> int:
    from kiosk.published import PublishedContent

    catalog = load_catalog(settings.content)
    print(f'config OK; {settings.content}: {len(catalog.program)} programs OK')
    active = PublishedContent.for_settings(settings).current()
    if active.version:
        print(f'published version {active.version} runs: {len(active.catalog.program)} programs OK')
    return 0


def _content(settings: Settings, action: str, file: Path | None) -> int:
    from kiosk.bundle import MAX_BUNDLE_BYTES, BundleError
    from kiosk.published import NoTrustedKey, PublishedContent

    content = PublishedContent.for_settings(settings)
    if action == 'status':
        print(content_status(content))
        return 0
    if file is None:
        print('kiosk: content apply needs the bundle FILE (from `kiosk hub export-content`)', file=sys.stderr)
        return 2
    try:
        with file.open('rb') as opened:
            data = opened.read(MAX_BUNDLE_BYTES + 1)  # open_bundle refuses more; a huge file is never read whole
        bundle, switched = content.apply(data, prepare=_speech_preparer(settings))
    except (BundleError, NoTrustedKey) as error:
        print(f'kiosk: {file}: refused: {error}; the kiosk keeps showing what it showed', file=sys.stderr)
        return 1
    except (FileNotFoundError, IsADirectoryError) as error:
        print(f'kiosk: {file}: {error.strerror.lower()}; nothing was changed', file=sys.stderr)
        return 2
    manifest = bundle.manifest
    if switched:
        print(f'version {manifest.version} verified and running: the next page load shows it')
    else:
        print(f'version {manifest.version} verified and staged: it runs from {manifest.activate_at.isoformat()}')
    return 0


def _speech_preparer(settings: Settings):
    """The speech files a new version needs, made before the switch; the QR codes live in the server's memory,
    and its check of every screen right after the switch makes them."""
    from kiosk.prepare import prepare_screens
    from kiosk.speech import SpeechCache, espeak

    if not (settings.speech and espeak()):
        return None
    speech = SpeechCache(settings.data_dir / 'speech', settings.speech_rate)
    return lambda catalog: prepare_screens(catalog, speech, qr_codes=False)


def content_status(content: PublishedContent) -> str:
    """What runs, what waits, the floor and the last refusal: for IT at a shell, in plain lines."""
    active, staged, state = content.current(), content.staged(), content.state()
    runs = f'version {active.version} (bundle {active.bundle_sha256[:12]})' if active.version else \
        f'the factory content ({content.factory})'
    waiting = 'nothing' if staged is None else \
        f'version {staged.version}, from {staged.activate_at.isoformat() if staged.activate_at else "now"}'
    trusted = 'yes' if content.key else 'no (published content is ignored: sudo kiosk trust-key KEY)'
    lines = [f'runs: {runs}', f'staged: {waiting}', f'floor: {content.floor()} (a bundle must be above it)',
             f'kept: {", ".join(map(str, content.versions())) or "none"}', f'trusted key: {trusted}']
    if (switch := content.last_switch()) is not None and switch.version == active.version:
        lines.append(f'switched: {datetime.fromtimestamp(switch.at, UTC).isoformat(timespec="seconds")}, screens '
                     f'{"checked" if switch.confirmed else "not checked yet"}')
    for version, reason in sorted(content.failed().items()):
        lines.append(f'failed: version {version} ({reason}); never tried again')
    if state.last_error:
        lines.append(f'last refused ({state.last_error_at}): {state.last_error}')
    if state.last_hub_contact:
        lines.append(f'hub last reached: {state.last_hub_contact}')
    return '\n'.join(lines)


def _trust_key(settings: Settings, key: str) -> int:
    from kiosk.bundle import BundleError, parse_public_key, public_key_text
    from kiosk.storage.atomic import write_atomically

    try:
        text = public_key_text(parse_public_key(key))
    except BundleError as error:
        print(f'kiosk: {error}; nothing was changed', file=sys.stderr)
        return 2
    path = settings.content_public_key_file
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, (text + '\n').encode())
    path.chmod(0o644)  # a public key: the kiosk's own user reads what root wrote
    print(f'trusted {text} ({path}): this kiosk now takes content signed with it')
    if settings.content_public_key and settings.content_public_key.strip() != text:
        print('kiosk: content_public_key is set in the settings and wins over this file', file=sys.stderr)
    return 0


def _export(settings: Settings, status: str, output_format: str, output: Path | None) -> int:
    from kiosk.export import to_csv, to_json
    from kiosk.storage.store import SignupStore

    store = SignupStore(settings.data_dir)
    records = store.records(None if status == 'all' else lambda record: record.get('status') == status)
    text = to_csv(records, settings.timezone) if output_format == 'csv' else to_json(records)
    if output is None:
        sys.stdout.write(text)
    else:
        from kiosk.storage.atomic import write_atomically

        write_atomically(output, text.encode())
        print(f'wrote {len(records)} sign-up(s) to {output}', file=sys.stderr)
    return 0


def _sync(settings: Settings) -> int:
    import asyncio

    from kiosk.storage.store import SignupStore
    from kiosk.sync import Syncer

    if not settings.sync_url:
        print('kiosk: sync is off: set KIOSK_SYNC_URL (and KIOSK_SYNC_TOKEN) to send sign-ups', file=sys.stderr)
        return 2
    store = SignupStore(settings.data_dir)
    report = asyncio.run(Syncer(settings, store).sync_pass(force=True, wait=300))
    if report.skipped == 'busy':
        print('kiosk: another sync pass is still running; try again shortly', file=sys.stderr)
        return 1
    print(f'sent {report.sent}, accepted {report.accepted}, rejected {report.rejected}, '
          f'still queued {report.queued}')
    if report.error:
        print(f'kiosk: {report.error}', file=sys.stderr)
    return 1 if report.error else 0


def _set_pin(settings: Settings) -> int:
    import getpass

    from kiosk.pin import PinError, StaffPin

    if sys.stdin.isatty():
        pin = getpass.getpass('New staff PIN (4 to 8 digits): ')
        if getpass.getpass('The same PIN again: ') != pin:
            print('kiosk: the two PINs differ; nothing was changed', file=sys.stderr)
            return 2
    else:
        pin = sys.stdin.readline().strip()
    try:
        StaffPin(settings.data_dir).set(pin)
    except PinError as error:
        print(f'kiosk: {error}; nothing was changed', file=sys.stderr)
        return 2
    print(f'staff PIN set (stored as a salted scrypt hash in {settings.data_dir})')
    return 0


def _doctor(flags: dict) -> int:
    from kiosk.appliance.doctor import examine, report

    checks = examine(flags)
    print(report(checks))
    failed = [check.name for check in checks if check.outcome == 'fail']
    print(f'\n{len(failed)} problem(s): {", ".join(failed)}' if failed else '\nall good')
    return 1 if failed else 0


def _print_test(settings: Settings) -> int:
    import asyncio

    from kiosk.slip import SlipPrinter, compose

    if not settings.printer:
        print('kiosk: no printer: set KIOSK_PRINTER (usb:VID:PID, serial:/dev/ttyUSB0 or file:/dev/usb/lp0)',
              file=sys.stderr)
        return 2
    catalog = load_catalog(settings.content)
    program = next((shown for shown in catalog.program if shown.phone), catalog.program[0])
    printer = SlipPrinter(settings.printer, settings.printer_columns)
    if not asyncio.run(printer.print(compose(program, 'en', None, settings.location))):
        print(f'kiosk: the printer did not print ({printer.state}); see the line above', file=sys.stderr)
        return 1
    print(f'printed a test slip ({program.en.title}) on {settings.printer}')
    return 0


def _browser(settings: Settings, prepare: bool, run_dir: Path, check_seconds: float) -> int:
    from kiosk.appliance import chromium

    if prepare:
        return chromium.prepare(settings, run_dir)
    return chromium.launch(settings, run_dir, check_seconds)


def build_parser() -> argparse.ArgumentParser:
    """The `kiosk` command line; docs/settings.md's commands tables are generated from it (`make docs`)."""
    parser = argparse.ArgumentParser(prog='kiosk', description='SLMPD community-programs kiosk')
    commands = parser.add_subparsers(dest='command', required=True)

    def command(name: str, handler, help_text: str, description: str | None = None) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=description)
        sub.add_argument('--data-dir', type=Path, metavar='DIR', help='where sign-ups and state live (KIOSK_DATA_DIR)')
        sub.add_argument('--config', type=Path, metavar='FILE', help='TOML settings file (KIOSK_CONFIG)')
        sub.set_defaults(handler=handler)
        return sub

    run = command('run', _run, 'serve the kiosk', 'serve the kiosk (binds 127.0.0.1 by default)')
    run.add_argument('--host', help='address to bind (KIOSK_HOST, default 127.0.0.1)')
    run.add_argument('--port', type=int, help='port to bind (KIOSK_PORT, default 8080)')
    command('check', _check, 'validate the config and the programs file',
            'validate the settings and the programs file; prints every problem with its file and field')
    content = command('content', _content, 'apply a content bundle (a USB stick), or show what content runs',
                      'apply FILE: verify a content bundle (from `kiosk hub export-content`, on a USB stick) as a '
                      'download is verified, stage it and switch to it (at its activate_at); status: what runs, '
                      'what is staged, the version floor and the last refusal')
    content.add_argument('action', choices=['apply', 'status'])
    content.add_argument('file', type=Path, nargs='?', metavar='FILE', help='the bundle, for apply')
    command('trust-key', _trust_key, "trust the hub's content-signing key (as root)",
            'write the public key `kiosk hub keygen` printed to content_public_key_file (/etc/kiosk/content.pub): '
            'from then on the kiosk takes published content signed with it').add_argument('key', metavar='KEY')
    command('set-pin', _set_pin, 'set the staff PIN (prompts twice, or reads one line from stdin)',
            'set the staff PIN (4 to 8 digits): prompts twice on a terminal, or reads one line from standard input')
    command('doctor', _doctor, 'check this kiosk from settings to screen; exit 1 if anything is wrong',
            'a checklist for IT: settings, content, data dir, disk, PIN, clock, sync endpoint (one authenticated '
            'HEAD, with its time), last sync, Chromium and cage, whether a kiosk page is on the screen '
            '(screen_missing from /healthz), the units and why one is not running; exit 1 if anything is wrong')
    screen = command('browser', _browser, 'start Chromium locked to the kiosk once the server answers, and keep it '
                     '(run inside cage)',
                     'wait until the server answers, then run Chromium locked to the kiosk and keep it: restart it '
                     'when /healthz says screen_hidden, and once a night between visits (what kiosk-browser.service '
                     'runs inside cage)')
    screen.add_argument('--prepare', action='store_true',
                        help='write the screen\'s settings to RUN_DIR/screen.toml and wait out the back-off after '
                             'quick failures (2 s, 4 s ... up to 60 s), then exit (the unit\'s ExecStartPre, as root)')
    screen.add_argument('--run-dir', type=Path, default=Path('/run/kiosk-browser'), metavar='RUN_DIR',
                        help='the screen\'s tmpfs: profile, settings, restart count (default /run/kiosk-browser)')
    screen.add_argument('--check-seconds', type=float, default=5.0, metavar='S',
                        help='how often /healthz is read (default 5)')
    command('print-test', _print_test, 'print a test slip on KIOSK_PRINTER',
            'print a test slip on KIOSK_PRINTER; exit 1 if it did not print (and why), 2 if no printer is set')
    command('sync', _sync, 'send queued sign-ups to KIOSK_SYNC_URL now (one full pass)',
            'one full sync pass now (ignores backoff); prints sent, accepted, rejected and still queued; exit 1 if '
            'the endpoint could not be reached or something is still queued because of an error, 2 if sync is off')
    hub_cli.add_commands(commands)
    export = command('export', _export, 'write sign-ups as CSV or JSON',
                     'write sign-ups as CSV or JSON (default: queued, CSV, standard output)')
    export.add_argument('--status', choices=['queued', 'synced', 'rejected', 'all'], default='queued',
                        help='which sign-ups (default queued)')
    export.add_argument('--format', dest='output_format', choices=['csv', 'json'], default='csv',
                        help='csv or json (default csv)')
    export.add_argument('--output', type=Path, metavar='FILE', help='file to write (default: standard output)')
    return parser
