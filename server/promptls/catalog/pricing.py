"""The one place a price is computed: a model call (prompts, SDK call sites, the router, eval) through
``Catalog.price_call``, a catalog entry's list prices (``list_price``, the router's model selection) and a
fine-tuning run (``training_cost``, datasets).

A call is priced with the user's configured prices, else genai-prices (imported lazily), else LiteLLM's.

genai-prices knows tiered prices (e.g. Gemini above 200k input tokens, where the higher rate applies to the
whole request) and cached-input prices; LiteLLM's per-token prices in the bundled catalog, with the same
tier rule, cover the models genai-prices does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from promptls.catalog.ids import DIALECTS
from promptls.catalog.model_info import ModelInfo, PriceTier

if TYPE_CHECKING:
    from decimal import Decimal

# Catalog provider -> genai-prices provider id. Providers not listed are priced from the catalog only, so
# genai-prices never guesses a provider from the model name alone.
GENAI_PRICES_PROVIDERS: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "vertex_ai": "google",
    "azure": "azure",
    "bedrock": "aws",
    "mistral": "mistral",
    "groq": "groq",
    "deepseek": "deepseek",
    "xai": "x-ai",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "cohere": "cohere",
    "perplexity": "perplexity",
    "openrouter": "openrouter",
    "cerebras": "cerebras",
    "moonshot": "moonshotai",
    "zai": "zai",
    "databricks": "databricks",
    "novita": "novita",
    "baseten": "baseten",
    "github_copilot": "github-copilot",
    "cloudflare": "cloudflare",
    "minimax": "minimax",
    "ovhcloud": "ovhcloud",
}


@dataclass(frozen=True, slots=True)
class Price:
    """The cost of one call in USD (None when unknown), where the price came from, and a note when the
    input size crossed into a higher price tier."""

    cost_usd: float | None
    source: str
    tier_note: str | None
    priced_as: str | None = None


def price_model(
    info: ModelInfo,
    *,
    price_ref: str,
    use_config_prices: bool,
    fallback_source: str,
    input_tokens: int,
    output_tokens: int,
    cached_input_tokens: int,
) -> Price:
    """Price a call to ``info`` (``price_ref`` is the catalog id whose prices apply, e.g. an alias target)."""
    if use_config_prices:
        return _from_fields(info, f"config (models.{info.id})", input_tokens, output_tokens, cached_input_tokens)
    genai = _from_genai_prices(info, price_ref, input_tokens, output_tokens, cached_input_tokens)
    if genai is not None:
        return genai
    return _from_fields(info, fallback_source, input_tokens, output_tokens, cached_input_tokens)


def _tier_note(above: int, input_tokens: int, input_rate: Any, output_rate: Any) -> str:
    rates = ", ".join(
        f"{label} ${_fmt(rate)}/MTok"
        for label, rate in (("input", input_rate), ("output", output_rate))
        if rate is not None
    )
    return (
        f"input of {input_tokens:,} tokens is above the {above:,}-token price tier: {rates} apply to the whole request"
    )


def _fmt(rate: float | Decimal) -> str:
    return f"{float(rate):.6f}".rstrip("0").rstrip(".")


def _active_tier(tiers: tuple[PriceTier, ...], input_tokens: int) -> PriceTier | None:
    active = None
    for tier in tiers:
        if input_tokens > tier.above_tokens:
            active = tier
    return active


def _from_fields(info: ModelInfo, source: str, input_tokens: int, output_tokens: int, cached: int) -> Price:
    in_rate, out_rate, cached_rate = info.input_per_mtok, info.output_per_mtok, info.cached_input_per_mtok
    tier = _active_tier(info.tiers, input_tokens)
    note = None
    if tier is not None:
        in_rate = tier.input_per_mtok if tier.input_per_mtok is not None else in_rate
        out_rate = tier.output_per_mtok if tier.output_per_mtok is not None else out_rate
        cached_rate = tier.cached_input_per_mtok if tier.cached_input_per_mtok is not None else cached_rate
        note = _tier_note(tier.above_tokens, input_tokens, in_rate, out_rate)
    if in_rate is None or out_rate is None:
        return Price(None, f"{source}: no price for {info.id}", None, info.id)
    if cached_rate is None:
        cached_rate = in_rate
    cost = ((input_tokens - cached) * in_rate + cached * cached_rate + output_tokens * out_rate) / 1_000_000
    return Price(cost, source, note, info.id)


def genai_prices_ref(info: ModelInfo, price_ref: str) -> tuple[str, str] | None:
    """(model ref, provider id) to ask genai-prices, or None when its provider is not mapped."""
    provider_id = GENAI_PRICES_PROVIDERS.get(info.provider)
    if provider_id is None:
        return None
    head, sep, rest = price_ref.partition("/")
    if sep and (head == info.provider or head in DIALECTS):
        price_ref = rest
    return price_ref, provider_id


def _from_genai_prices(
    info: ModelInfo, price_ref: str, input_tokens: int, output_tokens: int, cached: int
) -> Price | None:
    target = genai_prices_ref(info, price_ref)
    if target is None:
        return None
    model_ref, provider_id = target
    import genai_prices
    from genai_prices.types import TieredPrices

    usage = genai_prices.Usage(input_tokens=input_tokens, output_tokens=output_tokens, cache_read_tokens=cached)
    try:
        result = genai_prices.calc_price(usage, model_ref, provider_id=provider_id)
    except (LookupError, ValueError):
        return None
    note = None
    model_price = result.model_price
    tiered_input = getattr(model_price, "input_mtok", None)
    if isinstance(tiered_input, TieredPrices):
        crossed = [tier for tier in tiered_input.tiers if input_tokens > tier.start]
        if crossed:
            tier = crossed[-1]
            output = getattr(model_price, "output_mtok", None)
            out_rate = output
            if isinstance(output, TieredPrices):
                out_tiers = [t for t in output.tiers if input_tokens > t.start]
                out_rate = out_tiers[-1].price if out_tiers else output.base
            note = _tier_note(tier.start, input_tokens, tier.price, out_rate)
    return Price(
        float(result.total_price),
        f"genai-prices {genai_prices.__version__}",
        note,
        f"{result.provider.id}/{result.model.id}",
    )


def list_price(info: ModelInfo, input_tokens: int, output_tokens: int, source: str = "catalog") -> Price:
    """A call priced from the entry's own per-token fields (configured or LiteLLM's), tiers applied."""
    return _from_fields(info, source, input_tokens, output_tokens, 0)


def training_cost(billed_tokens: int, price_per_mtok: float | None) -> float | None:
    """Cost in USD of `billed_tokens` training tokens (tokens × epochs) at `price_per_mtok`."""
    if price_per_mtok is None:
        return None
    return billed_tokens / 1e6 * price_per_mtok
