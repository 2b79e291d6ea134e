"""The generated parts of the docs: settings and commands tables, and the module map, written between markers.

`make docs` (`python -m kiosk.reference`) rewrites every block from the code: the settings from the pydantic
models and their field docstrings, the commands from the argparse parsers, the module map from each module's
docstring. A unit test fails when a block differs from what the code gives now. No NiceGUI is imported.
"""

from __future__ import annotations

import argparse
import ast
import re
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / 'docs'
COMPUTED_DEFAULTS: dict[Callable, str] = {socket.gethostname: 'the host name'}


def settings_table(settings_cls: type[BaseSettings]) -> str:
    """One row per setting: its TOML key, environment variable, default and the field's own docstring."""
    prefix = settings_cls.model_config['env_prefix']
    lines = ['| key | environment | default | meaning |', '|---|---|---|---|']
    for name, field in settings_cls.model_fields.items():
        if field.default_factory is not None:
            default = COMPUTED_DEFAULTS.get(field.default_factory, field.default_factory.__name__)
        else:
            default = _value(field.default)
        meaning = _cell(field.description) if field.description else '**undocumented**: give the field a docstring'
        lines.append(f'| `{name}` | `{prefix}{name.upper()}` | {default} | {meaning} |')
    return '\n'.join(lines)


def _value(value: object) -> str:
    if value is None:
        return 'none'
    if isinstance(value, bool):
        return f'`{str(value).lower()}`'
    if isinstance(value, Path):
        return f'`{value.relative_to(ROOT) if value.is_relative_to(ROOT) else value}`'
    if isinstance(value, tuple | list) and not value:
        return 'empty'
    return f'`{value}`'


def commands_table(parser: argparse.ArgumentParser, prefix: str, leave_out: tuple[str, ...] = ()) -> str:
    """One row per subcommand: how to call it, and what it does (its description, else its help)."""
    helps = {choice.dest: choice.help for choice in _subparsers(parser)._choices_actions}
    lines = ['| command | what it does |', '|---|---|']
    for name, sub in _subparsers(parser).choices.items():
        if name in leave_out:
            continue
        shown = [action for action in sub._actions if not isinstance(action, argparse._HelpAction)]
        shown.sort(key=lambda action: bool(action.option_strings))  # positionals first, as they are typed
        usage = ' '.join([f'{prefix} {name}', *map(_usage, shown)])
        text = sub.description or helps[name]
        options = [f'`{action.option_strings[-1]}`: {action.help}' for action in sub._actions
                   if action.option_strings and action.help and action.help != argparse.SUPPRESS
                   and action.dest not in ('help', 'config', 'data_dir')]
        if options:
            text += '. ' + '; '.join(options)
        lines.append(f'| `{_escape_pipes(usage)}` | {_cell(text)} |')
    return '\n'.join(lines)


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))


def _usage(action: argparse.Action) -> str:
    metavar = '|'.join(action.choices) if action.choices else action.metavar or action.dest.upper()
    if not action.option_strings:
        return metavar
    option = action.option_strings[-1]
    shown = option if action.nargs == 0 else f'{option} {metavar}'
    if isinstance(action, argparse._AppendAction):
        shown += ' ...'
    return shown if action.required else f'[{shown}]'


def module_map(package: Path = ROOT / 'kiosk') -> str:
    """Every module under kiosk/, with the first paragraph of its docstring, read without importing it."""
    lines = ['| module | what it is |', '|---|---|']
    for path in sorted(package.rglob('*.py')):
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ''
        summary = ' '.join(docstring.split('\n\n')[0].split())
        lines.append(f'| `{path.relative_to(ROOT)}` | {_cell(summary)} |')
    return '\n'.join(lines)


def _escape_pipes(text: str) -> str:
    return text.replace('|', '\\|')


def _cell(text: str) -> str:
    """Markdown inside a table cell: no pipes, no line breaks, and no stray HTML outside code spans."""
    parts = ' '.join(text.split()).split('`')
    return _escape_pipes('`'.join(part if n % 2 else part.replace('<', '&lt;') for n, part in enumerate(parts)))


def blocks() -> dict[tuple[str, str], str]:
    """(page, marker name) -> what belongs between `<!-- name:start -->` and `<!-- name:end -->` now."""
    from kiosk.cli import build_parser
    from kiosk.config import Settings
    from kiosk.hub.config import HubSettings

    parser = build_parser()
    hub = _subparsers(parser).choices['hub']
    return {('settings.md', 'settings:kiosk'): settings_table(Settings),
            ('settings.md', 'settings:hub'): settings_table(HubSettings),
            ('settings.md', 'commands:kiosk'): commands_table(parser, 'kiosk', leave_out=('hub',)),
            ('settings.md', 'commands:hub'): commands_table(hub, 'kiosk hub'),
            ('architecture.md', 'modules'): module_map()}


def markers(name: str) -> tuple[str, str]:
    return f'<!-- {name}:start -->', f'<!-- {name}:end -->'


def current(text: str, name: str) -> str | None:
    """The block between a name's markers in a page's text, or None if the page lacks them."""
    start, end = markers(name)
    found = re.search(f'{re.escape(start)}\n(.*?)\n?{re.escape(end)}', text, re.S)
    return found.group(1) if found else None


def replace(text: str, name: str, body: str) -> str:
    start, end = markers(name)
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    return f'{before}{start}\n{body}\n{end}{after}'


def write(docs: Path = DOCS) -> list[str]:
    """Rewrite every generated block; returns the blocks that changed."""
    changed = []
    for (page, name), body in blocks().items():
        path = docs / page
        text = path.read_text()
        if current(text, name) is None:
            raise SystemExit(f'{path}: no {markers(name)[0]} ... {markers(name)[1]} markers')
        if current(text, name) != body:
            path.write_text(replace(text, name, body))
            changed.append(f'{page} {name}')
    return changed


if __name__ == '__main__':
    changed = write()
    print(f'rewrote {", ".join(changed)}' if changed else 'the generated docs were up to date')
    sys.exit(0)
