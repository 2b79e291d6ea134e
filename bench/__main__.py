"""`make bench`: every benchmark next to a baseline measured in the same run, then bench/results.json.

Each module's `run()` prints its own table and returns results: a figure, its baseline, the ratio and
the goal. A missed goal is reported (and makes the exit code 1); it is never loosened here.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import browser, catch_up, console, content_poll, content_switch, follow_up, hub, renderer, save_latency
from bench.report import update_page

RESULTS = Path(__file__).with_name('results.json')
SUITES = {'startup': browser.startup, 'browser': browser.run, 'renderer': renderer.run, 'catch_up': catch_up.run,
          'save_latency': save_latency.run, 'console': console.run, 'hub': hub.run,
          'follow_up': follow_up.run, 'content_poll': content_poll.run, 'content_switch': content_switch.run}


def main(names: list[str]) -> int:
    chosen = names or list(SUITES)
    # A run of some suites keeps the others' last results, so the file always describes all of them.
    # Each result keeps the time and the machine it was measured on, so docs/performance.md can say where every
    # figure is from.
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {'results': []}
    kept = [{'measured_at': previous.get('measured_at'), 'machine': previous.get('machine'), **result}
            for result in previous['results']]
    fresh = []
    for name in chosen:
        print(f'\n== {name} ==')
        started = time.monotonic()
        fresh += [{'suite': name, **result, 'measured_at': datetime.now(UTC).isoformat(timespec='seconds'),
                   'machine': _machine()} for result in SUITES[name]()]
        print(f'({time.monotonic() - started:.0f} s)')
    measured = {result['name'] for result in fresh}
    results = [result for result in kept if result.get('suite') not in chosen and result['name'] not in measured]
    results += fresh
    results.sort(key=lambda result: list(SUITES).index(result['suite']) if result.get('suite') in SUITES else 99)
    missed = [result['name'] for result in results if result.get('met') is False]
    report = {'measured_at': datetime.now(UTC).isoformat(timespec='seconds'), 'machine': _machine(),
              'results': results}
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + '\n')
    updated = update_page(report)
    print(f'\nwrote {RESULTS}{" and the table in docs/performance.md" if updated else ""}; '
          f'goals missed: {", ".join(missed) if missed else "none"}')
    return 1 if missed else 0


def _machine() -> str:
    """What the figures were measured on: cores, memory and CPU model (the table in docs/performance.md states it)."""
    model = next((line.split(':', 1)[1].strip() for line in Path('/proc/cpuinfo').read_text().splitlines()
                  if line.startswith('model name')), platform.processor() or 'unknown CPU')
    memory_gb = int(Path('/proc/meminfo').read_text().split()[1]) / 1024 ** 2
    return f'{os.cpu_count()} cores of {model}, {memory_gb:.0f} GiB, {platform.machine()}, Python ' \
           f'{platform.python_version()}'



if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
