"""Text positions: the one place that maps offsets, lines and UTF-8/16/32 columns.

The core works with Python string offsets (code points) and `Pos(line, character)` in code points. Lines end at
'\\n', '\\r\\n' or '\\r' (LSP's definition, and Python's tokenizer's) everywhere. What converts:

- `units_len`, `column_offset`: code points <-> columns in an encoding's units (UTF-8 bytes, UTF-16 code units,
  UTF-32 code points), within one line.
- `line_starts`: where lines start.
- `Utf8Offsets`: UTF-8 byte offsets into a whole text (tree-sitter's) <-> code-point offsets.
- `Utf8Lines`: (1-based line, UTF-8 byte column), what Python's `ast` reports, <-> code-point offsets.
- `LineIndex`: offsets <-> code-point positions and positions in the client's encoding (UTF-16 by default, UTF-8
  or UTF-32 when the client negotiated it) for a text in memory, edited in place by the LSP layer.
- `LineLocator`: the same for findings of a text that was streamed and not kept (a multi-GB dataset).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from typing import Protocol

_LINE_BREAK = re.compile(r"\r\n?|\n")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


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
    """Length of `s` in `encoding`'s units: UTF-8 bytes, UTF-16 code units or UTF-32 code points."""
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
    if pos == 0 and endpos is None and "\r" not in text:
        # The common whole-text case: split in C, about three times faster than the scan below
        return list(accumulate(len(line) + 1 for line in text.split("\n")[:-1]))
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


def _identity(n: int) -> int:
    return n


class Utf8Offsets:
    """UTF-8 byte offsets into one text (what tree-sitter reports) <-> code-point offsets into it.

    `to_char(byte)` and `to_byte(char)` are plain attributes: the identity function for ASCII text, so the
    per-keystroke extractors pay one call and nothing else there. Otherwise one entry is kept per run of non-ASCII
    characters (between runs every character is one byte) and a lookup is one bisection (closures over the
    tables, which profile faster than methods reading them from the instance). A byte offset inside a character
    maps to the end of that character, as `column_offset` counts it.
    """

    __slots__ = ("ascii", "to_byte", "to_char")

    def __init__(self, text: str) -> None:
        self.ascii = text.isascii()
        self.to_char: Callable[[int], int] = _identity
        self.to_byte: Callable[[int], int] = _identity
        if self.ascii:
            return
        runs: list[str] = []
        char_starts: list[int] = []
        char_ends: list[int] = []
        byte_starts: list[int] = []
        byte_ends: list[int] = []
        extras = [0]  # extras[i]: bytes beyond one per character before run i (after all runs, at the end)
        for m in _NON_ASCII.finditer(text):
            run = m.group()
            runs.append(run)
            char_starts.append(m.start())
            byte_starts.append(m.start() + extras[-1])
            extras.append(extras[-1] + len(run.encode("utf-8", "surrogatepass")) - len(run))
            char_ends.append(m.end())
            byte_ends.append(m.end() + extras[-1])
        char_starts.append(len(text) + 1)  # sentinels: no offset lies inside a run past the last
        byte_starts.append(len(text) * 4 + 1)
        bisect_right = bisect.bisect_right

        def to_char(byte: int) -> int:
            i = bisect_right(byte_ends, byte)  # the runs before i end at or before `byte`
            if byte <= byte_starts[i]:
                return byte - extras[i]
            at, char = byte_starts[i], char_starts[i]  # inside run i: walk it
            for ch in runs[i]:
                if at >= byte:
                    break
                at += _units(ch, "utf-8")
                char += 1
            return char

        def to_byte(char: int) -> int:
            i = bisect_right(char_ends, char)
            if char <= char_starts[i]:
                return char + extras[i]
            return byte_starts[i] + len(runs[i][: char - char_starts[i]].encode("utf-8", "surrogatepass"))

        self.to_char = to_char
        self.to_byte = to_byte


