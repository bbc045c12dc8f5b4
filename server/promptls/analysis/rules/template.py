"""TP and PT rules: template syntax issues from the engine analysers, roles and empty messages, partials."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from promptls.analysis.context import Context
from promptls.core.findings import Finding, Fix, Severity, TextEdit
from promptls.core.positions import Span
from promptls.documents.prompt.model import PromptDocument

ISSUE_CODES = {"syntax": "TP001", "unclosed-block": "TP002", "unmatched-close": "TP003", "stray-brace": "TP004",
               "wrong-engine": "TP005", "too-deep": "TP006", "operator": "TP010"}
MAX_PARTIAL_DEPTH = 32


def check(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    for issue in doc.template.issues:
        code = ISSUE_CODES.get(issue.kind, "TP001")
        # What the engine accepts is never an error: text it renders as is (a stray `}}`) only warns.
        yield ctx.finding(code, issue.message, issue.span,
                          severity=Severity.WARNING if issue.reaches_model else None)
    yield from _roles(doc, ctx)
    yield from _empty_messages(doc, ctx)
    if doc.engine in ("handlebars", "mustache"):
        yield from _partials(doc, ctx)


def _roles(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    known = sorted(doc.roles)
    for h in doc.template.helpers:
        if h.name != "role":
            continue
        if h.block:
            yield ctx.finding("TP009", "`{{#role}}` is not a block helper in Dotprompt; write "
                              "`{{role \"...\"}}` before the message and drop `{{/role}}`.", h.name_span)
        if not h.args or not isinstance(h.args[0], str):
            continue
        role = h.args[0]
        if role not in doc.roles:
            i = doc.text.find(role, h.span.start, h.span.end)
            span = Span(i, i + len(role)) if i >= 0 else h.span
            yield _unknown_role(ctx, role, span, known)
    # A role line with an unknown word is no role line: the engine renders it as text of the message before it,
    # so the request is valid and the line reaches the model. `{{role "sistem"}}` sends the role: that one fails.
    for word, span in doc.role_typos:
        yield _unknown_role(ctx, word, span, known, as_text=True)


def _unknown_role(ctx: Context, role: str, span: Span, known: list[str], *, as_text: bool = False) -> Finding:
    close = difflib.get_close_matches(role.lower(), known, n=1, cutoff=0.6)
    fixes = (Fix(f"Replace with `{close[0]}`", (TextEdit(span, close[0]),), preferred=True),) if close else ()
    hint = f"; did you mean `{close[0]}`?" if close else f"; use one of: {', '.join(known)}."
    if as_text:
        hint += " The line is not a role line, so it reaches the model as text of the message before it."
    return ctx.finding("TP007", f"Unknown role `{role}`{hint}", span, fixes=fixes,
                       severity=Severity.WARNING if as_text else None)


def _empty_messages(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    if len(doc.messages) < 1:
        return
    for msg in doc.messages:
        content = doc.text[msg.content_span.start:msg.content_span.end]
        if content.strip() or msg.role_span is None:
            continue
        nxt = [h for h in doc.template.helpers if h.name == "history" and msg.content_span.contains(h.span.start)]
        if nxt:
            continue
        yield ctx.finding("TP008", f"The `{msg.role}` message is empty.", msg.role_span)


def _partials(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    for ref in doc.template.partials:
        found = ctx.partials(ref.name, doc.path)
        if found is None:
            yield ctx.finding("PT001", f"Partial `{ref.name}` not found (looked for `_{ref.name}.prompt` beside "
                              "this file); make sure it is registered at run time.", ref.span)
            continue
        cycle = _find_cycle(ctx, ref.name, found, [doc.path])
        if cycle:
            yield ctx.finding("PT002", "Circular partials: " + " → ".join(cycle), ref.span)


def _find_cycle(ctx: Context, name: str, found: tuple[str, str], stack: list[str]) -> list[str] | None:
    from promptls.documents.prompt import frontmatter as fmmod
    from promptls.documents.prompt.common import analyze_body

    path, text = found
    names = [_display(p) for p in stack]
    if path in stack:
        return [*names[stack.index(path):], _display(path)]
    if len(stack) > MAX_PARTIAL_DEPTH:
        return None
    fm = fmmod.split(text)
    info = analyze_body("handlebars", text[fm.body_start:], fm.body_start)
    for ref in info.partials:
        nxt = ctx.partials(ref.name, path)
        if nxt is None:
            continue
        cycle = _find_cycle(ctx, ref.name, nxt, [*stack, path])
        if cycle:
            return cycle
    return None


def _display(path: str) -> str:
    from pathlib import Path

    return Path(path).stem.lstrip("_")
