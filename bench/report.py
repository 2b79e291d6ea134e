"""docs/performance.md's table, generated from bench/results.json between two markers."""

from __future__ import annotations

import json
from pathlib import Path

from kiosk.reference import current, replace

PAGE = Path(__file__).resolve().parent.parent / 'docs' / 'performance.md'


def _figure(value, unit: str | None) -> str:
    if value is None:
        return ''
    if isinstance(value, list):
        return ', '.join(str(part) for part in value)
    text = f'{value:,}' if isinstance(value, int) else f'{value:,.1f}' if isinstance(value, float) else str(value)
    return f'{text} {unit}' if unit else text


def table(report: dict) -> str:
    days = sorted({(result.get('measured_at') or report['measured_at'])[:10] for result in report['results']})
    when = days[0] if len(days) == 1 else f'{days[0]} to {days[-1]}'
    machines = list(dict.fromkeys(result.get('machine') or report['machine'] for result in report['results']))
    where = machines[0] if len(machines) == 1 else \
        'several machines (the mark after each measure): ' + '; '.join(f'({n}) {m}' for n, m in enumerate(machines, 1))
    lines = [f'Measured {when} on {where}, each figure next to its baseline from '
             'the same run (`make bench`; `bench/results.json`).', '',
             '| measure | figure | baseline (same run) | ratio | goal | met |', '|---|---|---|---|---|---|']
    for result in report['results']:
        mark = f' ({machines.index(result.get("machine") or report["machine"]) + 1})' if len(machines) > 1 else ''
        baseline = _figure(result.get('baseline'), result.get('unit'))
        if baseline and result.get('baseline_name'):
            baseline = f'{baseline} ({result["baseline_name"]})'
        if result.get('floor') is not None:  # save latency: the disk's own floor, a bare write + fsync
            baseline += f'; floor {_figure(result["floor"], result.get("unit"))} ({result["floor_name"]})'
        growth = isinstance(result['figure'], (int, float)) and result['figure'] <= 0
        ratio = f'{result["ratio"]}x' if result.get('ratio') is not None and not growth else ''
        met = {True: 'yes', False: '**no**', None: ''}[result.get('met')]
        figure = _figure(result['figure'], result.get('unit'))
        if result.get('plan'):  # the hub's list page: what PostgreSQL's plan of its slowest view costs
            figure += f' ({result["plan"]})'
        lines.append(f'| {result["name"]}{mark} | {figure} | {baseline} | {ratio} | {result.get("goal", "")} | {met} |')
    return '\n'.join(lines)


def update_page(report: dict) -> bool:
    """Rewrite the table between the page's bench markers (as `make docs` does its blocks); False if it has none."""
    text = PAGE.read_text()
    if current(text, 'bench') is None:
        return False
    PAGE.write_text(replace(text, 'bench', table(report)))
    return True


if __name__ == '__main__':
    update_page(json.loads((Path(__file__).with_name('results.json')).read_text()))
