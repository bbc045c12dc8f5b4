"""What the per-kind feature modules (prompt, code, dataset) share: the interface each of them implements for the
dispatcher, and the conversions of `analysis/describe.py` results into LSP types that more than one kind uses."""

from __future__ import annotations

from typing import Any, Protocol

from lsprotocol import types as lsp

from promptls.analysis.describe import model_choices
from promptls.config import Config
from promptls.core.positions import Span
from promptls.lsp.convert import to_range
from promptls.lsp.state import Analysis


class Face(Protocol):
    """The editor features of one kind of file, each over that file's current analysis.

    `LLM_COMPLETION`: whether the assist layer's LLM completion items are offered when `completion` finds
    nothing (a prompt's own completion owns its templates and front matter; source files and datasets do not).
    """

    LLM_COMPLETION: bool

    def hover(self, ls: Any, a: Analysis, off: int) -> lsp.Hover | None: ...

    def inlay_hints(self, ls: Any, a: Analysis, rng: lsp.Range) -> list[lsp.InlayHint]: ...

    def code_lenses(self, ls: Any, a: Analysis) -> list[lsp.CodeLens]: ...

    def completion(self, ls: Any, a: Analysis, params: lsp.CompletionParams) -> lsp.CompletionList | None: ...

    def code_actions(self, ls: Any, a: Analysis, uri: str, start: int, end: int,
                     wanted: list[Any] | None) -> list[lsp.CodeAction]: ...

    def document_symbols(self, ls: Any, a: Analysis) -> list[lsp.DocumentSymbol]: ...

    def definition(self, ls: Any, a: Analysis, params: lsp.DefinitionParams,
                   off: int) -> list[lsp.Location] | None: ...


def markdown_hover(a: Analysis, span: Span, text: str) -> lsp.Hover:
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text),
                     range=to_range(a.index, span))


def model_items(config: Config, prefix: str) -> list[lsp.CompletionItem]:
    """Model ids of the catalog for completion after `model:` / `model=`."""
    return [lsp.CompletionItem(label=c.id, kind=lsp.CompletionItemKind.Value, detail=c.detail)
            for c in model_choices(config, prefix)]


def lens(title: str, line: int = 0) -> lsp.CodeLens:
    """A lens that only shows its title, at the start of `line`."""
    rng = lsp.Range(lsp.Position(line, 0), lsp.Position(line, 0))
    return lsp.CodeLens(range=rng, command=lsp.Command(title=title, command=""))


def wants(wanted: list[Any] | None, prefix: str) -> bool:
    """Whether the client asked for code actions of this kind (`quickfix`, `refactor`), or for any."""
    return not wanted or any(str(k).startswith(prefix) for k in wanted)
