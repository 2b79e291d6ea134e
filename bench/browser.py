"""What visitors and IT feel, measured in headless Chromium against real servers, next to NiceGUI's hello world.

1. Page load: navigation to the attract screen painted (two animation frames after it is in the DOM),
   and the bytes transferred, against hello world with five cards. Goal: at most 1.2x.
2. Tap latency, timed in the page with performance.now(): a program card until its QR code is painted
   (goal p95 100 ms) and "Send" until the thank-you (goal p95 150 ms, with 50,000 sign-ups stored).
   Both again with the server pinned to one core (taskset -c 0), as a stand-in for a small board.
3. Memory over visits: RSS after warm-up and at the end, the slope per 1,000 visits, and the live
   clients and elements once the browser has left. Goal: at most 10 MB of growth, no upward slope.
4. Start-up: process start until `/` answers, against hello world (goal at most 1.3x), and the import
   time of kiosk.app.
BENCH_VISITS (default 2000) sets the length of the memory run.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.save_latency import seeded_store
from tests.support.ports import free_port

CHECKOUT = Path(__file__).resolve().parent.parent
SETTLE_SECONDS = 10
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']
PAINTED = 'new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now()))))'
# Timed inside the page: from the tap until `selector` is in the DOM and two frames later (painted).
TAP_UNTIL = '''([tapSelector, selector]) => new Promise(done => {
  const started = performance.now();
  const seen = () => { observer.disconnect();
    requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - started))); };
  const observer = new MutationObserver(() => { if (document.querySelector(selector)) seen(); });
  observer.observe(document.body, {childList: true, subtree: true});
  document.querySelector(tapSelector).click();
})'''


class Server:
    """`kiosk run` or the hello world, optionally pinned to one core, on a free loopback port."""

    def __init__(self, kind: str, data_dir: Path | None = None, one_core: bool = False) -> None:
        self.kind = kind
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        command = ([sys.executable, '-m', 'kiosk', 'run', '--port', str(self.port), '--data-dir', str(data_dir)]
                   if kind == 'kiosk' else [sys.executable, str(CHECKOUT / 'bench' / 'hello_world.py'), str(self.port)])
        if one_core:
            command = ['taskset', '-c', '0', *command]
        env = {key: value for key, value in os.environ.items() if not key.startswith('KIOSK_')}
        started = time.perf_counter()
        self.process = subprocess.Popen(command, env={**env, 'KIOSK_KIOSK_ID': 'bench'}, cwd=CHECKOUT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                if httpx.get(self.url + '/', timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.01)
            if self.process.poll() is not None:
                raise RuntimeError(f'{kind} exited with {self.process.returncode}')
        self.startup_seconds = time.perf_counter() - started

    def settle(self) -> Server:
        """Let the kiosk finish what it does just after start-up (QR codes and speech, from 3 s on), as a kiosk
        has long before its first visitor; the page-load and tap figures are for that settled kiosk."""
        if self.kind == 'kiosk':
            time.sleep(SETTLE_SECONDS)
        return self

    def rss_mb(self) -> float:
        status = Path(f'/proc/{self.process.pid}/status').read_text()
        return int(re.search(r'VmRSS:\s+(\d+)', status).group(1)) / 1024

    def live(self) -> tuple[int, int]:
        health = httpx.get(self.url + '/healthz', timeout=10).json()
        return health['clients'], health['elements']

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def renderer_rss_mb() -> float:
    """Chromium's renderer processes, added up: the browser's side of a long day of visits."""
    total = 0
    for process in Path('/proc').iterdir():
        try:
            if process.name.isdigit() and b'--type=renderer' in (process / 'cmdline').read_bytes():
                total += int(re.search(r'VmRSS:\s+(\d+)', (process / 'status').read_text()).group(1))
        except (OSError, AttributeError):
            continue
    return total / 1024


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def page_loads(browser, server: Server, ready: str, runs: int = 15) -> tuple[list[float], int]:
    times, weight = [], 0
    for _ in range(runs):
        context = browser.new_context(viewport={'width': 1280, 'height': 800})
        page = context.new_page()
        page.goto(server.url + '/')
        page.locator(ready).first.wait_for()
        times.append(page.evaluate(PAINTED))
        weight = page.evaluate("performance.getEntriesByType('navigation')[0].transferSize + "
                               "performance.getEntriesByType('resource').reduce((sum, e) => sum + e.transferSize, 0)")
        context.close()
    return times, weight


def connected(page) -> None:
    page.wait_for_function('window.did_handshake === true')
    page.wait_for_timeout(200)


def card_to_qr(browser, server: Server, runs: int = 30) -> list[float]:
    context = browser.new_context(viewport={'width': 1280, 'height': 800})
    page = context.new_page()
    timings = []
    for number in range(runs):
        page.goto(server.url + '/home')
        connected(page)
        card = f'.program-card:nth-child({number % 5 + 1})'
        timings.append(page.evaluate(TAP_UNTIL, [card, '.qr-card svg']))
    context.close()
    return timings


def send_to_thanks(browser, server: Server, runs: int = 20) -> list[float]:
    context = browser.new_context(viewport={'width': 1280, 'height': 800})
    page = context.new_page()
    timings = []
    for _ in range(runs):
        page.goto(server.url + '/program/citizens-academy/signup')
        connected(page)
        page.locator('input').nth(0).fill('Maria Gonzalez')
        page.locator('input').nth(1).fill('3144445371')
        page.locator('.choice').first.click()
        page.locator('.consent .q-checkbox').click()
        page.wait_for_timeout(300)  # let the last change reach the server before timing the tap
        timings.append(page.evaluate(TAP_UNTIL, ['.signup-form .primary-action', '.thanks h1']))
    context.close()
    return timings


def visit(page, server: Server, kind: str) -> None:
    """Attract, two programs, a few letters in the sign-up form, then the idle reset's full load of `/`."""
    if kind == 'kiosk':
        page.goto(server.url + '/')
        page.locator('.begin').first.click()
        page.locator('.program-card:nth-child(1)').click()
        page.locator('.qr-card').first.wait_for()
        page.locator('.secondary-action').first.click()
        page.locator('.program-card:nth-child(4)').click()
        page.locator('.qr-card').first.wait_for()
        page.locator('.screen .primary-action').first.click()
        page.locator('.keyboard').wait_for()
        page.locator('input').first.fill('Rosa')
        page.goto(server.url + '/')  # what the idle reset does: a full load of `/`
        page.locator('.begin').first.wait_for()
    else:
        page.goto(server.url + '/')
        page.locator('.q-card').first.wait_for()
        for button in (0, 3):
            page.locator('.q-btn').nth(button).click()
        page.goto(server.url + '/')
        page.locator('.q-card').first.wait_for()


