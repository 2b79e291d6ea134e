"""Time from a content switch to the first visitor seeing the new content, on a real `kiosk run`.

Each round applies a newly signed version to the kiosk's data dir (verify, stage, prepare, switch: what
`kiosk content apply` does), then times the very next page load of `/` and checks that it shows the new title.
Baseline: the same page load with no switch before it, in the same run. Goal: the first load after a switch
shows the new content (no restart, no second load) and takes at most twice a plain load.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.bundle import PROGRAMS, build, parse_public_key, public_key_text
from kiosk.paths import ASSETS_DIR
from kiosk.published import PublishedContent
from tests.support.ports import free_port
from tests.support.processes import KioskProcess, clean_environment

ROUNDS = 7
PLAIN_LOADS = 21
GOAL_RATIO = 2.0


def run() -> list[dict]:
    key = Ed25519PrivateKey.generate()
    factory = (ASSETS_DIR / 'programs.toml').read_bytes()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / 'var'
        env = {**clean_environment(), 'KIOSK_KIOSK_ID': 'bench', 'KIOSK_CONTENT_PUBLIC_KEY': public_key_text(key)}
        kiosk = KioskProcess(data_dir, free_port(), env).start()
        try:
            content = PublishedContent(data_dir, ASSETS_DIR / 'programs.toml', 'bench',
                                       parse_public_key(public_key_text(key)))
            with httpx.Client(base_url=kiosk.url, timeout=30) as client:
                for _ in range(3):
                    client.get('/')  # warm: imports, first render
                plain = [_timed(client)[0] for _ in range(PLAIN_LOADS)]
                after_switch, all_new = [], True
                for version in range(1, ROUNDS + 1):
                    title = f'Citizens Academy round {version}'
                    data = build({PROGRAMS: factory.replace(b'title = "Citizens Academy"',
                                                            f'title = "{title}"'.encode(), 1)}, version, key)
                    content.apply(data)
                    seconds, page = _timed(client)
                    after_switch.append(seconds)
                    all_new = all_new and f'"{title} ·' in page
        finally:
            kiosk.kill()
    first, baseline = statistics.median(after_switch), statistics.median(plain)
    ratio = first / baseline
    print(f'content switch: first page load after a switch {first * 1000:.0f} ms (median of {ROUNDS}), '
          f'a plain page load {baseline * 1000:.0f} ms (median of {PLAIN_LOADS}); ratio {ratio:.2f}; '
          f'the first load showed the new content every time: {all_new}')
    return [{'name': 'switch to first visitor seeing new content', 'figure': round(first * 1000, 1), 'unit': 'ms',
             'baseline': round(baseline * 1000, 1), 'baseline_name': 'plain page load, no switch',
             'ratio': round(ratio, 2), 'goal': f'new content at the first load, <= {GOAL_RATIO}x a plain load',
             'met': all_new and ratio <= GOAL_RATIO}]


def _timed(client: httpx.Client) -> tuple[float, str]:
    started = time.perf_counter()
    page = client.get('/').text
    return time.perf_counter() - started, page
