"""What a receipt printer makes of ESC/POS bytes: the lines it prints, its QR codes and the cut, and a picture of them.

`read_receipt` reads bytes the way a printer does, and strictly: a control byte or command it does not know, text
above 0x7F before a code page is chosen (the printer's own default would decide), or text still unprinted at the
cut is an error, not a guess. The slip's tests read every slip through it, and the slip's picture in the docs is
`draw_receipt` of the same bytes, so both show what the printer will print rather than what the kiosk meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ESC, GS, LF = 0x1B, 0x1D, 0x0A
DOTS_PER_COLUMN, DOTS_PER_ROW, LINE_PITCH = 12, 24, 30  # font A is 12 x 24 dots; 1/6 inch between lines
ALIGNMENTS = {0: 'left', 1: 'center', 2: 'right', 48: 'left', 49: 'center', 50: 'right'}
QR_LEVELS = {48: 'L', 49: 'M', 50: 'Q', 51: 'H'}


class UnknownCommand(ValueError):
    """The bytes hold something this reader does not know; a printer might print it as garbage, or stall."""


@dataclass(frozen=True)
class PrintedLine:
    text: str
    align: str = 'left'
    bold: bool = False
    width: int = 1  # how many columns each character takes (2 in double width)
    height: int = 1

    @property
    def columns(self) -> int:
        return len(self.text) * self.width


@dataclass(frozen=True)
class PrintedQr:
    payload: str
    module_dots: int
    error_level: str
    align: str


@dataclass(frozen=True)
class Cut:
    pass


Printed = PrintedLine | PrintedQr | Cut


def code_page_characters(name: str) -> str:
    """Characters 0x80 to 0xFF of a code page, from python-escpos' code page table ('\ufffd' where none)."""
    from escpos.codepages import CodePages

    page = CodePages.get_encoding(name)
    if 'data' in page:
        return ''.join(page['data'])
    return bytes(range(0x80, 0x100)).decode(page['python_encode'], errors='replace')


class _Reader:
    def __init__(self, data: bytes, profile: Any) -> None:
        self.data, self.at = data, 0
        self.slots: dict[str, str] = profile.codePages  # ESC t slot -> code page name
        self.upper_half: str | None = None
        self.align, self.bold, self.width, self.height = 'left', False, 1, 1
        self.line = bytearray()
        self.qr_payload: str | None = None
        self.qr_dots, self.qr_level = 3, 'L'
        self.printed: list[Printed] = []

    def take(self, count: int, what: str) -> bytes:
        if self.at + count > len(self.data):
            raise UnknownCommand(f'{what} cut short at byte {self.at}')
        chunk = self.data[self.at:self.at + count]
        self.at += count
        return chunk

    def end_line(self) -> None:
        if self.line and any(byte >= 0x80 for byte in self.line) and self.upper_half is None:
            raise UnknownCommand(f'text above 0x7F before any ESC t, in {bytes(self.line)!r}')
        text = ''.join(chr(byte) if byte < 0x80 else self.upper_half[byte - 0x80] for byte in self.line)
        self.printed.append(PrintedLine(text, self.align, self.bold, self.width, self.height))
        self.line.clear()

    def read(self) -> list[Printed]:
        while self.at < len(self.data):
            start = self.at
            byte = self.take(1, 'text')[0]
            if 0x20 <= byte != 0x7F:
                self.line.append(byte)
            elif byte == LF:
                self.end_line()
            elif byte == ESC:
                self.escape(self.take(1, 'ESC')[0], start)
            elif byte == GS:
                self.group(self.take(1, 'GS')[0], start)
            else:
                raise UnknownCommand(f'control byte 0x{byte:02x} at byte {start}')
        if self.line:
            raise UnknownCommand(f'text never printed (no line feed): {bytes(self.line)!r}')
        return self.printed

    def escape(self, command: int, start: int) -> None:
        if command == ord('@'):  # initialise
            self.align, self.bold, self.width, self.height, self.upper_half = 'left', False, 1, 1, None
            return
        if command not in b'!Eatd':
            raise UnknownCommand(f'ESC 0x{command:02x} at byte {start}')
        value = self.take(1, f'ESC {chr(command)}')[0]
        if command == ord('!'):  # print mode: bit 3 emphasised, bit 4 double height, bit 5 double width
            self.bold, self.height, self.width = bool(value & 0x08), 2 if value & 0x10 else 1, 2 if value & 0x20 else 1
        elif command == ord('E'):
            self.bold = bool(value & 1)
        elif command == ord('a'):
            if value not in ALIGNMENTS:
                raise UnknownCommand(f'ESC a {value} at byte {start}')
            self.align = ALIGNMENTS[value]
        elif command == ord('t'):
            name = self.slots.get(str(value))
            if not name or name == 'Unknown':
                raise UnknownCommand(f'ESC t {value}: no such code page in the printer profile')
            self.upper_half = code_page_characters(name)
        else:  # ESC d n: print the line and feed n lines
            self.end_line()
            self.printed.extend(PrintedLine('', self.align) for _ in range(value - 1))

    def group(self, command: int, start: int) -> None:
        if command == ord('!'):  # character size: high nibble width - 1, low nibble height - 1
            value = self.take(1, 'GS !')[0]
            self.width, self.height = (value >> 4 & 7) + 1, (value & 7) + 1
        elif command == ord('V'):
            mode = self.take(1, 'GS V')[0]
            if mode in (65, 66):
                self.take(1, 'GS V feed')
            elif mode not in (0, 1, 48, 49):
                raise UnknownCommand(f'GS V {mode} at byte {start}')
            if self.line:
                raise UnknownCommand(f'text never printed before the cut: {bytes(self.line)!r}')
            self.printed.append(Cut())
        elif command == ord('('):
            kind = self.take(1, 'GS (')[0]
            if kind != ord('k'):
                raise UnknownCommand(f'GS ( 0x{kind:02x} at byte {start}')
            low, high = self.take(2, 'GS ( k length')
            self.two_d_code(self.take(low + high * 256, 'GS ( k data'), start)
        else:
            raise UnknownCommand(f'GS 0x{command:02x} at byte {start}')

    def two_d_code(self, body: bytes, start: int) -> None:
        """GS ( k: only QR (cn 49) is read; other symbols are skipped by their length."""
        if len(body) < 2 or body[0] != ord('1'):
            return
        function = body[1]
        if function == 67:  # module size in dots
            self.qr_dots = body[2]
        elif function == 69:
            self.qr_level = QR_LEVELS[body[2]]
        elif function == 80:  # store the data (after the '0' that follows fn)
            self.qr_payload = body[3:].decode('utf-8')
        elif function == 81:
            if self.qr_payload is None:
                raise UnknownCommand(f'QR print with nothing stored, at byte {start}')
            if self.line:
                raise UnknownCommand(f'text never printed before a QR code: {bytes(self.line)!r}')
            self.printed.append(PrintedQr(self.qr_payload, self.qr_dots, self.qr_level, self.align))