def memory(browser, server: Server, kind: str, visits: int) -> dict:
    context = browser.new_context(viewport={'width': 1280, 'height': 800})
    page = context.new_page()
    samples: list[tuple[int, float]] = []
    warm = min(100, visits // 4)
    for number in range(1, visits + 1):
        visit(page, server, kind)
        if number >= warm and (number - warm) % max(1, (visits - warm) // 19) == 0:
            samples.append((number, server.rss_mb()))
    renderer = renderer_rss_mb()
    context.close()
    live = None
    if kind == 'kiosk':
        deadline = time.monotonic() + 60
        while (live := server.live()) != (0, 0) and time.monotonic() < deadline:
            time.sleep(1)
    xs, ys = [x for x, _ in samples], [y for _, y in samples]
    slope = statistics.linear_regression(xs, ys).slope * 1000 if len(samples) > 1 else 0.0
    return {'warm_mb': ys[0], 'end_mb': server.rss_mb(), 'slope_mb_per_1000': slope, 'live_after': live,
            'renderer_mb': renderer, 'samples': samples}


def import_time() -> tuple[float, list[tuple[float, str]]]:
    result = subprocess.run([sys.executable, '-X', 'importtime', '-c', 'import kiosk.app'], capture_output=True,
                            text=True, cwd=CHECKOUT)
    rows = []
    for line in result.stderr.splitlines():
        parts = line.split('|')
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]) / 1000, parts[2].rstrip()))
    total = next(ms for ms, name in rows if name.strip() == 'kiosk.app')
    top = sorted(((ms, name.strip()) for ms, name in rows if name.startswith(' ' * 1) and
                  len(name) - len(name.lstrip()) <= 3), reverse=True)[:8]
    return total, top


def result(name: str, figure: float, unit: str, baseline: float | None, baseline_name: str, goal: str,
           met: bool | None) -> dict:
    return {'name': name, 'figure': round(figure, 1), 'unit': unit,
            'baseline': None if baseline is None else round(baseline, 1), 'baseline_name': baseline_name,
            'ratio': round(figure / baseline, 2) if baseline else None, 'goal': goal, 'met': met}


def startup() -> list[dict]:
    """Process start until `/` answers, kiosk and hello world alternating, and the import time of kiosk.app."""
    starts: dict[str, list[float]] = {'kiosk': [], 'hello': []}
    with tempfile.TemporaryDirectory() as scratch:
        for attempt in range(9):
            for kind in starts:
                server = Server(kind, Path(scratch) / f'start-{attempt}')
                starts[kind].append(server.startup_seconds)
                server.stop()
    kiosk_start, hello_start = statistics.median(starts['kiosk']), statistics.median(starts['hello'])
    imported, heaviest = import_time()
    print(f'start-up: kiosk {kiosk_start:.2f} s, hello world {hello_start:.2f} s '
          f'({kiosk_start / hello_start:.2f}x); import kiosk.app {imported:.0f} ms; heaviest: '
          + ', '.join(f'{name} {ms:.0f} ms' for ms, name in heaviest[:5]))
    return [result('start-up until / answers', kiosk_start * 1000, 'ms', hello_start * 1000, 'NiceGUI hello world',
                   '<= 1.3x', kiosk_start / hello_start <= 1.3),
            result('import kiosk.app', imported, 'ms', None, '', 'report', None)]


