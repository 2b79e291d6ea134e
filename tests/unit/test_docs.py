"""The docs hold: every link between the pages resolves, and every generated table is what the code gives now."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk import reference

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
FENCE = re.compile(r'^```.*?^```', re.S | re.M)
CODE_SPAN = re.compile(r'`[^`\n]*`')


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (not - or _), spaces to hyphens."""
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', heading.strip()).replace('`', '').lower()
    return re.sub(r'[^\w\- ]', '', text).replace(' ', '-')


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r'^#{1,6}\s+(.+?)\s*#*\s*$', FENCE.sub('', page.read_text()), re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f'{base}-{count}')
    return found


def links(page: Path) -> list[str]:
    text = CODE_SPAN.sub('', FENCE.sub('', page.read_text()))
    return [target for target in LINK.findall(text) if not re.match(r'[a-z][a-z0-9+.-]*:', target)]


def test_the_slug_is_githubs():
    assert slug('`kiosk doctor`') == 'kiosk-doctor'
    assert slug("The hub's layers") == 'the-hubs-layers'
    assert slug('Print this for me / Imprimir esto para mí') == 'print-this-for-me--imprimir-esto-para-mí'
    assert slug('Hardware, image and installer') == 'hardware-image-and-installer'


def test_the_readme_links_every_page_under_docs():
    linked = {(ROOT / target.split('#')[0]).resolve() for target in links(ROOT / 'README.md')}
    assert {page for page in PAGES[1:]} <= linked, 'README.md: add the page to "Who are you, and which page is yours"'


@pytest.mark.parametrize('page', PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page):
    broken = []
    for target in links(page):
        path, _, anchor = target.partition('#')
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f'{target}: no such file')
        elif anchor and resolved.suffix == '.md' and anchor not in anchors(resolved):
            broken.append(f'{target}: no heading with that anchor in {resolved.relative_to(ROOT)}')
    assert not broken, f'{page.relative_to(ROOT)}: ' + '; '.join(broken)


@pytest.mark.parametrize('block', list(reference.blocks()), ids=lambda block: f'{block[0]}:{block[1]}')
def test_every_generated_block_is_what_the_code_gives_now(block):
    page, name = block
    text = (ROOT / 'docs' / page).read_text()
    assert reference.current(text, name) is not None, f'docs/{page}: the markers of {name} are missing'
    assert reference.current(text, name) == reference.blocks()[block], \
        f'docs/{page}: the {name} block is out of date with the code: run `make docs`'


def test_every_setting_has_a_description():
    from kiosk.config import Settings
    from kiosk.hub.config import HubSettings

    undescribed = [f'{model.__name__}.{name}' for model in (Settings, HubSettings)
                   for name, field in model.model_fields.items() if not field.description]
    assert not undescribed, f'give these a docstring under the field, then run `make docs`: {undescribed}'


def test_the_readme_stays_short_and_starts_with_the_two_commands():
    readme = (ROOT / 'README.md').read_text()
    assert len(readme.encode()) <= 8192, 'README.md is for every reader: move the detail to a page under docs/'
    assert readme.startswith('# kiosk: SLMPD community programs\n')
    setup = readme.index('## Set up')
    assert readme[setup:].split('```sh\n', 1)[1].startswith('make run    #') and '\nmake test   #' in readme
