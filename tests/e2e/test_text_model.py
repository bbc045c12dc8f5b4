"""The server's copy of a document against a reference model of the LSP spec, and over the wire.

The reference walks the string one character at a time: only '\\n', '\\r\\n' and '\\r' end a line; a column is
counted in the negotiated encoding's units; a column past a line's content (or inside its line break) is the
content's end; a line past the last is the end of the text; a column inside a character counts that character.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp
from pygls.workspace import Workspace
from pytest_lsp import LanguageClient
from tests.e2e.conftest import wait_diagnostics

from promptls.core.positions import LineIndex, Pos
from promptls.lsp.protocol import RobustProtocol
from promptls.lsp.server import PromptServer
from promptls.lsp.text import TextDocument, TextWorkspace, with_text_model

ENCODINGS = ("utf-8", "utf-16", "utf-32")
# Line breaks for str.splitlines but not for LSP, LSP's three, astral characters, a ZWJ sequence, combining marks
PIECES = ("a", "b", " ", "\t", "é", "€", "😀", "\U0001F468\u200d\U0001F469", "e\u0301", "\u0301",
          "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\n", "\r", "\r\n", "\r\n")
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
inserts = st.lists(st.sampled_from(PIECES), max_size=4).map("".join)


# -- the reference ---------------------------------------------------------------------------------------
def width(ch: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(ch.encode("utf-8"))
    if encoding == "utf-16":
        return len(ch.encode("utf-16-le")) // 2
    return 1


def _break_len(text: str, i: int) -> int:
    """Length of the line break at i (0 when there is none)."""
    if text[i] == "\n":
        return 1
    if text[i] == "\r":
        return 2 if text[i + 1:i + 2] == "\n" else 1
    return 0


def ref_offset(text: str, line: int, character: int, encoding: str) -> int:
    i = 0
    for _ in range(line):  # skip `line` line breaks
        while i < len(text) and not _break_len(text, i):
            i += 1
        if i == len(text):
            return len(text)  # a line past the last
        i += _break_len(text, i)
    units = 0
    while i < len(text) and not _break_len(text, i) and units < character:
        units += width(text[i], encoding)
        i += 1
    return i


def ref_position(text: str, offset: int, encoding: str) -> tuple[int, int]:
    line = col = i = 0
    while i < offset:
        n = _break_len(text, i)
        if n:
            if i + n > offset:
                break  # inside a '\r\n': the end of the line's content
            line, col, i = line + 1, 0, i + n
        else:
            col, i = col + width(text[i], encoding), i + 1
    return line, col


def ref_lines(text: str) -> list[str]:
    lines, start, i = [], 0, 0
    while i < len(text):
        n = _break_len(text, i)
        if n:
            lines.append(text[start:i + n])
            start = i = i + n
        else:
            i += 1
    return [*lines, text[start:]]


def ref_apply(text: str, rng: lsp.Range, new: str, encoding: str) -> str:
    a = ref_offset(text, rng.start.line, rng.start.character, encoding)
    b = ref_offset(text, rng.end.line, rng.end.character, encoding)
    a, b = min(a, b), max(a, b)
    return text[:a] + new + text[b:]


def _line_units(text: str, encoding: str) -> list[int]:
    return [sum(width(c, encoding) for c in line.rstrip("\r\n")) for line in ref_lines(text)]


def draw_position(data: st.DataObject, text: str, encoding: str) -> lsp.Position:
    units = _line_units(text, encoding)
    line = data.draw(st.integers(0, len(units) + 1), label="line")
    top = units[line] if line < len(units) else 0
    character = data.draw(st.one_of(st.integers(0, top + 3), st.just(10_000)), label="character")
    return lsp.Position(line, character)


# -- the document, through pygls' workspace calls ---------------------------------------------------------
URI = "file:///tmp/promptls-text/doc.prompt"


def open_doc(text: str, encoding: str) -> tuple[TextWorkspace, TextDocument]:
    ws = TextWorkspace(None, lsp.TextDocumentSyncKind.Incremental, [], encoding)
    ws.put_text_document(lsp.TextDocumentItem(uri=URI, language_id="dotprompt", version=1, text=text))
    doc = ws.get_text_document(URI)
    assert isinstance(doc, TextDocument)
    return ws, doc


def edit(ws: Workspace, version: int, change: lsp.TextDocumentContentChangeEvent) -> None:
    ws.update_text_document(lsp.VersionedTextDocumentIdentifier(uri=URI, version=version), change)


def partial(sl: int, sc: int, el: int, ec: int, text: str) -> lsp.TextDocumentContentChangePartial:
    return lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(sl, sc), lsp.Position(el, ec)),
                                                text=text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ENCODINGS), texts, st.data())
def test_edits_follow_the_reference(encoding: str, text: str, data: st.DataObject) -> None:
    ws, doc = open_doc(text, encoding)
    expected = text
    for version in range(2, 2 + data.draw(st.integers(1, 8), label="edits")):
        if data.draw(st.integers(0, 9), label="full?") == 0:
            change: lsp.TextDocumentContentChangeEvent = lsp.TextDocumentContentChangeWholeDocument(
                text=data.draw(texts, label="whole"))
            expected = change.text
        else:
            rng = lsp.Range(draw_position(data, expected, encoding), draw_position(data, expected, encoding))
            change = lsp.TextDocumentContentChangePartial(range=rng, text=data.draw(inserts, label="new"))
            expected = ref_apply(expected, rng, change.text, encoding)
        edit(ws, version, change)
        assert ws.get_text_document(URI) is doc and doc.version == version
        assert doc.source == expected
        # a lookup between edits, so that the index is read while its pending shift sits mid-list
        p = draw_position(data, expected, encoding)
        assert doc.offset_at_position(p) == ref_offset(expected, p.line, p.character, encoding)
    assert list(doc.lines) == ref_lines(expected)
    assert doc.index.line_starts == LineIndex(expected).line_starts
    offset = data.draw(st.integers(0, len(expected)), label="offset")
    assert doc.client_position_at_offset(offset) == lsp.Position(*ref_position(expected, offset, encoding))
    p = draw_position(data, expected, encoding)
    want = ref_offset(expected, p.line, p.character, encoding)
    assert doc.offset_at_position(p) == want
    q = doc.position_from_client_units(p)
    assert Pos(q.line, q.character) == LineIndex(expected).pos(want) == Pos(*ref_position(expected, want, "utf-32"))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ENCODINGS), texts, st.data())
def test_line_index_follows_the_reference(encoding: str, text: str, data: st.DataObject) -> None:
    """positions.LineIndex, which turns findings' offsets into diagnostics' ranges, agrees with the same spec."""
    index = LineIndex(text, encoding)
    assert index.line_count == len(ref_lines(text))
    for n, line in enumerate(ref_lines(text)):
        assert index.line_text(n) == line.rstrip("\r\n")
    offset = data.draw(st.integers(-2, len(text) + 2), label="offset")
    clamped = max(0, min(offset, len(text)))
    assert index.client_pos(index.pos(offset)) == Pos(*ref_position(text, clamped, encoding))
    p = draw_position(data, text, encoding)
    assert index.client_offset(p.line, p.character) == ref_offset(text, p.line, p.character, encoding)


# -- the regressions from issue 10 -------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_form_feed_is_no_line_break(encoding: str) -> None:
    ws, doc = open_doc("a\x0cb\ndef f():\n    pass\n", encoding)
    edit(ws, 2, partial(2, 4, 2, 8, "return 1"))
    assert doc.source == "a\x0cb\ndef f():\n    return 1\n"  # pygls 2.1.1: "a\x0cb\ndef return 1\n    pass\n"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_column_past_the_line_is_its_end(encoding: str) -> None:
    ws, doc = open_doc("hello", encoding)
    edit(ws, 2, partial(0, 10, 0, 10, "X"))
    assert doc.source == "helloX"  # pygls 2.1.1: "hellXo"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_column_inside_crlf_is_the_line_end(encoding: str) -> None:
    ws, doc = open_doc("ab\r\ncd", encoding)
    edit(ws, 2, partial(0, 3, 0, 3, "X"))
    assert doc.source == "abX\r\ncd"  # pygls 2.1.1: "ab\rX\ncd"


def test_a_line_past_the_last_is_the_end_and_columns_use_the_encoding() -> None:
    ws, doc = open_doc("ab\ncd", "utf-16")
    edit(ws, 2, partial(7, 0, 9, 3, "Z"))
    assert doc.source == "ab\ncdZ"
    ws, doc = open_doc("😀x\u2028y", "utf-16")
    edit(ws, 2, partial(0, 2, 0, 3, ""))  # after the emoji's two UTF-16 units: the "x"
    assert doc.source == "😀\u2028y"
    ws, doc = open_doc("😀x", "utf-8")
    edit(ws, 2, partial(0, 4, 0, 4, "-"))
    assert doc.source == "😀-x"
    assert doc.word_at_position(lsp.Position(0, 5)) == "x"


def test_the_server_protocol_hands_out_this_model() -> None:
    server = PromptServer()
    assert isinstance(server.protocol, RobustProtocol)
    server.protocol._workspace = Workspace("file:///tmp/w", lsp.TextDocumentSyncKind.Incremental, [], "utf-8")
    ws = server.workspace
    assert isinstance(ws, TextWorkspace) and ws.root_uri == "file:///tmp/w" and server.encoding == "utf-8"
    assert with_text_model(RobustProtocol) is with_text_model(RobustProtocol)


# -- over the wire ---------------------------------------------------------------------------------------------
BASE = """---
model: gpt-4o
input:
  schema:
    name: string