class AstLocated(Protocol):
    """Anything with a position as Python's `ast` reports it."""

    lineno: int
    col_offset: int
    end_lineno: int | None
    end_col_offset: int | None


class Utf8Lines:
    """(1-based line, UTF-8 byte column), the positions Python's `ast` reports, <-> code-point offsets into one
    fixed text. With `bom`, the parser was given the text without its leading byte-order mark, so line 1 starts
    after it."""

    def __init__(self, text: str, *, bom: bool = False) -> None:
        self.text = text
        self.starts = [0, *line_starts(text)]  # offsets where lines start: starts[lineno - 1]
        if bom:
            self.starts[0] = 1
        self.bytes = Utf8Offsets(text)
        self._ascii = self.bytes.ascii
        self._extra: list[int] = []  # per line: bytes beyond one per character before its start (made on demand)

    def at(self, lineno: int, col: int) -> int:
        """The offset of (1-based line, UTF-8 byte column)."""
        start = self.starts[lineno - 1]
        if self._ascii or col == 0:
            return start + col
        extra = self._extra or self._extras()
        if lineno < len(extra) and extra[lineno] == extra[lineno - 1]:
            return start + col  # an ASCII line
        return self.bytes.to_char(start + extra[lineno - 1] + col)

    def _extras(self) -> list[int]:
        to_byte = self.bytes.to_byte
        self._extra = [to_byte(s) - s for s in self.starts]
        return self._extra

    def line_col(self, offset: int) -> tuple[int, int]:
        """(1-based line, UTF-8 byte column) of an offset; before line 1's start (a BOM) is (1, 0)."""
        line = max(1, self.line_of(offset))
        start = self.starts[line - 1]
        if offset <= start:
            return line, 0
        return line, self.bytes.to_byte(offset) - self.bytes.to_byte(start)

    def line_of(self, offset: int) -> int:
        """The 1-based line of an offset."""
        return bisect.bisect_right(self.starts, offset)

    def span(self, node: AstLocated) -> Span:
        return Span(self.at(node.lineno, node.col_offset),
                    self.at(node.end_lineno or node.lineno, node.end_col_offset or 0))

    def line_end(self, lineno: int) -> int:
        """Offset of the end of line `lineno` (1-based), before its line break."""
        if lineno >= len(self.starts):
            return len(self.text)
        end = self.starts[lineno]
        if self.text.startswith("\r\n", end - 2):
            return end - 2
        return end - 1

    def lines(self, first: int, last: int) -> Span:
        """Lines `first`..`last` (1-based, inclusive) from column 0 to the end of the last one."""
        return Span(self.starts[first - 1], self.line_end(last))


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

    # -- client positions: LSP's, in the negotiated encoding (UTF-16 unless the client chose UTF-8 or UTF-32) --
    def client_pos(self, pos: Pos) -> Pos:
        """A code-point position as the client counts it: its character in the client's encoding."""
        line = self.line_text(pos.line)
        return Pos(pos.line, units_len(line[: max(pos.character, 0)], self.encoding))

    def client_offset(self, line: int, character: int) -> int:
        """Offset of a client position (character in the client's encoding), clamped as LSP requires: a line
        past the last is the end of the text, a character past the line's content (or inside its line break) is
        its end."""
        if line < 0:
            return 0
        if line >= len(self._starts):
            return len(self.text)
        return self._start(line) + column_offset(self.line_text(line), character, self.encoding)

    def client_range(self, span: Span) -> Range:
        """The span as the client counts it (lines, characters in the client's encoding)."""
        r = self.range(span)
        return Range(self.client_pos(r.start), self.client_pos(r.end))


class Locator(Protocol):
    """Offsets -> positions for rendering findings: a `LineIndex`, or a `LineLocator` when the text was streamed."""

    encoding: str

    def pos(self, offset: int) -> Pos: ...

    def range(self, span: Span) -> Range: ...

    def client_range(self, span: Span) -> Range: ...


