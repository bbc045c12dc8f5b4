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

    def status(self, today: date) -> ModelStatus:
        """``retired`` once the deprecation (shutdown) date is reached; ``deprecated`` while a date lies
        ahead or a successor is named; otherwise ``active``."""
        if self.deprecation_date is not None and today >= self.deprecation_date:
            return "retired"
        if self.deprecation_date is not None or self.successor:
            return "deprecated"
        return "active"

    @property
    def tokenizer_exact(self) -> bool:
        """True when ``tokenizer`` is a bundled tiktoken encoding rather than an estimate."""
        return not self.tokenizer.startswith("estimate:")
