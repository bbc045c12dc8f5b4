"""Tokens and cost of one SDK call, from what the code states literally: the model, the prompt text that is
known statically and the output limit. Shared by the SD rules, inlay hints, code lenses and code actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promptls.catalog.tokenizer_map import tokenizer_for_reference
from promptls.documents.code.model import CallSite
from promptls.documents.code.requests import PromptPart, Request, request_of
from promptls.tokens.counter import DEFAULT_TOKENIZER

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
    from promptls.tokens import count_chat, counter_for_tokenizer

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
        try:
            est.cost_usd = catalog.price_call(info.id, est.input_tokens, est.output_tokens).cost_usd
        except ValueError:
            est.cost_usd = None
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
    from promptls.tokens.extras import extras, kind_for

    tools, choice = call_tools(site)
    kind = SDK_PROVIDER.get(site.sdk) or kind_for(model, info.provider if info else None, tokenizer)
    return extras(kind, counter, model or "", tools=tools, images=call_images(site), tool_choice=choice)


def price_with(catalog, model_id: str, est: CallEstimate) -> float | None:
    """What the same call would cost with another model (same token counts: an approximation across tokenizers)."""
    try:
        return catalog.price_call(model_id, est.input_tokens, est.output_tokens).cost_usd
    except ValueError:
        return None