---
{{role "user"}}
one\r
two
Hello {{name}} from {{city}}!
"""
ROLE = '{{role "user"}}\n'
SCRATCH = tuple(p for p in PIECES if p != "{")


def scratch_change(rng: random.Random, text: str, encoding: str) -> lsp.TextDocumentContentChangePartial:
    """An edit between the role line and the "Hello" line, its positions in the client's encoding; a position at
    a line's end is often sent past it (further columns, or inside a '\\r\\n')."""
    lo, hi = text.index(ROLE) + len(ROLE), text.index("Hello {{name}}")

    def position(offset: int) -> lsp.Position:
        line, col = ref_position(text, offset, encoding)
        if offset < len(text) and _break_len(text, offset):
            col += rng.choice((0, 0, 1, 2, 999))
        return lsp.Position(line, col)

    a = rng.randint(lo, hi)
    b = a if rng.random() < 0.7 else min(hi, a + rng.randint(1, 3))
    new = "".join(rng.choice(SCRATCH) for _ in range(rng.randint(0, 4)))
    return lsp.TextDocumentContentChangePartial(range=lsp.Range(position(a), position(b)), text=new)


def span_text(text: str, rng: lsp.Range, encoding: str) -> str:
    return text[ref_offset(text, rng.start.line, rng.start.character, encoding):
                ref_offset(text, rng.end.line, rng.end.character, encoding)]


