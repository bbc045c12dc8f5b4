"""core.positions, the one position converter: offsets <-> lines and UTF-8/16/32 columns, checked against the
codecs (round trips in every encoding, '\\n', '\\r\\n' and '\\r' line breaks, astral characters, a BOM, lone
surrogates) and against what Python's `ast` and tree-sitter report."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptls.core.positions import (
    LineIndex,
    LineLocator,
    Pos,
    Span,
    Utf8Lines,
    Utf8Offsets,
    column_offset,
    line_starts,
    units_len,
)

ENCODINGS = ("utf-8", "utf-16", "utf-32")
CODECS = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2), "utf-32": ("utf-32-le", 4)}
# ASCII, 2-, 3- and 4-byte UTF-8, a ZWJ sequence, a combining mark, the BOM, LSP's three line breaks and
# characters that str.splitlines takes for line breaks but LSP does not
PIECES = ("a", "b", " ", "\t", "é", "€", "😀", "\U0001F468\u200d\U0001F469", "e\u0301", "\ufeff",
          "\x0b", "\x0c", "\x85", "\u2028", "\n", "\r", "\r\n")
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
# any code point but surrogates (which no codec round-trips), weighted towards the interesting ones
chars = st.one_of(st.sampled_from(PIECES), st.characters(exclude_categories=("Cs",)))
any_texts = st.lists(chars, max_size=40).map("".join)


def encoded_len(s: str, encoding: str) -> int:
    codec, unit = CODECS[encoding]
    return len(s.encode(codec, "surrogatepass")) // unit


def ref_lines(text: str) -> list[str]:
    """The lines' contents, split at '\\n', '\\r\\n' and '\\r' only."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


# -- units and columns -----------------------------------------------------------------------------------------
@given(any_texts, st.sampled_from(ENCODINGS))
def test_units_len_is_the_codec_length(text: str, encoding: str) -> None:
    assert units_len(text, encoding) == encoded_len(text, encoding)


def test_units_len_counts_a_lone_surrogate_as_one_utf16_unit() -> None:
    assert units_len("a\ud83d", "utf-16") == 2
    assert units_len("a\ud83d", "utf-8") == 4


@given(any_texts.filter(lambda t: "\n" not in t and "\r" not in t), st.sampled_from(ENCODINGS), st.data())
def test_column_offset_round_trips_every_character_boundary(line: str, encoding: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(line)))
    assert column_offset(line, units_len(line[:i], encoding), encoding) == i


@given(any_texts.filter(lambda t: "\n" not in t and "\r" not in t), st.sampled_from(ENCODINGS), st.data())
def test_column_offset_inside_a_character_counts_it_and_past_the_end_is_the_end(line: str, encoding: str,
                                                                                  data: st.DataObject) -> None:
    column = data.draw(st.integers(-2, units_len(line, encoding) + 3))
    got = column_offset(line, column, encoding)
    # the fewest characters that reach the column, or the whole line
    want = next((i for i in range(len(line) + 1) if units_len(line[:i], encoding) >= column), len(line))
    assert got == want


