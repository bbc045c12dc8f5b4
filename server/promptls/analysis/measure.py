"""Measure, then rule: the tokens and cost of every call of a file, computed once before the rules run and
handed to them on the `Context` (`ctx.measurement`), which they only read.

A prompt file makes one call, its rendered request (`measure_prompt`); a source file makes one per SDK call site,
read from what the code states literally: the model, the prompt text known statically and the output limit
(`measure_code`, `estimate`). The estimates are also what inlay hints, code lenses and code actions show. A
failure in measuring is logged and reported as an IO001 finding, never a silently missing figure."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptls.catalog.model_info import ModelInfo
from promptls.catalog.tokenizer_map import tokenizer_for_reference
from promptls.core.findings import Finding, MessageTokens, Severity, TokenReport
from promptls.core.positions import Span
from promptls.documents.code.model import CallSite, CodeDocument
from promptls.documents.code.requests import PromptPart, Request, request_of
from promptls.documents.prompt.model import PromptDocument
from promptls.documents.render import render_messages, values_for
from promptls.tokens.counter import DEFAULT_TOKENIZER
from promptls.tokens.extras import extras, kind_for, media_urls, strip_media
from promptls.tokens.tools import tools_from_frontmatter

if TYPE_CHECKING:
    from promptls.analysis.context import Context

log = logging.getLogger(__name__)

SDK_PROVIDER = {"anthropic": "anthropic", "openai": "openai", "gemini": "gemini", "ollama": "ollama",
                "litellm": None}


@dataclass(slots=True)
class CallEstimate:
    site: CallSite
    request: Request
    info: Any  # ModelInfo or None
    model: str | None  # the model id as written, when known
    tokenizer: str
    exact: bool
    parts: list[tuple[PromptPart, int]] = field(default_factory=list)  # each known prompt piece and its tokens
    input_tokens: int = 0  # known prompt text with chat framing
    output_tokens: int = 0  # the literal output limit, 0 when unknown
    cost_usd: float | None = None
    notes: list[str] = field(default_factory=list)  # what besides text was counted (tools, images) and how

    @property
    def complete(self) -> bool:
        """Whether the whole prompt was read statically (otherwise input_tokens is a lower bound)."""
        return self.request.messages_known


def estimate(site: CallSite, catalog, *, request: Request | None = None) -> CallEstimate:
    """One SDK call site, counted and priced with `catalog`."""
    from promptls.tokens import count_chat, counter_for_tokenizer  # loads the tokenizer tables: on first use

    req = request or request_of(site)
    model = req.model.value if req.model is not None and isinstance(req.model.value, str) else None
    info = model_info(site, model, catalog)
    tokenizer = info.tokenizer if info is not None else tokenizer_for_reference(
        model, SDK_PROVIDER.get(site.sdk), DEFAULT_TOKENIZER)
    counter = counter_for_tokenizer(tokenizer)
    pairs = [(p.role if p.role in ("system", "user", "assistant", "developer", "tool") else "user", p.text)
             for p in req.prompts]
    chat = count_chat(pairs, counter) if pairs else None
    parts = list(zip(req.prompts, chat.per_message, strict=False)) if chat else []
    out = req.max_output.value if req.max_output is not None and isinstance(req.max_output.value, int) \
        and not isinstance(req.max_output.value, bool) else 0
    more = _extras(site, info, model, tokenizer, counter)
    est = CallEstimate(site, req, info, model, counter.name, counter.exact and not more.tokens, parts,
                       (chat.total if chat else 0) + more.tokens, max(0, out), notes=more.notes)
    if info is not None and (est.input_tokens or est.output_tokens):
        est.cost_usd = catalog.cost_usd(info.id, est.input_tokens, est.output_tokens)
    return est


def model_info(site: CallSite, model: str | None, catalog):
    """The catalog entry behind a call's model id, as its endpoint reads it: an Azure deployment through
    `[deployments]` (unmapped: unknown), a self-hosted server's id matched to its open model, else the SDK's
    provider."""
    endpoint = site.client.endpoint if site.client is not None else None
    if endpoint == "azure":
        return catalog.resolve(site.deployment_model, "azure").info if site.deployment_model else None
    if not model:
        return None
    if endpoint == "self-hosted":
        return catalog.resolve_open(model).info
    return catalog.resolve(model, SDK_PROVIDER.get(site.sdk)).info


def _extras(site: CallSite, info, model: str | None, tokenizer: str, counter):
    """Literal tool definitions and image parts, counted the providers' documented way (an estimate)."""
    from promptls.documents.code.media import call_images, call_tools

    tools, choice = call_tools(site)
    kind = SDK_PROVIDER.get(site.sdk) or kind_for(model, info.provider if info else None, tokenizer)
    return extras(kind, counter, model or "", tools=tools, images=call_images(site), tool_choice=choice)


def price_with(catalog, model_id: str, est: CallEstimate) -> float | None:
    """What the same call would cost with another model (same token counts: an approximation across tokenizers)."""
    return catalog.cost_usd(model_id, est.input_tokens, est.output_tokens)


@dataclass(frozen=True, slots=True)
class PromptMeasure:
    """A prompt file's one call: its token report (figures and cost), the resolved model (None when unknown),
    the offline tokenizer (also when the report carries a provider's count), the price-tier note and the
    template's render error (the raw body was counted instead)."""

    report: TokenReport
    info: ModelInfo | None
    tokenizer: str
    tier_note: str | None
    render_error: str | None


@dataclass(frozen=True, slots=True)
class Measurement:
    """What `measure_prompt` / `measure_code` found: the rules read it, the report carries it."""

    prompt: PromptMeasure | None = None
    calls: tuple[CallEstimate, ...] = ()
    failures: tuple[Finding, ...] = ()  # IO001: a call that could not be measured, and why


def measure_prompt(doc: PromptDocument, ctx: Context) -> Measurement:
    """The rendered request of a prompt file, counted and priced."""
    try:
        return Measurement(prompt=_prompt(doc, ctx))
    except Exception as e:
        if os.environ.get("PROMPTLS_STRICT") == "1":
            raise
        log.exception("measuring tokens and cost failed on %s", doc.path)
        return Measurement(failures=(_failure("tokens and cost", e, Span(0, 0)),))


def measure_code(doc: CodeDocument, ctx: Context) -> Measurement:
    """Every SDK call site of a source file, counted and priced; a site that fails costs no other site."""
    calls: list[CallEstimate] = []
    failures: list[Finding] = []
    for site in doc.calls:
        try:
            calls.append(estimate(site, ctx.catalog))
        except Exception as e:  # the other calls are still measured
            if os.environ.get("PROMPTLS_STRICT") == "1":
                raise
            log.exception("measuring the call at offset %d failed on %s", site.callee_span.start, doc.path)
            failures.append(_failure("this call's tokens and cost", e, site.callee_span))
    return Measurement(calls=tuple(calls), failures=tuple(failures))


def _failure(what: str, e: Exception, span: Span) -> Finding:
    return Finding("IO001", Severity.WARNING, f"Not measured: {what} (internal error: {type(e).__name__}).", span)


def _prompt(doc: PromptDocument, ctx: Context) -> PromptMeasure:
    from promptls.tokens import count_chat, counter_for_tokenizer  # loads the tokenizer tables: on first use

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
    return PromptMeasure(report, info, tokenizer, tier_note, error)
