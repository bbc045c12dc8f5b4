"""Budgets (reserve before, settle after; refuse or downgrade) and the usage ledger."""

from __future__ import annotations

import asyncio
import sqlite3

from tests.fakes.http import Fault

from promptls.providers import BudgetExceeded, Usage
from promptls.router import LLMRequest
from promptls.router.ledger import Ledger
from promptls.router.pricing import estimate_prompt_tokens, price_usd

MAX_TOKENS = 20


def ask(i: int) -> LLMRequest:
    # Same length for every call, so every reservation is the same estimate.
    return LLMRequest(purpose="completion", messages=[{"role": "user", "content": f"call {i:02d}"}],
                      max_tokens=MAX_TOKENS)


def estimate() -> float:
    prompt = estimate_prompt_tokens(len("call 00"), 1)
    cost = price_usd("openai", "gpt-4o-mini", Usage(input_tokens=prompt, output_tokens=MAX_TOKENS))
    assert cost is not None and cost > 0, "the catalog must price gpt-4o-mini for this test"
    return cost


async def test_fifty_concurrent_calls_cannot_overshoot_the_daily_budget(fakes, make_router, tmp_path):
    per_call = estimate()
    budget = per_call * 10.5  # room for 10 calls in flight at once
    # Each answer uses its whole output allowance, slowly, so the calls overlap.
    tokens = [f"t{i}" for i in range(MAX_TOKENS)]
    fakes["openai"].push(*[Fault(tokens=tokens, token_delay_s=0.02) for _ in range(50)])
    router = make_router(["openai"], budget={"daily_usd": budget, "on_exceed": "refuse"})

    async def one(i: int) -> str:
        try:
            await router.complete(ask(i))
            return "ok"
        except BudgetExceeded:
            return "refused"

    results = await asyncio.gather(*[one(i) for i in range(50)])
    ok, refused = results.count("ok"), results.count("refused")
    assert ok + refused == 50
    assert 1 <= ok < 50 and refused >= 1
    assert len(fakes["openai"].calls) == ok  # a refused call never reached the provider
    await router.flush()
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    from datetime import datetime

    spent = ledger.spent(day=datetime.now().strftime("%Y-%m-%d"))
    assert 0 < spent <= budget  # settled actual costs stay inside the budget
    assert ledger.outstanding() == 0  # every reservation was settled or released
    ledger.close()


async def test_over_budget_downgrades_to_the_local_provider(fakes, make_router):
    router = make_router(
        ["openai", "ollama"],
        budget={"daily_usd": estimate() / 2, "on_exceed": "downgrade", "downgrade": ["ollama"]},
    )
    result = await router.complete(ask(1))
    assert result.outcome.provider == "ollama"
    assert fakes["openai"].calls == []
    assert any("budget" in s for s in result.outcome.skipped)


async def test_refusal_names_the_budget(fakes, make_router):
    router = make_router(["openai"], budget={"daily_usd": 0.0, "on_exceed": "refuse"})
    try:
        await router.complete(ask(1))
    except BudgetExceeded as exc:
        assert "daily budget" in str(exc)
    else:
        raise AssertionError("expected BudgetExceeded")


async def test_ledger_normalises_anthropic_cache_tokens_and_counts_cache_hits(fakes, make_router, tmp_path):
    router = make_router(["anthropic"])
    cached_prompt = [{"role": "user", "content": [
        {"type": "text", "text": "long shared context", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "question"}]}]
    req = LLMRequest(purpose="completion", messages=cached_prompt, temperature=0.0)
    first = await router.complete(req)
    second = await router.complete(req)
    assert second.outcome.cached
    u = first.outcome.usage
    assert u.cached_input_tokens == 100  # the fake reports 100 cache-read tokens
    assert u.input_tokens > u.cached_input_tokens  # normalised: the total includes the cached part
    await router.aclose()
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    (row,) = ledger.summary()
    assert row["provider"] == "anthropic" and row["calls"] == 2 and row["cache_hits"] == 1
    assert row["cached_input_tokens"] == 100 and row["input_tokens"] == u.input_tokens
    assert row["cost_usd"] > 0
    ledger.close()


async def test_ledger_and_logs_hold_no_key(fakes, make_router, keys, tmp_path, caplog):
    import logging

    caplog.set_level(logging.DEBUG, logger="promptls")
    fakes["openai"].push(Fault(kind="status", status=401))
    router = make_router(["openai", "anthropic", "gemini"])
    await router.complete(ask(1))
    await router.complete(ask(2))
    await router.aclose()
    for path in tmp_path.glob("ledger.sqlite3*"):
        blob = path.read_bytes()
        for key in keys.values():
            assert key.encode() not in blob
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM calls").fetchone()[0] >= 2
    for key in keys.values():
        assert key not in caplog.text