# -- lines -----------------------------------------------------------------------------------------------------
@given(texts)
def test_line_starts_follow_lsp_line_breaks(text: str) -> None:
    starts = [0, *line_starts(text)]
    contents = [text[a:b].rstrip("\r\n") for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    assert contents == ref_lines(text)


@given(texts, st.data())
def test_line_starts_of_a_slice_are_those_of_the_whole_text_inside_it(text: str, data: st.DataObject) -> None:
    pos = data.draw(st.integers(0, len(text)))
    endpos = data.draw(st.integers(pos, len(text)))
    want = [p for p in line_starts(text) if pos < p <= endpos]
    if endpos > pos and text.startswith("\r\n", endpos - 1):
        want.append(endpos)  # the slice ends between '\r' and '\n': there the '\r' ends a line
    assert line_starts(text, pos, endpos) == want


def test_line_index_round_trip() -> None:
    text = "a😀b\r\nsecond é line\rthird"
    idx = LineIndex(text)
    assert idx.line_count == 3
    off = text.index("b")
    p = idx.pos(off)
    assert p == Pos(0, 2)
    assert idx.client_pos(p) == Pos(0, 3)  # the emoji is two UTF-16 units
    assert idx.client_offset(0, 3) == off
    assert idx.client_offset(1, 999) == text.index("\rthird")  # clamped to the line end
    assert idx.client_offset(99, 0) == len(text)
    r = idx.client_range(Span(text.index("é"), text.index("é") + 1))
    assert (r.start.line, r.start.character, r.end.character) == (1, 7, 8)


@settings(max_examples=300)
@given(any_texts.map(lambda t: t.replace("a", "\r\n").replace("b", "\r")), st.sampled_from(ENCODINGS), st.data())
def test_line_index_round_trips_offsets_through_client_positions(text: str, encoding: str,
                                                                 data: st.DataObject) -> None:
    index = LineIndex(text, encoding)
    offset = data.draw(st.integers(0, len(text)))
    if text.startswith("\r\n", offset - 1):
        offset -= 1  # between '\r' and '\n' is no position of its own: it is the end of the line
    pos = index.pos(offset)
    assert index.offset(pos) == offset
    client = index.client_pos(pos)
    assert client.character == encoded_len(index.line_text(pos.line)[:pos.character], encoding)
    assert index.client_offset(client.line, client.character) == offset
    lines = ref_lines(text)
    assert pos.line < len(lines) and pos.character <= len(lines[pos.line])


# -- UTF-8 byte offsets (tree-sitter) --------------------------------------------------------------------------
@given(any_texts)
def test_utf8_offsets_round_trip_every_character_boundary(text: str) -> None:
    u = Utf8Offsets(text)
    assert u.ascii == text.isascii()
    raw = text.encode("utf-8")
    for i in range(len(text) + 1):
        b = len(text[:i].encode("utf-8"))
        assert u.to_byte(i) == b
        assert u.to_char(b) == i
        assert raw[:b].decode("utf-8") == text[:i]


@given(any_texts)
def test_utf8_offsets_inside_a_character_count_it(text: str) -> None:
    u = Utf8Offsets(text)
    for b in range(len(text.encode("utf-8")) + 1):
        i = u.to_char(b)
        if b == 0:
            assert i == 0
        else:
            assert len(text[:i - 1].encode("utf-8")) < b <= len(text[:i].encode("utf-8"))


def test_utf8_offsets_keep_lone_surrogates_as_three_bytes() -> None:
    text = "x\ud83dy"  # what a JSON string can hold; tree-sitter is given it with surrogatepass
    u = Utf8Offsets(text)
    assert u.to_byte(2) == 4 and u.to_char(4) == 2 and u.to_byte(3) == 5


def test_utf8_offsets_match_tree_sitter() -> None:
    from promptls.documents.code.ts_sites import parse_tree

    text = 'const café\u00a0= "é😀";\r\nconst x = `\U0001F468\u200d\U0001F469 ${café}`;\rlet y = 1;\n'
    u = Utf8Offsets(text)
    stack = [parse_tree(text, "typescript")]
    seen = 0
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        assert text[u.to_char(node.start_byte):u.to_char(node.end_byte)] == node.text.decode("utf-8")
        seen += 1
    assert seen > 20


# -- (line, UTF-8 column): Python's ast --------------------------------------------------------------------------
MODULE = '''\
"""Doc: café 😀."""
x = {"é": "\U0001F468\u200d\U0001F469", "k": 1}  # comment é
def f(a, b="€"):\r
    return a + "ö" + b\r
y = [
    "e\u0301", 2,
]\rz = "😀😀"
'''


@pytest.mark.parametrize("text", [MODULE, MODULE.replace("\r\n", "\n").replace("\r", "\n"), "\ufeff" + MODULE,
                                  "a = 1\nb = 'x'\n"])
def test_utf8_lines_match_ast(text: str) -> None:
    bom = text.startswith("\ufeff")
    off = Utf8Lines(text, bom=bom)
    tree = ast.parse(text[1:] if bom else text)
    source = text[1:] if bom else text
    nodes = [n for n in ast.walk(tree) if hasattr(n, "end_col_offset")]
    assert len(nodes) > 3
    for node in nodes:
        span = off.span(node)
        assert text[span.start:span.end] == ast.get_source_segment(source, node, padded=False)
        assert off.line_col(span.start) == (node.lineno, node.col_offset)
        assert off.line_col(span.end) == (node.end_lineno, node.end_col_offset)


@given(texts.map(lambda t: t.replace("\ufeff", "")), st.booleans(), st.data())
def test_utf8_lines_round_trip(text: str, bom: bool, data: st.DataObject) -> None:
    if bom:
        text = "\ufeff" + text
    off = Utf8Lines(text, bom=bom)
    offset = data.draw(st.integers(1 if bom else 0, len(text)))
    if text.startswith("\r\n", offset - 1):
        offset -= 1
    line, col = off.line_col(offset)
    start = off.starts[line - 1]
    assert col == len(text[start:offset].encode("utf-8"))
    assert off.at(line, col) == offset
    assert off.line_of(offset) == line
    assert off.lines(line, line) == Span(start, off.line_end(line))
    assert text[start:off.line_end(line)] == ref_lines(text[1:] if bom else text)[line - 1]


def test_utf8_lines_before_a_bom_is_the_first_column() -> None:
    off = Utf8Lines("\ufeffx = 1\n", bom=True)
    assert off.line_col(0) == (1, 0) and off.at(1, 0) == 1


# -- the locator of streamed text -------------------------------------------------------------------------------
@settings(max_examples=200)
@given(st.lists(any_texts.map(lambda t: t.replace("\n", "").replace("b", "\r").rstrip("\r")), min_size=1,
                max_size=6),
       st.sampled_from(ENCODINGS), st.data())
def test_line_locator_agrees_with_line_index(lines: list[str], encoding: str, data: st.DataObject) -> None:
    """Told the '\\n'-separated lines (lone '\\r's inside them; a reader strips the '\\r' of a '\\r\\n') and the
    spans of findings, a LineLocator places their ends where a LineIndex over the whole text does."""
    text = "\n".join(lines)
    index = LineIndex(text, encoding)
    locator = LineLocator(encoding)
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    spans = []
    for start, line in zip(starts, lines, strict=True):
        if data.draw(st.booleans()):
            a = data.draw(st.integers(0, len(line)))
            b = data.draw(st.integers(a, len(line)))
            span = Span(start + a, start + b)
            number = index.pos(start).line  # lone '\r's on earlier lines count as line breaks too
            locator.note(start, number, line, span)
            spans.append(span)
    for span in spans:
        assert locator.range(span) == index.range(span)
        assert locator.client_range(span) == index.client_range(span)


def test_line_locator_refuses_offsets_it_was_not_told() -> None:
    locator = LineLocator()
    locator.note(10, 1, "abc", Span(11, 12))
    with pytest.raises(ValueError):
        locator.pos(3)
