"""A printed slip for visitors without a smartphone: what a program is, who to call, and the same QR codes.

`compose` decides what a slip says; `print_slip` sends it to any python-escpos printer (ESC/POS, QR codes
printed natively); `SlipPrinter` opens the configured printer off the event loop, with a timeout, one slip
at a time; `preview` draws the same slip as an image for the README. A slip never carries personal data:
it is made from the programs file alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import textwrap
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.config import Language
from kiosk.content import Program
from kiosk.i18n import meeting_when, t
from kiosk.phone import friendly
from kiosk.qr import qr_actions

log = logging.getLogger('kiosk.slip')

WIDTH = 42  # characters per line in font A on 80 mm paper
BIG_WIDTH = WIDTH // 2  # double width
PRINT_TIMEOUT_SECONDS = 15
STUCK_LIMIT = 2  # prints still hanging before the kiosk stops starting new ones


@dataclass(frozen=True)
class Slip:
    title: str
    summary: list[str]
    call_label: str
    phone: str | None
    meeting: str | None
    place: str | None
    url: str | None
    codes: list[tuple[str, str]] = field(default_factory=list)  # (caption, QR payload)
    location: str | None = None


def compose(program: Program, language: Language, next_meeting: datetime | None, location: str | None) -> Slip:
    words = program.words(language)
    summary = two_lines(words.summary)
    codes = [(action.caption, action.payload)
             for action in qr_actions(program, language, [next_meeting] if next_meeting else [])]
    when = meeting_when(next_meeting, language) if next_meeting else None
    return Slip(title=words.title, summary=summary, call_label=t('slip_call', language),
                phone=friendly(program.phone) if program.phone else None,
                meeting=t('slip_meeting', language, when=when) if when else None,
                place=program.meetings.location if program.meetings and next_meeting else None,
                url=str(program.url) if program.url else None, codes=codes, location=location)


def two_lines(summary: str) -> list[str]:
    """Whole sentences that fit on two lines; a first sentence too long for that is shortened with '…'."""
    sentences = re.split(r'(?<=[.!?])\s+', summary.strip())
    kept = ''
    for sentence in sentences:
        candidate = f'{kept} {sentence}'.strip()
        if len(textwrap.wrap(candidate, WIDTH)) > 2:
            break
        kept = candidate
    return textwrap.wrap(kept, WIDTH) if kept else textwrap.wrap(summary, WIDTH, max_lines=2, placeholder=' …')


def print_slip(printer: Any, slip: Slip) -> None:
    """Send one slip to a python-escpos printer (a real one, or Dummy in tests)."""
    printer.set(align='center', bold=True, double_height=True, double_width=True)
    for line in textwrap.wrap(slip.title, BIG_WIDTH):
        printer.textln(line)
    printer.set(normal_textsize=True, align='left')
    printer.ln()
    for line in slip.summary:
        printer.textln(line)
    if slip.phone:
        printer.ln()
        printer.set(align='center')
        printer.textln(slip.call_label)
        printer.set(align='center', bold=True, double_height=True, double_width=True)
        printer.textln(slip.phone)
        printer.set(normal_textsize=True, align='left')
    if slip.meeting:
        printer.ln()
        printer.set(bold=True)
        printer.textln(slip.meeting)
        printer.set(bold=False)
        for line in textwrap.wrap(slip.place or '', WIDTH):
            printer.textln(line)
    if slip.url:
        printer.ln()
        printer.textln(slip.url)
    for caption, payload in slip.codes:
        printer.ln()
        printer.set(align='center')
        for line in textwrap.wrap(caption, WIDTH):
            printer.textln(line)
        printer.qr(payload, size=6, native=True)
    printer.set(align='center')
    if slip.location:
        printer.ln()
        for line in textwrap.wrap(slip.location, WIDTH):
            printer.textln(line)
    printer.cut()


def open_printer(spec: str) -> Any:
    """`usb:VID:PID` (hex), `serial:/dev/ttyUSB0` or `file:/dev/usb/lp0`, as KIOSK_PRINTER names it."""
    from escpos import printer as escpos

    kind, _, where = spec.partition(':')
    if kind == 'usb':
        vendor, _, product = where.partition(':')
        device = escpos.Usb(int(vendor, 16), int(product, 16), timeout=PRINT_TIMEOUT_SECONDS * 1000)
    elif kind == 'serial':
        device = escpos.Serial(where, timeout=PRINT_TIMEOUT_SECONDS)
    else:
        device = escpos.File(where)
    device.open()
    return device


class PrinterUnavailable(Exception):
    """The slip did not print; the reason is for staff and the log, never shown to a visitor as is."""


class SlipPrinter:
    """The configured printer: prints off the event loop with a timeout and keeps its last known state."""

    def __init__(self, spec: str, timeout: float = PRINT_TIMEOUT_SECONDS) -> None:
        self.spec = spec
        self.timeout = timeout
        self.state = 'unknown'  # 'ready', 'out_of_paper', 'not_found', 'not_responding', 'error'
        self._workers: list[threading.Thread] = []
        self._one_at_a_time = threading.Lock()

    def print_now(self, slip: Slip) -> None:
        """Blocking: open, print, close. Raises PrinterUnavailable with the reason."""
        with self._one_at_a_time:
            try:
                device = open_printer(self.spec)
            except Exception as error:  # escpos raises its own errors, OSError and usb.core errors alike
                self.state = 'not_found'
                raise PrinterUnavailable(f'{type(error).__name__}: {error}') from error
            try:
                print_slip(device, slip)
            except Exception as error:
                self.state = 'error'
                raise PrinterUnavailable(f'{type(error).__name__}: {error}') from error
            finally:
                _close_quietly(device)
            self.state = 'ready'

    async def print(self, slip: Slip) -> bool:
        """True when the slip went to the printer; False, quickly, when the printer cannot take it now."""
        self._workers = [worker for worker in self._workers if worker.is_alive()]
        if len(self._workers) >= STUCK_LIMIT:  # earlier prints still hang: do not pile up more
            self.state = 'not_responding'
            return False
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()

        def work() -> None:
            try:
                self.print_now(slip)
                outcome: BaseException | None = None
            except PrinterUnavailable as error:
                outcome = error
            with contextlib.suppress(RuntimeError):  # the loop may be gone by the time a hung print ends
                loop.call_soon_threadsafe(_settle, done, outcome)

        # A daemon thread: a printer that never answers must not keep the kiosk from shutting down.
        worker = threading.Thread(target=work, name='print slip', daemon=True)
        self._workers.append(worker)
        worker.start()
        try:
            await asyncio.wait_for(done, self.timeout)
        except TimeoutError:
            self.state = 'not_responding'
            log.error('printer (%s) did not answer within %.0f s', self.spec.partition(':')[0], self.timeout)
            return False
        except PrinterUnavailable as error:
            log.error('printer: %s', error)
            return False
        return True

    def check(self) -> str:
        """Ask the printer how it is (blocking; the scheduler calls it). A file device can only be found or not."""
        kind, _, where = self.spec.partition(':')
        if kind == 'file':
            self.state = 'ready' if Path(where).exists() and os.access(where, os.W_OK) else 'not_found'
            return self.state
        if any(worker.is_alive() for worker in self._workers):
            return self.state
        try:
            device = open_printer(self.spec)
        except Exception:
            self.state = 'not_found'
            return self.state
        try:
            paper = device.paper_status()
            self.state = 'out_of_paper' if paper == 0 else 'ready'
        except Exception:
            self.state = 'error'
        finally:
            _close_quietly(device)
        return self.state

def _settle(done: asyncio.Future, error: BaseException | None) -> None:
    if done.done():  # it timed out already
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


def _close_quietly(device: Any) -> None:
    try:
        device.close()
    except Exception:  # closing a broken device must not hide why it broke
        log.debug('printer did not close cleanly')


def preview(slip: Slip, width_px: int = 576) -> Any:
    """The slip as a PIL image (576 dots: 80 mm paper at 203 dpi), for the README; not used when printing."""
    import qrcode
    from PIL import Image, ImageDraw, ImageFont

    def font(size: int) -> Any:
        for name in ('DejaVuSans-Bold.ttf', 'DejaVuSans.ttf'):
            try:
                return ImageFont.truetype(name, size)
            except OSError:
                continue
        return ImageFont.load_default()

    def wrapped(kind: str, text: str) -> list[tuple[str, Any]]:
        return [(kind, line) for line in textwrap.wrap(text, BIG_WIDTH if kind == 'big' else WIDTH)]

    blocks = [*wrapped('big', slip.title), ('gap', None), *[('text', line) for line in slip.summary]]
    if slip.phone:
        blocks += [('gap', None), *wrapped('center', slip.call_label), ('big', slip.phone)]
    if slip.meeting:
        blocks += [('gap', None), ('bold', slip.meeting), *[('text', line) for line in textwrap.wrap(slip.place or '',
                                                                                                     WIDTH)]]
    if slip.url:
        blocks += [('gap', None), ('text', slip.url)]
    for caption, payload in slip.codes:
        blocks += [('gap', None), *wrapped('center', caption), ('qr', payload)]
    if slip.location:
        blocks += [('gap', None), *wrapped('center', slip.location)]
    canvas = Image.new('L', (width_px, 4000), 255)
    draw = ImageDraw.Draw(canvas)
    y = 24
    for kind, value in blocks:
        if kind == 'gap':
            y += 16
        elif kind == 'qr':
            code = qrcode.make(value, box_size=6, border=2).get_image().convert('L')
            canvas.paste(code, ((width_px - code.width) // 2, y))
            y += code.height + 8
        else:
            face = font(38 if kind == 'big' else 21)
            text_width = draw.textlength(value, font=face)
            x = (width_px - text_width) // 2 if kind in ('big', 'center') else 16
            draw.text((x, y), value, font=face, fill=0)
            y += 52 if kind == 'big' else 30
    return canvas.crop((0, 0, width_px, y + 24))