def run() -> list[dict]:
    from playwright.sync_api import sync_playwright

    visits = int(os.environ.get('BENCH_VISITS', '2000'))
    one_core = shutil.which('taskset') is not None and (os.cpu_count() or 1) > 1
    results = []
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS)

        kiosk = Server('kiosk', Path(scratch) / 'load').settle()
        hello = Server('hello')
        kiosk_loads, kiosk_bytes = page_loads(browser, kiosk, '.begin')
        hello_loads, hello_bytes = page_loads(browser, hello, '.q-card')
        ratio = statistics.median(kiosk_loads) / statistics.median(hello_loads)
        print(f'page load: kiosk median {statistics.median(kiosk_loads):.0f} ms ({kiosk_bytes / 1024:.0f} KiB), '
              f'hello world {statistics.median(hello_loads):.0f} ms ({hello_bytes / 1024:.0f} KiB): {ratio:.2f}x')
        results.append(result('page load, attract painted (median)', statistics.median(kiosk_loads), 'ms',
                               statistics.median(hello_loads), 'NiceGUI hello world, five cards', '<= 1.2x',
                               ratio <= 1.2))
        results.append(result('page weight', kiosk_bytes / 1024, 'KiB', hello_bytes / 1024,
                              'NiceGUI hello world, five cards', 'report', None))
        hello.stop()
        kiosk.stop()

        store_dir = Path(scratch) / 'store'
        seeded_store(store_dir, 50_000)
        for pinned in ([False, True] if one_core else [False]):
            kiosk = Server('kiosk', store_dir, one_core=pinned).settle()
            taps, sends = card_to_qr(browser, kiosk), send_to_thanks(browser, kiosk)
            kiosk.stop()
            where = ' (server on one core)' if pinned else ''
            print(f'tap{where}: card to QR p95 {p95(taps):.0f} ms (median {statistics.median(taps):.0f}); '
                  f'Send to thank-you with 50,000 stored p95 {p95(sends):.0f} ms '
                  f'(median {statistics.median(sends):.0f})')
            results.append(result(f'card to QR painted p95{where}', p95(taps), 'ms', None, '', '<= 100 ms',
                                  p95(taps) <= 100))
            results.append(result(f'Send to thank-you p95, 50,000 stored{where}', p95(sends), 'ms', None, '',
                                  '<= 150 ms', p95(sends) <= 150))

        for kind in ('kiosk', 'hello'):
            server = Server(kind, Path(scratch) / 'memory')
            before = server.rss_mb()
            outcome = memory(browser, server, kind, visits)
            server.stop()
            growth = outcome['end_mb'] - outcome['warm_mb']
            print(f'memory ({kind}, {visits} visits): {before:.0f} MB at start, {outcome["warm_mb"]:.0f} MB after '
                  f'warm-up, {outcome["end_mb"]:.0f} MB at the end ({growth:+.1f} MB), slope '
                  f'{outcome["slope_mb_per_1000"]:+.2f} MB per 1,000 visits; Chromium renderer '
                  f'{outcome["renderer_mb"]:.0f} MB' +
                  (f'; live clients, elements after leaving: {outcome["live_after"]}' if kind == 'kiosk' else ''))
            if kind == 'kiosk':
                kiosk_memory = outcome
            else:
                results.append(result(f'memory growth after warm-up, {visits} visits', kiosk_memory['end_mb'] -
                                      kiosk_memory['warm_mb'], 'MB', growth, 'NiceGUI hello world, same visits',
                                      '<= 10 MB, no upward slope', kiosk_memory['end_mb'] - kiosk_memory['warm_mb']
                                      <= 10 and kiosk_memory['slope_mb_per_1000'] <= 1.0))
                results.append(result('memory slope per 1,000 visits', kiosk_memory['slope_mb_per_1000'], 'MB',
                                      outcome['slope_mb_per_1000'], 'NiceGUI hello world', 'not upward', None))
                results.append(result('Chromium renderer RSS at the end', kiosk_memory['renderer_mb'], 'MB',
                                      outcome['renderer_mb'], 'NiceGUI hello world, same visits', 'report', None))
                results.append({'name': 'live clients and elements after the browser left',
                                'figure': list(kiosk_memory['live_after']), 'goal': '[0, 0]',
                                'met': kiosk_memory['live_after'] == (0, 0)})
        browser.close()
    return results
