"""Text positions: offsets, (line, character) pairs and the one UTF-16 conversion used at the LSP boundary.

The core works with Python string offsets (code points) and `Pos(line, character)` in code points.
`LineIndex` converts between offsets, code-point positions and the client's position encoding (UTF-16 by
default, UTF-8 or UTF-32 when the client negotiated it); this is the only place where encodings appear.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_LINE_BREAK = re.compile(r"\r\n?|\n")


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range [start, end) of string offsets (code points) into the whole document text."""

    start: int
    end: int

    def shift(self, delta: int) -> Span:
        return Span(self.start + delta, self.end + delta)

    def contains(self, offset: int) -> bool:
        return self.start <= offset <= self.end


@dataclass(frozen=True, slots=True)
class Pos:
    line: int
    character: int


@dataclass(frozen=True, slots=True)
class Range:
    start: Pos
    end: Pos


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def _units(ch: str, encoding: str) -> int:
    o = ord(ch)
    if encoding == "utf-8":
        return 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
    if encoding == "utf-32":
        return 1
    return 2 if o > 0xFFFF else 1


def units_len(s: str, encoding: str = "utf-16") -> int:
    if encoding == "utf-8":
        return len(s.encode("utf-8", "surrogatepass"))
    if encoding == "utf-32":
        return len(s)
    return _utf16_len(s)


class LineIndex:
    """Maps offsets to lines for one text. Lines end at '\\n', '\\r\\n' or '\\r' (as LSP defines)."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.text = text
        self.encoding = encoding
        # One linear scan in C. (Searching for "\n" and "\r" separately from each line start rescanned the
        # rest of the text for a "\r" that a Unix file never has: quadratic in the number of lines.)
        starts = [0]
        starts.extend(m.end() for m in _LINE_BREAK.finditer(text))
        self.line_starts = starts

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line_text(self, line: int) -> str:
        """The line's text without its line break."""
        if line < 0 or line >= len(self.line_starts):
            return ""
        start = self.line_starts[line]
        end = self.line_starts[line + 1] if line + 1 < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def pos(self, offset: int) -> Pos:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return Pos(line, offset - self.line_starts[line])

    def range(self, span: Span) -> Range:
        return Range(self.pos(span.start), self.pos(span.end))

    def offset(self, pos: Pos) -> int:
        """Offset of a code-point position; clamps lines and characters past the end."""
        if pos.line < 0:
            return 0
        if pos.line >= len(self.line_starts):
            return len(self.text)
        start = self.line_starts[pos.line]
        return start + max(0, min(pos.character, len(self.line_text(pos.line))))

    # -- client positions (LSP: UTF-16 unless negotiated otherwise) ---------------------------------------
    def pos_to_utf16(self, pos: Pos) -> Pos:
        """The position in the client's encoding (named for the LSP default, UTF-16)."""
        line = self.line_text(pos.line)
        return Pos(pos.line, units_len(line[: pos.character], self.encoding))

    def utf16_to_offset(self, line: int, character: int) -> int:
        """Offset of an LSP position in the client's encoding, clamped to the document as LSP requires."""
        if line < 0:
            return 0
        if line >= len(self.line_starts):
            return len(self.text)
        text = self.line_text(line)
        units = 0
        for i, ch in enumerate(text):
            if units >= character:
                return self.line_starts[line] + i
            units += _units(ch, self.encoding)
        return self.line_starts[line] + len(text)

    def range_utf16(self, span: Span) -> Range:
        r = self.range(span)
        return Range(self.pos_to_utf16(r.start), self.pos_to_utf16(r.end))
