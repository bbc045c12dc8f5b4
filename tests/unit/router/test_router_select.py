"""Model selection over the real bundled catalog: cheapest that fits context, tier and budget."""

from __future__ import annotations

import pytest

from promptls.catalog import load_catalog
from promptls.router.select import COMPLEXITY_FLOOR, Candidate, select_model

REFS = ["gpt-4o-mini", "gpt-4o", "claude-haiku-4-5", "gemini-2.5-flash"]


def cost(ref: str, p: int, o: int) -> float:
    info = load_catalog().resolve(ref).info
    assert info is not None and info.input_per_mtok is not None and info.output_per_mtok is not None
    return (p * info.input_per_mtok + o * info.output_per_mtok) / 1e6


def test_picks_the_cheapest_model_that_fits():
    choice, _ = select_model(REFS, prompt_tokens=2000, output_tokens=500)
    assert choice is not None
    assert choice.estimated_cost_usd == pytest.approx(min(cost(r, 2000, 500) for r in REFS))


def test_context_rules_models_out():
    cat = load_catalog()
    windows = {r: cat.resolve(r).info.context_window for r in REFS}
    need = max(windows.values()) - 1000
    choice, rejected = select_model(REFS, prompt_tokens=need, output_tokens=500)
    assert choice is not None and windows[choice.ref] >= need + 500
    assert any("context" in line for line in rejected)


def test_complexity_floor_and_budget():
    choice, rejected = select_model(REFS, prompt_tokens=1000, output_tokens=1000, complexity="complex")
    floor = COMPLEXITY_FLOOR["complex"]
    eligible = [r for r in REFS if load_catalog().resolve(r).info.output_per_mtok >= floor]
    if eligible:
        assert choice is not None and choice.ref == min(eligible, key=lambda r: cost(r, 1000, 1000))
    else:
        assert choice is None
    assert len(rejected) == len(REFS) - len(eligible)
    cheapest = min(cost(r, 1000, 1000) for r in REFS)
    none, why = select_model(REFS, prompt_tokens=1000, output_tokens=1000, max_cost_usd=cheapest / 2)
    assert none is None and len(why) == len(REFS)


def test_local_models_are_free_but_bounded():
    local = Candidate("smollm2", free=True, context_window=2048)
    choice, _ = select_model([*REFS, local], prompt_tokens=1000, output_tokens=200)
    assert choice is not None and choice.ref == "smollm2" and choice.estimated_cost_usd == 0
    choice, rejected = select_model([*REFS, local], prompt_tokens=4000, output_tokens=200)
    assert choice is not None and choice.ref != "smollm2"
    assert any(line.startswith("smollm2: context") for line in rejected)


def test_unknown_models_are_explained():
    choice, rejected = select_model(["no-such-model-xyz"], prompt_tokens=10, output_tokens=10)
    assert choice is None and "not in the catalog" in rejected[0]
