"""A printed slip for visitors without a smartphone: what a program is, who to call, and the same QR codes.

`compose` decides what a slip says; `print_slip` lays it out for the paper's `printer_columns` and sends it to
any python-escpos printer (ESC/POS, QR codes printed natively); `SlipPrinter` opens the configured printer off
the event loop, with a timeout, one slip at a time; `preview` draws the bytes of the same slip, as
`kiosk.receipt` reads them, for the docs. A slip never carries personal data: it is made from the programs
file alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import textwrap
import threading
import unicodedata
from collections.abc import Callable
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

COLUMNS = 42  # characters per line in font A on common 80 mm paper (the printer_columns setting)
SPANISH_LETTERS = 'áéíóúüñÁÉÍÓÚÜÑ¿¡'
PLAIN_TYPOGRAPHY = str.maketrans({'‘': "'", '’': "'", '‚': "'", '“': '"', '”': '"', '„': '"', '‐': '-', '‑': '-',
                                  '–': '-', '—': '-', '−': '-', '•': '*'})
PRINT_TIMEOUT_SECONDS = 15
STUCK_LIMIT = 2  # prints still hanging before the kiosk stops starting new ones


@dataclass(frozen=True)
class Slip:
    title: str
    summary: str
    call_label: str
    phone: str | None
    meeting: str | None
    place: str | None
    url: str | None
    codes: list[tuple[str, str]] = field(default_factory=list)  # (caption, QR payload)
    location: str | None = None


def compose(program: Program, language: Language, next_meeting: datetime | None, location: str | None) -> Slip:
    words = program.words(language)
    codes = [(action.caption, action.payload)
             for action in qr_actions(program, language, [next_meeting] if next_meeting else [])]
    when = meeting_when(next_meeting, language) if next_meeting else None
    return Slip(title=words.title, summary=words.summary, call_label=t('slip_call', language),
                phone=friendly(program.phone) if program.phone else None,
                meeting=t('slip_meeting', language, when=when) if when else None,
                place=program.meetings.location if program.meetings and next_meeting else None,
                url=str(program.url) if program.url else None, codes=codes, location=location)


def two_lines(summary: str, columns: int) -> list[str]:
    """Whole sentences that fit on two lines; a first sentence too long for that is shortened with '...'."""
    sentences = re.split(r'(?<=[.!?])\s+', summary.strip())
    kept = ''
    for sentence in sentences:
        candidate = f'{kept} {sentence}'.strip()
        if len(wrap(candidate, columns)) > 2:
            break
        kept = candidate
    if kept:
        return wrap(kept, columns)
    return textwrap.wrap(summary, columns, max_lines=2, placeholder=' ...', break_on_hyphens=False)


def wrap(text: str, columns: int) -> list[str]:
    """Lines of whole words; only a word wider than the paper (a web address) breaks, after a '/' where it has one."""
    lines = []
    for line in textwrap.wrap(text, columns, break_long_words=False, break_on_hyphens=False):
        while len(line) > columns:
            cut = line.rfind('/', 0, columns) + 1 or columns
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return lines


def slip_code_page(profile: Any) -> str:
    """The code page for the slip: of those the printer profile lists, the one with the most Spanish letters,
    lowest ESC t slot first (the low slots are the ones every printer has; CP850 on Epson and most clones)."""
    from escpos.magicencode import Encoder

    pages = profile.get_code_pages()
    encoder = Encoder(pages)
    return max(sorted(pages, key=lambda name: int(pages[name])),
               key=lambda name: sum(encoder.can_encode(name, letter) for letter in SPANISH_LETTERS))


def printable(text: str, can_print: Callable[[str], bool]) -> str:
    """The text as the code page can print it, so python-escpos never substitutes '?': every kind of space (Babel's
    times hold U+202F) becomes a space, control characters go, and a character the code page lacks becomes its
    plain form ('…' three dots, 'ā' 'a', curly quotes straight), or goes when it has none."""
    kept = []
    for character in unicodedata.normalize('NFC', text):
        if character.isspace():
            kept.append(' ')
        elif unicodedata.category(character).startswith('C'):
            continue
        elif can_print(character):
            kept.append(character)
        else:
            plain = ''.join(part for part in unicodedata.normalize('NFKD', character.translate(PLAIN_TYPOGRAPHY))
                            if not unicodedata.combining(part))
            kept.append(plain if all(can_print(part) for part in plain) else '')
    return ''.join(kept)


class _Paper:
    """One slip's layout: every text made printable in the chosen code page, then wrapped to the paper."""

    def __init__(self, printer: Any, columns: int) -> None:
        from escpos.magicencode import Encoder

        self.printer, self.columns = printer, columns
        self.code_page = slip_code_page(printer.profile)
        encoder = Encoder(printer.profile.get_code_pages())
        self.can_print = lambda character: encoder.can_encode(self.code_page, character)
        printer.charcode(self.code_page)  # ESC t, once; python-escpos then never switches on its own

    def write(self, text: str, big: bool = False) -> None:
        for line in wrap(printable(text, self.can_print), self.columns // 2 if big else self.columns):
            self.printer.textln(line)

    def qr(self, payload: str) -> None:
        """Natively printed, 6 dots a module where the paper allows, fewer for a large code on narrow paper."""
        import qrcode

        code = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_L)
        code.add_data(payload)
        code.make(fit=True)
        self.printer.qr(payload, size=max(1, min(6, self.columns * 12 // code.modules_count)), native=True)


def print_slip(printer: Any, slip: Slip, columns: int = COLUMNS) -> None:
    """Send one slip to a python-escpos printer (a real one, or Dummy in tests), `columns` characters a line."""
    paper = _Paper(printer, columns)
    printer.set(align='center', bold=True, double_height=True, double_width=True)
    paper.write(slip.title, big=True)
    printer.set(normal_textsize=True, align='left')
    printer.ln()
    for line in two_lines(printable(slip.summary, paper.can_print), columns):
        printer.textln(line)
    if slip.phone:
        printer.ln()
        printer.set(align='center')
        paper.write(slip.call_label)
        printer.set(align='center', bold=True, double_height=True, double_width=True)
        paper.write(slip.phone, big=True)
        printer.set(normal_textsize=True, align='left')
    if slip.meeting:
        printer.ln()
        printer.set(bold=True)
        paper.write(slip.meeting)
        printer.set(bold=False)
        paper.write(slip.place or '')
    if slip.url:
        printer.ln()
        paper.write(slip.url)
    for caption, payload in slip.codes:
        printer.ln()
        printer.set(align='center')
        paper.write(caption)
        paper.qr(payload)
    printer.set(align='center')
    if slip.location:
        printer.ln()
        paper.write(slip.location)
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

    def __init__(self, spec: str, columns: int = COLUMNS, timeout: float = PRINT_TIMEOUT_SECONDS) -> None:
        self.spec = spec
        self.columns = columns
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
                print_slip(device, slip, self.columns)
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


def preview(slip: Slip, columns: int = COLUMNS) -> Any:
    """The slip as a PIL image for the docs, drawn from the bytes a printer would receive, not from the model."""
    from escpos.printer import Dummy

    from kiosk.receipt import draw_receipt, read_receipt

    printer = Dummy()
    print_slip(printer, slip, columns)
    return draw_receipt(read_receipt(printer.output), columns)
