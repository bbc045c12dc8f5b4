"""Per-family token-count estimates for models whose tokenizer cannot be run offline.

Each estimate is ``ceil(exact count with a bundled encoding × factor)``. The factors and their expected
error are written next to each family with where they come from; none of them is exact, and every counter
built from this table says so (``exact=False``, name ``estimate:<family>``). The measured error bound of each
method (``data/estimate_bounds.json``, written by bench/bench_estimates.py) is what reports show as "≈ ±N%".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class FamilyEstimate:
    """How to estimate one family's token count from a bundled encoding."""

    family: str
    base_encoding: str
    factor: float
    source: str
    error: str

    def describe(self) -> str:
        """One line for hovers and reports."""
        bound = measured_bound(self.family)
        measured = f"measured ≈ ±{bound}%" if bound is not None else "error unmeasured"
        return f"estimate for {self.family}: {self.base_encoding} count × {self.factor:g} ({measured})"


@cache
def _bounds() -> dict[str, int | None]:
    text = resources.files("promptls").joinpath("data", "estimate_bounds.json").read_text(encoding="utf-8")
    return {family: m.get("bound_pct") for family, m in json.loads(text)["methods"].items()}


def measured_bound(family: str) -> int | None:
    """The largest error (percent, rounded up) bench/bench_estimates.py measured for ``family``'s estimate
    against exact tokenizers on its corpus; None where no offline reference exists (Claude, Gemini)."""
    return _bounds().get(family)


ESTIMATES: dict[str, FamilyEstimate] = {
    "openai": FamilyEstimate(
        family="openai",
        base_encoding="o200k_base",
        factor=1.0,
        source=(
            "Used for OpenAI model names tiktoken does not map to an encoding (tiktoken.model). Every OpenAI "
            "chat model released since gpt-4o (May 2024) that tiktoken does map uses o200k_base, so a new "
            "name most likely does too."
        ),
        error="0% if the model uses o200k_base, otherwise unknown",
    ),
    "claude": FamilyEstimate(
        family="claude",
        base_encoding="o200k_base",
        factor=1.2,
        source=(
            "Anthropic publishes no tokenizer for Claude 3 and later; exact counts need the "
            "messages/count_tokens API. VentureBeat's comparison of Claude 3.5 Sonnet with GPT-4o on "
            "identical inputs ('Hidden costs in AI deployment', 2025) found about +16% tokens for English "
            "prose, +21% for maths and +30% for Python code; 1.2 sits between prose and code."
        ),
        error="about -5%..+5% for English prose, up to ~10% low for code; newer Claude tokenizers may differ",
    ),
    "gemini": FamilyEstimate(
        family="gemini",
        base_encoding="o200k_base",
        factor=1.0,
        source=(
            "Gemini (and Gemma) use a SentencePiece vocabulary of about 256k entries, comparable in size to "
            "o200k_base; Google documents 'about 4 characters per token' for English, which is in line with "
            "o200k_base on English text. Not measured against the countTokens API."
        ),
        error="unmeasured; assume ±20%",
    ),
    "llama": FamilyEstimate(
        family="llama",
        base_encoding="cl100k_base",
        factor=1.0,
        source=(
            "Llama 3's tokenizer is a tiktoken BPE made of cl100k_base's 100k ranks plus 28k extra tokens "
            "with the same split pattern (Meta, Llama 3 release notes), so counts are equal to or a little "
            "below cl100k_base's. Llama 2 and older used a 32k SentencePiece vocabulary and need more."
        ),
        error="0..-5% for English and code on Llama 3+, larger (lower) for other languages; +10..30% on Llama 2",
    ),
    "mistral": FamilyEstimate(
        family="mistral",
        base_encoding="o200k_base",
        factor=1.1,
        source=(
            "Mistral's Tekken tokenizer (NeMo, Large 2 and later) is a tiktoken BPE with a 131k vocabulary, "
            "close to o200k_base; older Mistral/Mixtral models use a 32k SentencePiece vocabulary that needs "
            "noticeably more tokens. 1.1 splits the difference."
        ),
        error="unmeasured; assume ±20%",
    ),
    "qwen": FamilyEstimate(
        family="qwen",
        base_encoding="cl100k_base",
        factor=1.0,
        source=(
            "The Qwen technical report (2023) builds its ~152k BPE vocabulary from cl100k_base, adding "
            "Chinese tokens and splitting numbers into single digits; later Qwen versions keep that "
            "vocabulary. English counts match cl100k_base closely; Chinese is lower, long numbers higher."
        ),
        error="about ±5% for English; numbers count higher, Chinese lower",
    ),
    "unknown": FamilyEstimate(
        family="unknown",
        base_encoding="o200k_base",
        factor=1.1,
        source=(
            "No information about the tokenizer. Modern tokenizers with 100k-260k vocabularies land within "
            "about 20% of o200k_base on English; the 10% margin makes context-window checks err early."
        ),
        error="unmeasured; assume ±25%",
    ),
}
