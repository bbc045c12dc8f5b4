"""The server's copy of each open document: one string, edited with LSP's line and column rules.

pygls' own TextDocument splits lines with `str.splitlines` (which also breaks at \\v, \\f, \\x1c-\\x1e, U+0085,
U+2028, U+2029) and clamps a column past the line end to one before it, so its copy drifted from the editor's.
`TextDocument` here keeps the text and a `positions.LineIndex` (the one position converter) that each edit
updates around the edit only (plus one copy of the string); `TextWorkspace` hands it out; `with_text_model`
makes a pygls protocol create that workspace at `initialize`.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from lsprotocol import types as lsp
from pygls.protocol import LanguageServerProtocol
from pygls.workspace import Workspace
from pygls.workspace import text_document as _pygls_doc
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from promptls.core.positions import LineIndex, Pos


def encoding_name(kind: Any) -> str:
    """"utf-8", "utf-16" or "utf-32" for a PositionEncodingKind or its string (UTF-16, LSP's default, if unknown)."""
    name = str(getattr(kind, "value", kind) or "utf-16").lower()
    return name if name in ("utf-8", "utf-32") else "utf-16"


class TextDocument(_pygls_doc.TextDocument):
    """An open document. `source` is the text; positions in and out are in the negotiated encoding."""

    _text: str | None = None
    _index: LineIndex | None = None

    # pygls keeps the text in `_source` (its __init__ and full changes assign it): every assignment lands here
    @property
    def _source(self) -> str | None:
        return self._text

    @_source.setter
    def _source(self, text: str | None) -> None:
        self._text = text
        self._index = None  # built on first use: opening a large file does not scan it

    @property
    def source(self) -> str:
        if self._text is None:
            return super().source  # not open: pygls reads the file
        return self._text

    @property
    def encoding(self) -> str:
        return encoding_name(self.position_codec.encoding)

    @property
    def index(self) -> LineIndex:
        """The live line index of the current text, in the negotiated encoding. Edits change it in place: read
        it on the event loop, and hand a worker thread the text, not this."""
        if self._index is None or self._index.text is not self.source:
            self._index = LineIndex(self.source, self.encoding)
        return self._index

    def _apply_incremental_change(self, change: lsp.TextDocumentContentChangePartial) -> None:
        index = self.index
        start = index.client_offset(change.range.start.line, change.range.start.character)
        end = index.client_offset(change.range.end.line, change.range.end.character)
        if end < start:  # a reversed range: the same characters
            start, end = end, start
        index.replace(start, end, change.text)
        self._text = index.text

    @property
    def lines(self) -> tuple[str, ...]:
        """The lines with their line breaks, split where LSP splits them."""
        index = self.index
        text, starts = index.text, index.line_starts
        return tuple(text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True))

    # -- positions: all through the index, none through pygls' PositionCodec ------------------------------
    def offset_at_position(self, client_position: lsp.Position) -> int:
        return self.index.client_offset(client_position.line, client_position.character)

    def offset_at_server_position(self, server_position: ServerTextPosition) -> int:
        return self.index.offset(Pos(server_position.line, server_position.character))

    def server_position_at_offset(self, offset: int) -> ServerTextPosition:
        p = self.index.pos(offset)
        return ServerTextPosition(p.line, p.character)

    def client_position_at_offset(self, offset: int) -> lsp.Position:
        index = self.index
        p = index.client_pos(index.pos(offset))
        return lsp.Position(p.line, p.character)

    def position_from_client_units(self, position: lsp.Position) -> ServerTextPosition:
        return self.server_position_at_offset(self.offset_at_position(position))

    def range_from_client_units(self, range: lsp.Range) -> ServerTextRange:
        return ServerTextRange(self.position_from_client_units(range.start),
                               self.position_from_client_units(range.end))

    def position_to_client_units(self, position: ServerTextPosition) -> lsp.Position:
        return self.client_position_at_offset(self.offset_at_server_position(position))

    def range_to_client_units(self, range: ServerTextRange) -> lsp.Range:
        return lsp.Range(self.position_to_client_units(range.start), self.position_to_client_units(range.end))

    def text_in_client_range(self, range: lsp.Range) -> str:
        return self.source[self.offset_at_position(range.start):self.offset_at_position(range.end)]

    def word_at_position(self, client_position: lsp.Position, re_start_word: re.Pattern[str] = _pygls_doc.RE_START_WORD,
                         re_end_word: re.Pattern[str] = _pygls_doc.RE_END_WORD) -> str:
        index = self.index
        if client_position.line >= index.line_count:
            return ""
        offset = self.offset_at_position(client_position)
        line_start = index.line_starts[client_position.line]
        before = index.text[line_start:offset]
        after = index.text[offset:index.line_end(client_position.line)]
        return re_start_word.findall(before)[0] + re_end_word.findall(after)[-1]


class TextWorkspace(Workspace):
    """pygls' workspace, handing out `TextDocument`s."""

    def _create_text_document(self, doc_uri: str, source: str | None = None, version: int | None = None,
                              language_id: str | None = None) -> TextDocument:
        return TextDocument(doc_uri, source=source, version=version, language_id=language_id,
                            sync_kind=self._sync_kind, position_codec=self.position_codec)

    @classmethod
    def like(cls, ws: Workspace) -> TextWorkspace:
        """A TextWorkspace with the settings of a freshly made pygls workspace (no documents open yet)."""
        return cls(ws.root_uri, ws._sync_kind, list(ws.folders.values()), ws.position_encoding)


@cache
def with_text_model(protocol_cls: type[LanguageServerProtocol]) -> type[LanguageServerProtocol]:
    """`protocol_cls`, except that the workspace it makes at `initialize` is a `TextWorkspace`.

    pygls 2.1 has no factory for it: `lsp_initialize` assigns a new `Workspace` to `_workspace`, so the subclass
    turns that attribute into a property that swaps it for a `TextWorkspace` with the same settings.
    """

    def get(self: Any) -> Workspace | None:
        return self.__dict__.get("_text_workspace")

    def put(self: Any, ws: Workspace | None) -> None:
        if ws is not None and not isinstance(ws, TextWorkspace):
            ws = TextWorkspace.like(ws)
        self.__dict__["_text_workspace"] = ws

    return type(protocol_cls.__name__, (protocol_cls,), {"_workspace": property(get, put), "__doc__":
                                                         protocol_cls.__doc__, "__module__": __name__})


