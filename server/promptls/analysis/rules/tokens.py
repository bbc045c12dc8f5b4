"""TK rules: context overflow, max output above the model's limit, per-call budget,
price tiers and the prompt-caching hint. The token report itself is computed here and kept on the context."""

from __future__ import annotations

from collections.abc import Iterator

from promptls.analysis.context import Context
from promptls.catalog.model_info import DEFAULT_PROMPT_CACHE_MIN_TOKENS
from promptls.catalog.tokenizer_map import tokenizer_for_reference
from promptls.core.figures import format_cost
from promptls.core.findings import Finding, MessageTokens, TokenReport
from promptls.core.positions import Span
from promptls.documents.prompt.model import PromptDocument
from promptls.documents.render import render_messages, values_for
from promptls.tokens.counter import DEFAULT_TOKENIZER
from promptls.tokens.extras import extras, kind_for, media_urls, strip_media
from promptls.tokens.tools import tools_from_frontmatter


def _where(doc: PromptDocument) -> Span:
    if doc.model and doc.model.span:
        return doc.model.span
    return Span(doc.body_span.start, doc.body_span.start)


def compute(doc: PromptDocument, ctx: Context) -> tuple[TokenReport, object | None, str | None]:
    """The token report, the resolved model info (or None) and a render error (or None)."""
    from promptls.tokens import count_chat, counter_for_tokenizer

    info = None
    if doc.model is not None:
        info = ctx.catalog.resolve(doc.model.ref, doc.model.provider).info
    tokenizer = info.tokenizer if info is not None else tokenizer_for_reference(
        doc.model.ref if doc.model else None, doc.model.provider if doc.model else None, DEFAULT_TOKENIZER)
    counter = counter_for_tokenizer(tokenizer)
    data, filled, missing = values_for(doc)
    error = None

    used_paths = [doc.path]  # the files whose text the rendered prompt carries (privacy rules apply to them)

    def partial(name: str) -> str | None:
        found = ctx.partials(name, doc.path)
        if found is None:
            return None
        used_paths.append(found[0])
        from promptls.documents.prompt import frontmatter as fmmod
        return found[1][fmmod.split(found[1]).body_start:]

    try:
        pairs = render_messages(doc, data, partial)
    except Exception as e:  # a template the engine rejects: count the raw body instead, and say so
        error = str(e).splitlines()[0] if str(e) else type(e).__name__
        pairs = [(m.role, doc.text[m.content_span.start:m.content_span.end]) for m in doc.messages]
    model_id = info.id if info is not None else doc.model.ref if doc.model else ""
    provider = info.provider if info is not None else doc.model.provider if doc.model else None
    tools, tool_names = tools_from_frontmatter(doc.frontmatter.data)
    images = [(url, "auto") for _, text in pairs for url in media_urls(text)]
    if images:  # a `[media URL]` placeholder is not text the model reads: the image is counted as an image
        pairs = [(r, strip_media(t)) for r, t in pairs]
    chat = count_chat(pairs, counter)
    more = extras(kind_for(model_id, provider, tokenizer), counter, model_id, tools=tools, images=images,
                  tool_names=tool_names)
    total, label = chat.total + more.tokens, counter.name
    exact = counter.exact and not more.tokens  # tools and images offline are the providers' formulas: estimates
    error_pct = counter.error_pct if not more.tokens else None
    if ctx.online_count is not None and not exact and doc.model is not None and not images:
        online = ctx.online_count(model_id, provider, tokenizer, pairs, tools, paths=used_paths)
        if online is not None:
            total, label, exact = online[0], online[1], True
    spans = [m.content_span for m in doc.messages] if len(doc.messages) == len(pairs) else [None] * len(pairs)
    msgs = [MessageTokens(r, n, s) for (r, _), n, s in zip(pairs, chat.per_message, spans, strict=False)]
    notes = []
    if filled:
        notes.append("defaults/samples for " + ", ".join(filled))
    if missing:
        notes.append("no value for " + ", ".join(missing))
    if error:
        notes.append("raw template counted: render failed")
    notes.extend(more.notes)
    reserved = doc.max_output or 0
    cost = None
    tier_note = None
    if info is not None:
        price = ctx.catalog.price_call(info.id, total, reserved)
        cost, tier_note = price.cost_usd, price.tier_note
    report = TokenReport(label, exact, total, reserved, msgs, cost, "; ".join(notes),
                         error_pct=None if exact else error_pct)
    ctx.extra["tier_note"] = tier_note
    ctx.extra["tokenizer"] = tokenizer  # the offline one, also when the report carries a provider count
    return report, info, error


def check(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    report, info, _error = compute(doc, ctx)
    ctx.extra["tokens"] = report
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
    tier = ctx.extra.get("tier_note")
    if tier:
        yield ctx.finding("TK006", f"{tier}.", where)
    yield from _cache_hint(doc, ctx, info, report)


def _cache_hint(doc: PromptDocument, ctx: Context, info, report: TokenReport) -> Iterator[Finding]:
    if not getattr(info, "supports_prompt_caching", False):
        return
    refs = sorted((r for r in doc.template.refs if not r.maybe), key=lambda r: r.span.start)
    if not refs:
        return
    first = refs[0]
    from promptls.tokens import counter_for_tokenizer

    counter = counter_for_tokenizer(ctx.extra.get("tokenizer") or report.tokenizer)
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
