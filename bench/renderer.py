"""The Chromium renderer's growth per 1,000 page loads, as the kiosk's own browser lives: no Playwright.

Under Playwright the renderer grows by megabytes per load for any page, hello world too, which is the
driver's hold on the page. Here headless Chromium is started directly on a small harness page that loads the
kiosk's `/` into an iframe again and again (each load left 0.3 s to mount and connect, as a visit would),
and reports each load to the harness's own server. The renderer's RSS comes from /proc. The slope after a
warm-up, per 1,000 loads, is what the nightly restart of `kiosk browser` has to stay ahead of.

BENCH_RELOADS (default 400) sets the number of loads; BENCH_RELOAD_SECONDS (default 480) caps the run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.browser import Server, result
from tests.support.ports import free_port

WARM_UP = 50
HARNESS = '''<!doctype html><html><body style="margin:0">
<iframe id="kiosk" style="width:1280px;height:800px;border:0"></iframe>
<script>
const url = URL_OF_THE_KIOSK, frame = document.getElementById('kiosk');
let loads = 0;
frame.onload = () => {
  loads += 1;
  fetch('/loaded?n=' + loads, {method: 'POST'}).catch(() => {});
  setTimeout(() => { frame.src = url; }, 300);
};
frame.src = url;
</script></body></html>'''


class Harness:
    """Serves the harness page and counts the loads it reports."""

    def __init__(self, kiosk_url: str) -> None:
        self.loads = 0
        page = HARNESS.replace('URL_OF_THE_KIOSK', json.dumps(kiosk_url + '/')).encode()
        harness = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the names http.server calls
                self.send_response(200)
                self.send_header('Content-Type', 'text/html; charset=utf-8')
                self.send_header('Content-Length', str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def do_POST(self) -> None:
                harness.loads = max(harness.loads, int(self.path.rpartition('=')[2] or 0))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', free_port()), Handler)
        self.url = f'http://127.0.0.1:{self.server.server_port}/'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def renderer_kb(browser_pid: int) -> int:
    """VmRSS of this Chromium's renderer processes, added up."""
    total = 0
    for process in Path('/proc').iterdir():
        try:
            if not process.name.isdigit():
                continue
            command = (process / 'cmdline').read_bytes()
            status = (process / 'status').read_text()
            if b'--type=renderer' in command and _descends_from(int(process.name), browser_pid):
                total += int(re.search(r'VmRSS:\s+(\d+)', status).group(1))
        except (OSError, AttributeError):
            continue
    return total


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        stat = Path(f'/proc/{pid}/stat').read_text()
        pid = int(stat.rpartition(')')[2].split()[1])
    return False


def run() -> list[dict]:
    reloads = int(os.environ.get('BENCH_RELOADS', '400'))
    cap = float(os.environ.get('BENCH_RELOAD_SECONDS', '480'))
    with tempfile.TemporaryDirectory() as scratch:
        kiosk = Server('kiosk', Path(scratch) / 'var').settle()
        harness = Harness(kiosk.url)
        chromium = subprocess.Popen(
            ['/usr/bin/chromium', '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--window-size=1280,800', f'--user-data-dir={Path(scratch) / "profile"}', harness.url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0)
        samples: list[tuple[int, int]] = []
        started = time.monotonic()
        try:
            while harness.loads < reloads and time.monotonic() - started < cap:
                time.sleep(2)
                if chromium.poll() is not None:
                    raise RuntimeError(f'Chromium exited with {chromium.returncode}')
                if harness.loads >= WARM_UP:
                    samples.append((harness.loads, renderer_kb(chromium.pid)))
        finally:
            os.killpg(chromium.pid, signal.SIGTERM)
            chromium.wait(timeout=30)
            harness.stop()
            kiosk.stop()
    loads = harness.loads
    seconds = time.monotonic() - started
    if len(samples) < 3 or samples[-1][0] - samples[0][0] < 50:
        raise RuntimeError(f'only {loads} loads in {seconds:.0f} s: too few to measure growth')
    slope_kb = statistics.linear_regression([n for n, _ in samples], [kb for _, kb in samples]).slope
    first, last = samples[0][1] / 1024, samples[-1][1] / 1024
    print(f'renderer without Playwright: {loads} loads in {seconds:.0f} s; {first:.0f} MB after {WARM_UP} loads, '
          f'{last:.0f} MB at the end; {slope_kb:+.0f} KB per load ({slope_kb * 1000 / 1024:+.1f} MB per 1,000 loads)')
    return [result('Chromium renderer growth per 1,000 loads, no Playwright', slope_kb * 1000 / 1024, 'MB', None,
                   '', 'report', None),
            result(f'Chromium renderer RSS after {loads} loads, no Playwright', last, 'MB', None, '', 'report',
                   None)]
