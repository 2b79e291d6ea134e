"""Every CSS class the code puts on an element has a rule somewhere: ours or Quasar's.

Tailwind's runtime is off (it compiled CSS in the browser on every change), so a Tailwind class
written from habit would silently do nothing. This catches it before a screen loses its layout.
"""

from __future__ import annotations

import re
from pathlib import Path

import nicegui

ROOT = Path(__file__).resolve().parents[2]
OURS = [ROOT / 'assets' / 'static' / name for name in ('layout.css', 'kiosk.css', 'hub.css')]
NICEGUI_STATIC = Path(nicegui.__file__).parent / 'static'
THEIRS = [NICEGUI_STATIC / 'quasar.important.prod.css', NICEGUI_STATIC / 'quasar.unimportant.prod.css',
          NICEGUI_STATIC / 'nicegui.css']
CLASS_LITERALS = re.compile(r"\.classes\((?:replace=)?f?'([^']*)'")
# NiceGUI's rows and columns set their own alignment over Quasar's classes of the same name.
ALIGNMENT = re.compile(r'^(items|justify|self|content)-')


def defined_classes(paths: list[Path]) -> set[str]:
    css = ''.join(path.read_text() for path in paths)
    return {name.replace('\\', '') for name in re.findall(r'\.((?:[\w-]|\\.)+)', css)}


def used_classes() -> dict[str, str]:
    used = {}
    for path in (ROOT / 'kiosk').rglob('*.py'):
        for literal in CLASS_LITERALS.findall(path.read_text()):
            for name in literal.split():
                if '{' not in name:
                    used.setdefault(name, str(path.relative_to(ROOT)))
    return used


def test_every_class_the_code_uses_has_a_rule():
    ours, anywhere = defined_classes(OURS), defined_classes(OURS + THEIRS)
    undefined = {name: where for name, where in used_classes().items()
                 if name not in (ours if ALIGNMENT.match(name) else anywhere)}
    assert undefined == {}