def read_receipt(data: bytes, profile: Any = None) -> list[Printed]:
    """The lines, QR codes and cuts these bytes print, in order; `profile` (python-escpos) names the code pages."""
    from escpos.capabilities import get_profile

    return _Reader(data, get_profile(profile)).read()


def text_lines(printed: list[Printed]) -> list[PrintedLine]:
    return [item for item in printed if isinstance(item, PrintedLine)]


def draw_receipt(printed: list[Printed], columns: int) -> Any:
    """A picture of the paper, dot for dot (203 dpi, font A): a line wider than `columns` wraps where the
    printer would wrap it, mid-word if need be, so the picture never hides a mistake."""
    import qrcode
    from PIL import Image, ImageDraw, ImageFont

    margin = 16
    paper_width = columns * DOTS_PER_COLUMN + 2 * margin
    canvas = Image.new('L', (paper_width, 8000), 255)
    draw = ImageDraw.Draw(canvas)
    y = margin

    def font(bold: bool) -> Any:
        try:  # DejaVu Sans Mono at 20 px is 12 dots a character, as font A
            return ImageFont.truetype('DejaVuSansMono-Bold.ttf' if bold else 'DejaVuSansMono.ttf', 20)
        except OSError:
            return ImageFont.load_default(20)

    faces = {bold: font(bold) for bold in (False, True)}

    def left_edge(used_dots: int, align: str) -> int:
        free = columns * DOTS_PER_COLUMN - used_dots
        return margin + {'left': 0, 'center': free // 2, 'right': free}[align]

    for item in printed:
        if isinstance(item, Cut):
            for x in range(0, paper_width, 16):
                draw.line((x, y + 8, x + 8, y + 8), fill=128, width=2)
            y += 24
            break
        if isinstance(item, PrintedQr):
            code = qrcode.QRCode(box_size=item.module_dots, border=0,
                                 error_correction=getattr(qrcode.constants, f'ERROR_CORRECT_{item.error_level}'))
            code.add_data(item.payload)
            image = code.make_image().get_image().convert('L')
            canvas.paste(image, (max(margin, left_edge(image.width, item.align)), y))
            y += image.height + LINE_PITCH - DOTS_PER_ROW
            continue
        per_row = max(1, columns // item.width)
        for row in [item.text[at:at + per_row] for at in range(0, len(item.text), per_row)] or ['']:
            glyphs = Image.new('L', (max(1, len(row)) * DOTS_PER_COLUMN, DOTS_PER_ROW), 255)
            glyph_draw = ImageDraw.Draw(glyphs)
            for index, character in enumerate(row):
                glyph_draw.text((index * DOTS_PER_COLUMN, 0), character, font=faces[item.bold], fill=0)
            glyphs = glyphs.resize((glyphs.width * item.width, glyphs.height * item.height))
            canvas.paste(glyphs, (left_edge(len(row) * DOTS_PER_COLUMN * item.width, item.align), y))
            y += LINE_PITCH * item.height
    return canvas.crop((0, 0, paper_width, y + margin))
