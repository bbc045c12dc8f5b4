"""Model selection: the cheapest model that fits the context, the capability and the budget.

Candidates are model references (as a provider config or a prompt file names them), resolved through the
catalog for context window, output limit and prices. Task complexity maps to a minimum output price per
million tokens: a blunt but explicit proxy for model tier, used only to rule models out, never to prefer an
expensive one. Local backends (kind `local` / `ollama`) are free and carry their own context size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from promptls.catalog import load_catalog
from promptls.catalog.pricing import list_price

#: Minimum output USD per million tokens a model must cost to be trusted with a task of this complexity.
COMPLEXITY_FLOOR = {"simple": 0.0, "moderate": 1.0, "complex": 8.0}


@dataclass(frozen=True, slots=True)
class ModelChoice:
    ref: str
    model_id: str
    context_window: int | None
    estimated_cost_usd: float
    why: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A model reference, optionally with what the catalog cannot know (a local model's context size)."""

    ref: str
    free: bool = False
    context_window: int | None = None


def select_model(
    candidates: Iterable[str | Candidate],
    *,
    prompt_tokens: int,
    output_tokens: int,
    complexity: str = "simple",
    needs_prompt_caching: bool = False,
    max_cost_usd: float | None = None,
    catalog: Any = None,
) -> tuple[ModelChoice | None, list[str]]:
    """The cheapest candidate that fits, and one line per candidate ruled out (why)."""
    if complexity not in COMPLEXITY_FLOOR:
        raise ValueError(f"complexity must be one of {', '.join(COMPLEXITY_FLOOR)}")
    if catalog is None:
        catalog = load_catalog()
    floor = COMPLEXITY_FLOOR[complexity]
    need = prompt_tokens + output_tokens
    fits: list[ModelChoice] = []
    rejected: list[str] = []
    for c in candidates:
        cand = c if isinstance(c, Candidate) else Candidate(c)
        if cand.free:
            if cand.context_window is not None and cand.context_window < need:
                rejected.append(f"{cand.ref}: context {cand.context_window} < {need} tokens")
            elif floor > 0:
                rejected.append(f"{cand.ref}: a local model is not trusted with '{complexity}' tasks")
            else:
                fits.append(ModelChoice(cand.ref, cand.ref, cand.context_window, 0.0, "local, free"))
            continue
        info = catalog.resolve(cand.ref).info
        if info is None:
            rejected.append(f"{cand.ref}: not in the catalog (context and price unknown)")
            continue
        window = cand.context_window or info.context_window
        if window is not None and window < need:
            rejected.append(f"{cand.ref}: context {window} < {need} tokens")
            continue
        if info.max_output is not None and info.max_output < output_tokens:
            rejected.append(f"{cand.ref}: max output {info.max_output} < {output_tokens}")
            continue
        if needs_prompt_caching and not info.supports_prompt_caching:
            rejected.append(f"{cand.ref}: no prompt caching")
            continue
        if info.output_per_mtok is None or info.input_per_mtok is None:
            rejected.append(f"{cand.ref}: no price known")
            continue
        if info.output_per_mtok < floor:
            rejected.append(f"{cand.ref}: ${info.output_per_mtok}/M output is below the '{complexity}' tier")
            continue
        cost = list_price(info, prompt_tokens, output_tokens).cost_usd or 0.0
        if max_cost_usd is not None and cost > max_cost_usd:
            rejected.append(f"{cand.ref}: ~${cost:.5f} over the ${max_cost_usd:.5f} allowed")
            continue
        fits.append(ModelChoice(cand.ref, info.id, window, cost, f"~${cost:.5f}, context {window}"))
    if not fits:
        return None, rejected
    best = min(fits, key=lambda m: (m.estimated_cost_usd, -(m.context_window or 0)))
    return best, rejected
