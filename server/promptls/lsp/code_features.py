"""Editor features for source files that call LLM SDKs and for fine-tuning datasets: hovers on model ids,
inlay hints with the tokens and cost of literal prompts, code lenses per call and per dataset, model-id
completion inside `model=` strings, and the call-site refactorings. Thin glue over `code/` and `datasets/`."""

from __future__ import annotations

import datetime as _dt
import re

from lsprotocol import types as lsp

from promptls.lsp.convert import to_position, to_range, to_workspace_edit
from promptls.lsp.state import Analysis

MIN_HINT_TOKENS = 20  # shorter literal prompts get no inlay hint: the number would only be noise
_MODEL_PREFIX = re.compile(r"""\bmodel\s*[=:]\s*["'`]([\w.\-/:@]*)$""")


def _estimates(a: Analysis) -> list:
    return a.report.calls or []


def hover(ls, a: Analysis, off: int) -> lsp.Hover | None:
    from promptls.lsp.features import _model_md

    for est in _estimates(a):
        model = est.request.model
        if model is not None and model.span.contains(off) and est.model:
            return _hover(a, model.span, _model_md(ls, est.model, None) + _call_md(est))
        for part, tokens in est.parts:
            if part.value.span.contains(off):
                kind = "exact" if est.exact else "estimated"
                more = "" if part.static else " (static parts only: the rest is computed at run time)"
                return _hover(a, part.value.span, f"**{part.role}** prompt: {tokens:,} tokens ({kind}, "
                              f"{est.tokenizer}){more}" + _call_md(est))
    return None


def _call_md(est) -> str:
    from promptls.output.text import format_cost

    if est.cost_usd is None:
        return ""
    scope = "" if est.complete else " for the parts known statically"
    out = f" + {est.output_tokens:,} max output" if est.output_tokens else ""
    return (f"\n\nThis call: {est.input_tokens:,} input{out} tokens, about {format_cost(est.cost_usd)} per call"
            f"{scope}.")


def _hover(a: Analysis, span, text: str) -> lsp.Hover:
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text),
                     range=to_range(a.index, span))


def inlay_hints(a: Analysis, rng: lsp.Range) -> list[lsp.InlayHint]:
    from promptls.output.text import format_cost

    out = []
    for est in _estimates(a):
        for part, tokens in est.parts:
            if tokens < MIN_HINT_TOKENS:
                continue
            end = to_position(a.index, part.value.span.end)
            if not (rng.start.line <= end.line <= rng.end.line):
                continue
            approx = "" if est.exact and part.static else "~"
            label = f"{approx}{tokens:,} tokens"
            if est.cost_usd is not None:
                label += f" · {format_cost(est.cost_usd)}/call"
            out.append(lsp.InlayHint(position=end, label=label, kind=lsp.InlayHintKind.Type, padding_left=True))
    return out


def code_lenses(a: Analysis) -> list[lsp.CodeLens]:
    from promptls.output.text import dataset_line, format_cost  # the output package stays out of start-up

    if a.kind == "dataset":
        d = a.report.dataset
        if d is None:
            return []
        title = dataset_line(d) + (" (first lines; full pass running)" if a.partial else "")
        zero = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
        return [lsp.CodeLens(range=zero, command=lsp.Command(title=title, command=""))]
    out = []
    for est in _estimates(a):
        if not est.model and not est.input_tokens:
            continue
        parts = [est.model or "model not literal"]
        if est.input_tokens:
            approx = "" if est.exact and est.complete else "~"
            more = "" if est.complete else "+"
            parts.append(f"{approx}{est.input_tokens:,}{more} input tokens")
        if est.output_tokens:
            parts.append(f"max {est.output_tokens:,} output")
        if est.cost_usd is not None:
            parts.append(f"{format_cost(est.cost_usd)}/call")
        line = a.index.pos(est.site.span.start).line
        rng = lsp.Range(lsp.Position(line, 0), lsp.Position(line, 0))
        out.append(lsp.CodeLens(range=rng, command=lsp.Command(title=" · ".join(parts), command="")))
    return out


def completion(ls, a: Analysis, params: lsp.CompletionParams) -> lsp.CompletionList | None:
    if a.kind != "code":
        return None
    from promptls.lsp.features import _model_items

    line = a.index.line_text(params.position.line)
    off = a.index.utf16_to_offset(params.position.line, params.position.character)
    before = line[:off - a.index.line_starts[params.position.line]]
    m = _MODEL_PREFIX.search(before)
    if m is None:
        return None
    return lsp.CompletionList(is_incomplete=False, items=_model_items(ls, m.group(1)))


def refactors(ls, a: Analysis, uri: str, start: int, end: int, wanted) -> list[lsp.CodeAction]:
    """The call-site refactorings for calls that overlap the requested range."""
    if a.kind != "code" or (wanted and not any(str(k).startswith("refactor") for k in wanted)):
        return []
    from promptls.analysis.context import Context
    from promptls.code.actions import call_actions

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
