"""`make bench`: every benchmark next to a baseline measured in the same run, then bench/results.json.

Each module's `run()` prints its own table and returns results: a figure, its baseline, the ratio and
the goal. A missed goal is reported (and makes the exit code 1); it is never loosened here.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import browser, catch_up, hub, save_latency

RESULTS = Path(__file__).with_name('results.json')
SUITES = {'browser': browser.run, 'catch_up': catch_up.run, 'save_latency': save_latency.run, 'hub': hub.run}


def main(names: list[str]) -> int:
    chosen = names or list(SUITES)
    results = []
    for name in chosen:
        print(f'\n== {name} ==')
        started = time.monotonic()
        results += SUITES[name]()
        print(f'({time.monotonic() - started:.0f} s)')
    missed = [result['name'] for result in results if result.get('met') is False]
    RESULTS.write_text(json.dumps({
        'measured_at': datetime.now(UTC).isoformat(timespec='seconds'),
        'machine': f'{platform.node()} · {platform.machine()} · {platform.processor() or "cpu"} · '
                   f'Python {platform.python_version()}',
        'results': results,
    }, indent=2) + '\n')
    print(f'\nwrote {RESULTS}; goals missed: {", ".join(missed) if missed else "none"}')
    return 1 if missed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
