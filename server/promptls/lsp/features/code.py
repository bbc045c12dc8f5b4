"""Editor features of source files that call LLM SDKs: hovers on model ids and literal prompts, inlay hints with
the tokens and cost of literal prompts, a lens per call, model-id completion inside `model=` strings, the
call-site refactorings, and go to definition across the workspace's modules. The dispatcher (`dispatch.py`)
hands each request here for an analysis of kind "code"; the texts come from `analysis/describe.py`."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from promptls.analysis import describe
from promptls.analysis.context import Context
from promptls.lsp.convert import to_position, to_workspace_edit
from promptls.lsp.features.common import lens, markdown_hover, model_items, wants
from promptls.lsp.scheduler import workspace_index
from promptls.lsp.state import Analysis

LLM_COMPLETION = True  # outside `model=` strings, the assist layer's completion items
_MODEL_PREFIX = re.compile(r"""\bmodel\s*[=:]\s*["'`]([\w.\-/:@]*)$""")
_NAME_AT = re.compile(r"[A-Za-z_][\w.]*")


def _estimates(a: Analysis) -> list:
    return a.report.calls or []


def hover(ls: Any, a: Analysis, off: int) -> lsp.Hover | None:
    config = ls.state.config
    findings = a.report.findings
    for est in _estimates(a):
        model = est.request.model
        if model is not None and model.span.contains(off) and est.model:
            return markdown_hover(a, model.span, describe.endpoint_md(config, est)
                                  + describe.estimate_call_md(findings, est, config.calls_per_month))
        for part, tokens in est.parts:
            if part.value.span.contains(off):
                return markdown_hover(a, part.value.span, describe.part_md(est, part, tokens)
                                      + describe.estimate_call_md(findings, est, config.calls_per_month))
    return None


def inlay_hints(ls: Any, a: Analysis, rng: lsp.Range) -> list[lsp.InlayHint]:
    out = []
    for est in _estimates(a):
        for part, tokens in est.parts:
            label = describe.part_hint(a.report.findings, est, part, tokens)
            if label is None:
                continue
            end = to_position(a.index, part.value.span.end)
            if not (rng.start.line <= end.line <= rng.end.line):
                continue
            out.append(lsp.InlayHint(position=end, label=label, kind=lsp.InlayHintKind.Type, padding_left=True))
    return out


def code_lenses(ls: Any, a: Analysis) -> list[lsp.CodeLens]:
    out = []
    for est in _estimates(a):
        title = describe.call_lens(a.report.findings, est, ls.state.config.calls_per_month)
        if title is not None:
            out.append(lens(title, a.index.pos(est.site.span.start).line))
    return out


def completion(ls: Any, a: Analysis, params: lsp.CompletionParams) -> lsp.CompletionList | None:
    line = a.index.line_text(params.position.line)
    off = a.index.client_offset(params.position.line, params.position.character)
    before = line[:off - a.index.line_starts[params.position.line]]
    m = _MODEL_PREFIX.search(before)
    if m is None:
        return None
    return lsp.CompletionList(is_incomplete=False, items=model_items(ls.state.config, m.group(1)))


def code_actions(ls: Any, a: Analysis, uri: str, start: int, end: int,
                 wanted: list[Any] | None) -> list[lsp.CodeAction]:
    """The call-site refactorings for calls that overlap the requested range."""
    if not wants(wanted, "refactor"):
        return []
    from promptls.analysis.fixes.actions import call_actions  # deferred: loads with the first refactoring asked

    catalog = Context(ls.state.config).catalog
    today = ls.state.config.today or _dt.date.today()
    out = []
    for est in _estimates(a):
        span = est.site.span
        if span.end < start or span.start > end:
            continue
        for action in call_actions(a.doc, est, catalog, today):
            kind = lsp.CodeActionKind.RefactorExtract if action.kind == "refactor.extract" \
                else lsp.CodeActionKind.RefactorRewrite
            out.append(lsp.CodeAction(title=action.fix.title, kind=kind,
                                      edit=to_workspace_edit(uri, a.index, action.fix)))
    return out


def document_symbols(ls: Any, a: Analysis) -> list[lsp.DocumentSymbol]:
    return []


def definition(ls: Any, a: Analysis, params: lsp.DefinitionParams, off: int) -> list[lsp.Location] | None:
    """Go to definition on a client, factory or constant name imported from another module of the workspace:
    `claude` in `claude.messages.create(...)`, `MODEL` in `config.MODEL`."""
    text = a.text
    start = off
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_."):
        start -= 1
    end = off
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    m = _NAME_AT.match(text, start)
    if m is None or end <= start:
        return None
    dotted = text[m.start():end].strip(".")
    index = workspace_index(ls.state, a.report.path)
    env = index.env_for(a.report.path, text) if index is not None else None
    where = env.definition(dotted) if env is not None else None
    if where is None:
        return None
    pos = lsp.Range(lsp.Position(where.line, where.col), lsp.Position(where.line, max(where.end_col, where.col)))
    return [lsp.Location(uri=from_fs_path(where.path) or where.path, range=pos)]


def republish_dependents(server: Any, a: Analysis) -> None:
    """After a module's analysis: when its exported symbols changed, re-analyse the open modules that import it
    (directly or through re-exports), so their findings follow the edit."""
    index = server.state.workspace_index
    if index is None:
        return
    for path in index.take_pending():  # whichever publish comes first takes them, this document's own included
        uri = from_fs_path(path)
        if uri and uri in server.workspace.text_documents:
            server.scheduler.request(uri)
