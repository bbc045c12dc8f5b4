"""The editor features' one registration: each LSP method is registered once here, reads the document's latest
analysis and hands the request to the module of the analysis' kind (`prompt.py`, `code.py`, `dataset.py`, each
implementing `common.Face`). What is the same for every kind stays here: the assist and eval layers' hooks
(extra lenses, code actions, LLM completion items), the quick fixes of findings, and positions in and out."""

from __future__ import annotations

from typing import Any

from lsprotocol import types as lsp

from promptls.lsp.convert import to_offset, to_workspace_edit
from promptls.lsp.features import code, dataset, prompt
from promptls.lsp.features.common import Face, wants
from promptls.lsp.state import Analysis

FACES: dict[str, Face] = {"prompt": prompt, "code": code, "dataset": dataset}  # modules implement Face


def _analysis(ls: Any, uri: str) -> tuple[Analysis, Face] | None:
    """The document's analysis and the features of its kind, when promptls analyses it."""
    if not ls.is_analysed(uri):
        return None
    a = ls.analyze_now(uri)
    face = FACES.get(a.kind) if a is not None else None
    return (a, face) if face is not None else None


def hover(ls: Any, params: lsp.HoverParams) -> lsp.Hover | None:
    found = _analysis(ls, params.text_document.uri)
    if found is None:
        return None
    a, face = found
    return face.hover(ls, a, to_offset(a.index, params.position))


def inlay_hints(ls: Any, params: lsp.InlayHintParams) -> list[lsp.InlayHint]:
    # Clients ask for hints over the visible range: remember it, so a large dataset is analysed there first.
    ls.state.visible_end[params.text_document.uri] = params.range.end.line
    found = _analysis(ls, params.text_document.uri)
    if found is None:
        return []
    a, face = found
    return face.inlay_hints(ls, a, params.range)


async def code_lens(ls: Any, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
    # The analysis first: the scheduler had this handler wait for it, and while the hooks below await, a settings
    # change (`initialized`, didChangeConfiguration) may drop it; the figures lens would then be missing for good.
    found = _analysis(ls, params.text_document.uri)
    extra: list[lsp.CodeLens] = []
    for hook in ls.code_lens_hooks:  # e.g. the "Run" lens of the assist layer
        extra.extend(await hook(ls, params) or [])
    if found is None:
        return extra
    a, face = found
    return face.code_lenses(ls, a) + extra


async def completion(ls: Any, params: lsp.CompletionParams) -> lsp.CompletionList | None:
    found = _analysis(ls, params.text_document.uri)
    if found is not None:
        a, face = found
        result = face.completion(ls, a, params)
        if result is not None or not face.LLM_COMPLETION:
            return result
    # nothing of the file's own: LLM completion items for clients without inline completion (assist layer)
    items: list[lsp.CompletionItem] = []
    for hook in ls.completion_hooks:
        items.extend(await hook(ls, params) or [])
    return lsp.CompletionList(is_incomplete=True, items=items) if items else None


async def code_actions(ls: Any, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
    extra: list[lsp.CodeAction] = []
    for hook in ls.code_action_hooks:  # lazy LLM actions (assist layer), any file
        extra.extend(await hook(ls, params) or [])
    uri = params.text_document.uri
    a = ls.analyze_now(uri) if ls.is_analysed(uri) else None
    if a is None:
        return extra or None
    start = to_offset(a.index, params.range.start)
    end = to_offset(a.index, params.range.end)
    out = _quick_fixes(a, uri, start, end, params.context)  # any kind's findings
    face = FACES.get(a.kind)
    if face is not None:
        out.extend(face.code_actions(ls, a, uri, start, end, params.context.only))
    return out + extra


def _quick_fixes(a: Analysis, uri: str, start: int, end: int, context: lsp.CodeActionContext) -> list[lsp.CodeAction]:
    """The fixes of the findings in the range, each tied to its diagnostic when the client sent it."""
    if not wants(context.only, "quickfix"):
        return []
    out = []
    for f in a.report.findings:
        if not f.fixes or f.span.end < start or f.span.start > end:
            continue
        diag = next((d for d in context.diagnostics if d.code == f.code and d.source == "promptls"), None)
        for fix in f.fixes:
            out.append(lsp.CodeAction(title=fix.title, kind=lsp.CodeActionKind.QuickFix,
                                      diagnostics=[diag] if diag else None, is_preferred=fix.preferred or None,
                                      edit=to_workspace_edit(uri, a.index, fix)))
    return out


def document_symbols(ls: Any, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    found = _analysis(ls, params.text_document.uri)
    if found is None:
        return []
    a, face = found
    return face.document_symbols(ls, a)


def definition(ls: Any, params: lsp.DefinitionParams) -> list[lsp.Location] | None:
    found = _analysis(ls, params.text_document.uri)
    if found is None:
        return None
    a, face = found
    return face.definition(ls, a, params, to_offset(a.index, params.position))


def register(server: Any) -> None:
    server.scheduler.on_published.append(lambda a: code.republish_dependents(server, a))
    server.feature(lsp.TEXT_DOCUMENT_HOVER)(hover)
    server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT)(inlay_hints)
    server.feature(lsp.TEXT_DOCUMENT_CODE_LENS)(code_lens)
    server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                   lsp.CompletionOptions(trigger_characters=["{", " ", "#", ">", ":", "/", "."]))(completion)
    server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                   lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix,
                                                            lsp.CodeActionKind.RefactorRewrite,
                                                            lsp.CodeActionKind.RefactorExtract]))(code_actions)
    server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)(document_symbols)
    server.feature(lsp.TEXT_DOCUMENT_DEFINITION)(definition)