async def _type_and_hover(client: LanguageClient, uri: str, encoding: str) -> tuple[str, int]:
    """Sends 60 edits in 10 notifications, then checks the server's hover on `city` against the reference."""
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="dotprompt", version=1, text=BASE)))
    text, rng, version = BASE, random.Random(10), 1
    for _ in range(10):
        changes = []
        for _ in range(6):
            change = scratch_change(rng, text, encoding)
            changes.append(change)
            text = ref_apply(text, change.range, change.text, encoding)
        version += 1
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=changes))
    assert any(c in text for c in "\x0c\x85\u2028\u2029\x1c") and "😀" in text and "\r" in text
    at = text.index("{{city}}") + 3
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(*ref_position(text, at, encoding))))
    assert hover is not None and "**city**" in hover.contents.value and "not declared" in hover.contents.value
    assert f"used on line {ref_position(text, at, encoding)[0] + 1}" in hover.contents.value
    assert "city" in span_text(text, hover.range, encoding)
    return text, version


@pytest.mark.asyncio(loop_scope="module")
async def test_pushed_diagnostics_after_edits_with_odd_characters(client: LanguageClient) -> None:
    uri = "file:///tmp/promptls-e2e/text-drift-utf16.prompt"
    text, _ = await _type_and_hover(client, uri, "utf-16")
    for _ in range(60):  # the last analysis's publish carries the finding at the reference's position
        diags = client.diagnostics.get(uri) or []
        vr = [d for d in diags if d.code == "VR001"]
        if vr and span_text(text, vr[0].range, "utf-16") == "city":
            break
        await wait_diagnostics(client)
    else:
        raise AssertionError(f"no VR001 on `city`: {client.diagnostics.get(uri)}")
    assert vr[0].range.start == lsp.Position(*ref_position(text, text.index("{{city}}") + 2, "utf-16"))


@pytest.mark.asyncio(loop_scope="module")
async def test_pulled_diagnostics_after_edits_with_odd_characters_utf8(nvim: LanguageClient) -> None:
    uri = "file:///tmp/promptls-e2e/text-drift-utf8.prompt"
    text, _ = await _type_and_hover(nvim, uri, "utf-8")
    report = await nvim.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    vr = next(d for d in report.items if d.code == "VR001")
    assert span_text(text, vr.range, "utf-8") == "city"
    assert vr.range.start == lsp.Position(*ref_position(text, text.index("{{city}}") + 2, "utf-8"))