class LineLocator:
    """Maps the offsets of findings to positions without holding the text (a dataset of many GB is streamed).

    `LineIndex` needs the whole text; this keeps (line start, line number, length) for lines with findings only,
    told line by line (`note`). For the rare lines whose columns are not plain code-point offsets (non-ASCII text
    for client units, lone CRs, which LSP counts as line breaks) it computes, with the same functions as
    `LineIndex`, the positions of the findings' span ends when it is told them. Asking about other offsets is an
    error.
    """

    def __init__(self, encoding: str = "utf-16") -> None:
        self.encoding = encoding
        self._starts: list[int] = []
        self._lines: dict[int, tuple[int, int, bool, bool]] = {}  # start -> (line, length, ascii, has_cr)
        self._points: dict[int, tuple[Pos, int]] = {}  # offset -> (code-point Pos, client character)

    def note_plain(self, start: int, line: int, length: int) -> None:
        """Record a line whose text was not kept (an oversized one): its columns are taken as code points."""
        if start not in self._lines:
            self._lines[start] = (line, length, True, False)
            bisect.insort(self._starts, start)

    def note(self, start: int, line: int, text: str, span: Span) -> None:
        """Record the line at `start` (its text up to the '\\n' that ends it) and the ends of `span` on it."""
        record = self._lines.get(start)
        if record is None:
            record = (line, len(text), text.isascii(), "\r" in text)
            self._lines[start] = record
            if not self._starts or start > self._starts[-1]:
                self._starts.append(start)
            else:
                bisect.insort(self._starts, start)
        if record[2] and not record[3]:
            return
        for offset in (span.start, span.end):
            if offset not in self._points:
                self._points[offset] = self._measure(start, line, text, offset)

    def copy_from(self, other: LineLocator, span: Span, chars: int, lines: int) -> None:
        """Add what `other` knows of `span` (its line, the positions of its ends), shifted by `chars` code points
        and `lines` lines: how the parallel dataset check merges its chunks' locators."""
        start, record = other._record(span.start)
        shifted = start + chars
        if shifted not in self._lines:
            self._lines[shifted] = (record[0] + lines, *record[1:])
            bisect.insort(self._starts, shifted)
        for offset in (span.start, span.end):
            point = other._points.get(offset)
            if point is not None and offset + chars not in self._points:
                self._points[offset + chars] = (Pos(point[0].line + lines, point[0].character), point[1])

    def _measure(self, start: int, line: int, text: str, offset: int) -> tuple[Pos, int]:
        end = offset - start
        breaks = line_starts(text, 0, end)  # the text holds no '\n': each '\r' in it is a lone line break
        column = text[breaks[-1] if breaks else 0:end]
        return Pos(line + len(breaks), len(column)), units_len(column, self.encoding)

    def _record(self, offset: int) -> tuple[int, tuple[int, int, bool, bool]]:
        i = bisect.bisect_right(self._starts, offset) - 1
        if i >= 0:
            start = self._starts[i]
            record = self._lines[start]
            if offset <= start + record[1]:
                return start, record
        raise ValueError(f"offset {offset} is not on a line with findings")

    def pos(self, offset: int) -> Pos:
        start, (line, _length, _ascii, has_cr) = self._record(offset)
        if not has_cr:
            return Pos(line, offset - start)
        return self._point(offset)[0]

    def range(self, span: Span) -> Range:
        return Range(self.pos(span.start), self.pos(span.end))

    def client_range(self, span: Span) -> Range:
        """The range in the client's encoding, as `LineIndex.client_range`."""
        return Range(self._client_pos(span.start), self._client_pos(span.end))

    def _client_pos(self, offset: int) -> Pos:
        start, (line, _length, ascii_only, has_cr) = self._record(offset)
        if ascii_only and not has_cr:
            return Pos(line, offset - start)
        pos, units = self._point(offset)
        return Pos(pos.line, units)

    def _point(self, offset: int) -> tuple[Pos, int]:
        point = self._points.get(offset)
        if point is None:
            raise ValueError(f"offset {offset} is not the end of a finding's span")
        return point
