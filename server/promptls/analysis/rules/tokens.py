"""TK rules: context overflow, max output above the model's limit, per-call budget,
price tiers and the prompt-caching hint, read from the token report `measure.py` made before the rules ran."""

from __future__ import annotations

from collections.abc import Iterator

from promptls.analysis.context import Context
from promptls.catalog.model_info import DEFAULT_PROMPT_CACHE_MIN_TOKENS
from promptls.core.figures import format_cost
from promptls.core.findings import Finding
from promptls.core.positions import Span
from promptls.documents.prompt.model import PromptDocument


def _where(doc: PromptDocument) -> Span:
    if doc.model and doc.model.span:
        return doc.model.span
    return Span(doc.body_span.start, doc.body_span.start)


def check(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    measured = ctx.measurement.prompt
    if measured is None:  # not measured: the engine reports why
        return
    report, info = measured.report, measured.info
    where = _where(doc)
    # The figures (TK001 tokens, TK004 cost) travel in the report, not as findings: a diagnostic is a problem.
    if info is None:
        return
    if info.context_window and report.input + report.output_reserved > info.context_window:
        yield ctx.finding("TK002", f"Input {report.input:,} + reserved output {report.output_reserved:,} tokens "
                          f"exceeds `{info.id}`'s context window of {info.context_window:,}.",
                          doc.max_output_span or where)
    if doc.max_output and info.max_output and doc.max_output > info.max_output and doc.max_output_span:
        yield ctx.finding("TK003", f"Max output {doc.max_output:,} is above `{info.id}`'s limit of "
                          f"{info.max_output:,} tokens.", doc.max_output_span)
    if report.cost_usd is not None:
        budget = ctx.config.per_call_budget_usd
        if budget is not None and report.cost_usd > budget:
            yield ctx.finding("TK005", f"Estimated {format_cost(report.cost_usd)} per call is above the budget of "
                              f"{format_cost(budget)}.", where, severity=ctx.config.budget_severity)
    if measured.tier_note:
        yield ctx.finding("TK006", f"{measured.tier_note}.", where)
    yield from _cache_hint(doc, ctx, info, measured.tokenizer)


def _cache_hint(doc: PromptDocument, ctx: Context, info, tokenizer: str) -> Iterator[Finding]:
    if not getattr(info, "supports_prompt_caching", False):
        return
    refs = sorted((r for r in doc.template.refs if not r.maybe), key=lambda r: r.span.start)
    if not refs:
        return
    first = refs[0]
    from promptls.tokens import counter_for_tokenizer

    counter = counter_for_tokenizer(tokenizer)
    minimum = getattr(info, "prompt_cache_min_tokens", None) or DEFAULT_PROMPT_CACHE_MIN_TOKENS
    nxt = refs[1].span.start if len(refs) > 1 else doc.body_span.end
    before = doc.text[doc.body_span.start:first.span.start]
    static_after = doc.text[first.span.end:nxt]
    if not _at_least(counter, before, minimum) and _at_least(counter, static_after, minimum):
        yield ctx.finding("TK007", f"`{first.root}` comes before at least {minimum:,} tokens of static text, so "
                          "the provider's prompt cache can never reuse them; move variables after the static part.",
                          first.span)


def _at_least(counter, text: str, n: int) -> bool:
    """Whether `text` has at least `n` tokens, tokenizing only as much of it as needed (a token is >= 1 char)."""
    if len(text) < n:
        return False
    chunk = n * 8
    while True:
        if counter.count(text[:chunk]) >= n:
            return True
        if chunk >= len(text):
            return False
        chunk *= 4
