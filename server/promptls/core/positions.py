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
    # surrogatepass: a lone surrogate (JSON allows one) is one UTF-16 unit, not an encoding error
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


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


def line_starts(text: str, pos: int = 0, endpos: int | None = None) -> list[int]:
    """Offsets just after each line break ('\\n', '\\r\\n', '\\r') that ends in text[pos:endpos].

    Only these three end a line (LSP's definition); `str.splitlines` also breaks at \\v, \\f, \\x1c-\\x1e,
    U+0085, U+2028 and U+2029, which is why nothing here uses it.
    """
    # One linear scan in C. (Searching for "\n" and "\r" separately from each line start rescanned the rest
    # of the text for a "\r" that a Unix file never has: quadratic in the number of lines.)
    return [m.end() for m in _LINE_BREAK.finditer(text, pos, len(text) if endpos is None else endpos)]


def column_offset(line: str, character: int, encoding: str = "utf-16") -> int:
    """Code points of `line` (one line's content, no line break) before column `character` in `encoding`.

    A column past the end of the line is the line's length (LSP: "defaults back to the line length"); a column
    inside a character (half of a surrogate pair, a byte inside a UTF-8 sequence) counts that character.
    """
    if character <= 0:
        return 0
    head = line[:character]  # no character is less than one unit, so the column lies within these
    if encoding == "utf-32" or units_len(head, encoding) <= character:
        return len(head)  # the whole head fits: the column is at its end, or past the line's end
    units = 0
    for i, ch in enumerate(head):
        if units >= character:
            return i
        units += _units(ch, encoding)
    return len(head)


class LineIndex:
    """Maps offsets to lines for one text. Lines end at '\\n', '\\r\\n' or '\\r' (as LSP defines).

    `replace` edits the text in place (the server's copy of an open document does that per keystroke); an index
    that is being edited belongs to one thread.
    """

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.text = text
        self.encoding = encoding
        self._starts = [0, *line_starts(text)]
        # An edit moves every later line start by the same amount; rather than add it to each, entries from
        # _split on are stored _shift below their value, and the split follows the edits (`_settle`). Typing
        # in one place then touches no line start outside the edit.
        self._split = len(self._starts)
        self._shift = 0

    @property
    def line_starts(self) -> list[int]:
        """Offsets where lines start (the first is 0)."""
        self._settle(len(self._starts))
        return self._starts

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def _settle(self, split: int) -> None:
        """Move the split to `split`, storing the entries it passes over in their other form."""
        starts, old, shift = self._starts, self._split, self._shift
        if shift and split > old:
            starts[old:split] = [p + shift for p in starts[old:split]]
        elif shift and split < old:
            starts[split:old] = [p - shift for p in starts[split:old]]
        self._split = split

    def _start(self, line: int) -> int:
        return self._starts[line] + (self._shift if line >= self._split else 0)

    def _line_of(self, offset: int) -> int:
        """The last line that starts at or before `offset` (-1 before the text)."""
        starts, split = self._starts, self._split
        if split < len(starts) and offset >= starts[split] + self._shift:
            return bisect.bisect_right(starts, offset - self._shift, split) - 1
        return bisect.bisect_right(starts, offset, 0, split) - 1

    def replace(self, start: int, end: int, new: str) -> None:
        """Replace text[start:end] by `new` (offsets clamped to the text) and update the line starts.

        A line start p depends on text[p-1] and text[p] alone ('\\r' before '\\n' ends no line), so the starts
        before `start` and after `end` keep their meaning and only those in between are looked for again, one
        character wider on each side to see a '\\r\\n' that the edit joins or splits.
        """
        old = self.text
        start = max(0, min(start, len(old)))
        end = max(start, min(end, len(old)))
        text = old[:start] + new + old[end:]
        keep = max(1, self._line_of(start - 1) + 1)  # starts[:keep] lie before the edit (0 always stays)
        after = self._line_of(end) + 1  # starts[after:] lie after it
        self._settle(after)
        mid_end = start + len(new)
        middle = [p for p in line_starts(text, max(start - 1, 0), mid_end + 1) if start <= p <= mid_end]
        self._starts[keep:after] = middle
        self._split = keep + len(middle)
        self._shift += mid_end - end
        self.text = text

    def line_end(self, line: int) -> int:
        """Offset of the end of the line's content (before its line break)."""
        if line + 1 >= len(self._starts):
            return len(self.text)
        end = self._start(line + 1) - 1
        text = self.text
        if text[end] == "\n" and end > self._start(line) and text[end - 1] == "\r":
            end -= 1
        return end

    def line_text(self, line: int) -> str:
        """The line's text without its line break."""
        if line < 0 or line >= len(self._starts):
            return ""
        return self.text[self._start(line):self.line_end(line)]

    def pos(self, offset: int) -> Pos:
        offset = max(0, min(offset, len(self.text)))
        line = self._line_of(offset)
        return Pos(line, offset - self._start(line))

    def range(self, span: Span) -> Range:
        return Range(self.pos(span.start), self.pos(span.end))

    def offset(self, pos: Pos) -> int:
        """Offset of a code-point position; clamps lines and characters past the end."""
        if pos.line < 0:
            return 0
        if pos.line >= len(self._starts):
            return len(self.text)
        start = self._start(pos.line)
        return start + max(0, min(pos.character, self.line_end(pos.line) - start))

    # -- client positions (LSP: UTF-16 unless negotiated otherwise) ---------------------------------------
    def pos_to_utf16(self, pos: Pos) -> Pos:
        """The position in the client's encoding (named for the LSP default, UTF-16)."""
        line = self.line_text(pos.line)
        return Pos(pos.line, units_len(line[: max(pos.character, 0)], self.encoding))

    def utf16_to_offset(self, line: int, character: int) -> int:
        """Offset of an LSP position in the client's encoding, clamped as LSP requires: a line past the last is
        the end of the text, a character past the line's content (or inside its line break) is its end."""
        if line < 0:
            return 0
        if line >= len(self._starts):
            return len(self.text)
        return self._start(line) + column_offset(self.line_text(line), character, self.encoding)

    def range_utf16(self, span: Span) -> Range:
        r = self.range(span)
        return Range(self.pos_to_utf16(r.start), self.pos_to_utf16(r.end))
