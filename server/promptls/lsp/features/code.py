"""Editor features for source files that call LLM SDKs and for fine-tuning datasets: hovers on model ids,
inlay hints with the tokens and cost of literal prompts, code lenses per call and per dataset, model-id
completion inside `model=` strings, and the call-site refactorings. Thin glue over `code/` and `datasets/`."""

from __future__ import annotations

import datetime as _dt
import re

from lsprotocol import types as lsp

from promptls.core.figures import format_cost, format_count, of_estimate
from promptls.lsp.convert import to_position, to_range, to_workspace_edit
from promptls.lsp.state import Analysis

MIN_HINT_TOKENS = 20  # shorter literal prompts get no inlay hint: the number would only be noise
_MODEL_PREFIX = re.compile(r"""\bmodel\s*[=:]\s*["'`]([\w.\-/:@]*)$""")


def _estimates(a: Analysis) -> list:
    return a.report.calls or []


def hover(ls, a: Analysis, off: int) -> lsp.Hover | None:

    cpm = ls.state.config.calls_per_month
    for est in _estimates(a):
        model = est.request.model
        if model is not None and model.span.contains(off) and est.model:
            return _hover(a, model.span, _endpoint_md(ls, est) + _call_md(a, est, cpm))
        for part, tokens in est.parts:
            if part.value.span.contains(off):
                kind = "exact" if est.exact else "estimated"
                more = "" if part.static else " (static parts only: the rest is computed at run time)"
                return _hover(a, part.value.span, f"**{part.role}** prompt: {tokens:,} tokens ({kind}, "
                              f"{est.tokenizer}){more}" + _call_md(a, est, cpm))
    return None


def _endpoint_md(ls, est) -> str:
    """The model facts of a call's id as its endpoint reads it (an Azure deployment, a self-hosted server)."""
    from promptls.lsp.features.prompt import BREAK, _model_md

    client = est.site.client
    endpoint = client.endpoint if client is not None else None
    if endpoint == "azure":
        mapped = est.site.deployment_model
        if mapped:
            return f"Azure deployment `{est.model}` serves `{mapped}` (`[deployments]`){BREAK}" \
                + _model_md(ls, mapped, "azure")
        return (f"**{est.model}**: an Azure OpenAI deployment name, not a model id. Map it to the model it serves "
                f"in promptls.toml to see that model's limits, prices and lifecycle:{BREAK}"
                f"`[deployments]` `\"{est.model}\" = \"gpt-4o\"`")
    if endpoint == "self-hosted":
        where = f" at `{client.base_url}`" if client.base_url else ""
        head = f"**{est.model}**: served by a self-hosted server{where}"
        return head + (f"; limits and tokenizer of `{est.info.id}`{BREAK}" + _model_md(ls, est.info.id, None)
                       if est.info is not None else " (not in the catalog: no limits known)")
    return _model_md(ls, est.model, None)


_NAME_AT = re.compile(r"[A-Za-z_][\w.]*")


def definition(ls, a: Analysis, off: int) -> list[lsp.Location] | None:
    """Go to definition on a client, factory or constant name imported from another module of the workspace:
    `claude` in `claude.messages.create(...)`, `MODEL` in `config.MODEL`."""
    from pygls.uris import from_fs_path

    from promptls.lsp.features.prompt import workspace_index

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


# Findings that make every call fail: such a call is not priced, its lens and hover say why it fails.
FAILS = {"SD001": "`max_tokens` missing", "MD003": "model retired", "TK002": "context window exceeded",
         "TK003": "max output above the model's limit", "SD002": "sampling parameter out of range"}


def failure(findings, span=None) -> str | None:
    """`✗ Fails: model retired (MD003)` when a finding (inside `span`, if given) makes every call fail."""
    for f in findings:
        if f.code in FAILS and (span is None or (span.start <= f.span.start and f.span.end <= span.end)):
            return f"✗ Fails: {FAILS[f.code]} ({f.code})"
    return None


def _call_md(a: Analysis, est, calls_per_month: int | None = None) -> str:
    from promptls.lsp.features.prompt import BREAK

    fails = failure(a.report.findings, est.site.span)
    if fails:
        return f"{BREAK}{fails}."
    if not est.input_tokens and not est.output_tokens:
        return ""
    scope = "" if est.complete else " (the parts known statically)"
    return f"{BREAK}This call: {of_estimate(est, calls_per_month).long}{scope}."


def _hover(a: Analysis, span, text: str) -> lsp.Hover:
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text),
                     range=to_range(a.index, span))


def inlay_hints(a: Analysis, rng: lsp.Range) -> list[lsp.InlayHint]:
    out = []
    for est in _estimates(a):
        cost = None if failure(a.report.findings, est.site.span) else of_estimate(est).cost_text
        for part, tokens in est.parts:
            if tokens < MIN_HINT_TOKENS:
                continue
            end = to_position(a.index, part.value.span.end)
            if not (rng.start.line <= end.line <= rng.end.line):
                continue
            label = f"{format_count(tokens, est.exact and part.static)} tokens"
            if cost:
                label += f" · {cost}"
            out.append(lsp.InlayHint(position=end, label=label, kind=lsp.InlayHintKind.Type, padding_left=True))
    return out


def code_lenses(a: Analysis, calls_per_month: int | None = None) -> list[lsp.CodeLens]:
    if a.kind == "dataset":
        d = a.report.dataset
        if d is None:
            return []
        title = dataset_lens(d) + (" (first lines; full pass running)" if a.partial else "")
        zero = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
        return [lsp.CodeLens(range=zero, command=lsp.Command(title=title, command=""))]
    out = []
    for est in _estimates(a):
        if not est.model and not est.input_tokens:
            continue
        parts = [est.model or "model not literal"]
        fails = failure(a.report.findings, est.site.span)
        if fails:
            parts.append(fails)
        elif est.input_tokens or est.output_tokens:
            parts.append(of_estimate(est, calls_per_month).long)
        line = a.index.pos(est.site.span.start).line
        rng = lsp.Range(lsp.Position(line, 0), lsp.Position(line, 0))
        out.append(lsp.CodeLens(range=rng, command=lsp.Command(title=" · ".join(parts), command="")))
    return out


def dataset_lens(d) -> str:
    """A dataset in one short line: `chat · 120 examples · ~140 tokens/example · $0.42 to train gpt-4o-mini
    (default model)`; the full figures are in `check` and its JSON report."""
    from dataclasses import fields

    from promptls.config import Config

    default_model = next(f.default for f in fields(Config) if f.name == "dataset_model")
    parts = [f"{d.format} · {d.examples:,} example{'s' if d.examples != 1 else ''}"]
    if d.examples:
        parts.append(f"{format_count(round(d.tokens_mean), d.exact)} tokens/example")
    if d.training_cost_usd is not None:
        default = " (default model)" if d.model == default_model else ""
        parts.append(f"{format_cost(d.training_cost_usd)} to train {d.model}{default}")
    return " · ".join(parts)


def completion(ls, a: Analysis, params: lsp.CompletionParams) -> lsp.CompletionList | None:
    if a.kind != "code":
        return None
    from promptls.lsp.features.prompt import _model_items

    line = a.index.line_text(params.position.line)
    off = a.index.client_offset(params.position.line, params.position.character)
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
    from promptls.analysis.fixes.actions import call_actions

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
