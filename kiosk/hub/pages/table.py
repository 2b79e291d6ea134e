"""A plain HTML table of figures for the hub's screens (Kiosks, Activity): column headings that a screen reader
reads out with each cell, and cells of text (a label never renders as HTML)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from nicegui import ui


@contextmanager
def figures_table(headings: Sequence[str], css: str, marker: str) -> Iterator[None]:
    """The table and its heading row; the rows (`ui.element('tr')`, each of `cell()`s) go inside."""
    with ui.element('table').classes(css).mark(marker):
        with ui.element('thead'), ui.element('tr'):
            for heading in headings:
                with ui.element('th').props('scope=col'):
                    ui.label(heading)
        with ui.element('tbody'):
            yield


def cell(text: str) -> None:
    with ui.element('td'):
        ui.label(text)
