"""What promptls knows about one model: limits, prices, deprecation, tokenizer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

ModelStatus = Literal["active", "deprecated", "retired"]


@dataclass(frozen=True, slots=True)
class PriceTier:
    """From ``above_tokens`` input tokens on, these per-million prices apply to the whole request."""

    above_tokens: int
    input_per_mtok: float | None
    output_per_mtok: float | None
    cached_input_per_mtok: float | None


# The smallest cacheable prompt prefix when the catalog does not say (Anthropic Sonnet/Opus and OpenAI: 1,024).
DEFAULT_PROMPT_CACHE_MIN_TOKENS = 1024


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model. ``id`` is canonical (LiteLLM's key, or the name given in the user's config)."""

    id: str
    provider: str
    context_window: int | None
    max_output: int | None
    input_per_mtok: float | None
    output_per_mtok: float | None
    cached_input_per_mtok: float | None
    deprecation_date: date | None
    successor: str | None
    tokenizer: str
    supports_prompt_caching: bool
    prompt_cache_min_tokens: int | None
    mode: str = "chat"
    tiers: tuple[PriceTier, ...] = ()
    source: str = "catalog"
    deprecated_on: date | None = None  # when the provider announced the deprecation, if known
    # Where ``deprecation_date`` comes from: "litellm" when only LiteLLM gives it (never enough to call a model
    # retired: its dates are not always the provider's); "provider" or None (a provider page, the user's config).
    date_source: str | None = None
    lifecycle_url: str | None = None  # the provider page the lifecycle facts were read from

    @property
    def date_confirmed(self) -> bool:
        """Whether the shutdown date comes from the provider (or the user's config), not only from LiteLLM."""
        return self.date_source != "litellm"

    def status(self, today: date) -> ModelStatus:
        """``retired`` once a provider-given (or configured) shutdown date is reached; ``deprecated`` while a date
        lies ahead, when only LiteLLM gives the date, or when a successor is named; otherwise ``active``."""
        if self.deprecation_date is not None and today >= self.deprecation_date and self.date_confirmed:
            return "retired"
        if self.deprecation_date is not None or self.successor:
            return "deprecated"
        return "active"

    @property
    def tokenizer_exact(self) -> bool:
        """True when ``tokenizer`` is a bundled tiktoken encoding rather than an estimate."""
        return not self.tokenizer.startswith("estimate:")
