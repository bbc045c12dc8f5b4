"""Streams without usage or without their terminal event: cut streams are errors on every provider, missing usage
is settled with counted tokens (ledger `estimated`), and a budget stops a run of such calls at the right count."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest
from tests.fakes.http import Fault

from promptls.providers import BudgetExceeded, ErrorKind, ProviderError, Usage
from promptls.router import LLMRequest
from promptls.router.ledger import Ledger
from promptls.router.pricing import estimate_prompt_tokens, price_usd

MAX_TOKENS = 20
TOKENS = [" the"] * MAX_TOKENS  # one token each, as a real answer within max_tokens


def ask(i: int) -> LLMRequest:
    return LLMRequest(purpose="completion", messages=[{"role": "user", "content": f"call {i:02d}"}],
                      max_tokens=MAX_TOKENS, cache=False)


def _rows(path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT provider, status, input_tokens, output_tokens, cost_usd, estimated FROM calls "
                          "ORDER BY id").fetchall()


async def test_openai_stream_cut_after_finish_is_truncated_and_billed(fakes, make_router, tmp_path):
    fakes["openai"].push(Fault(tokens=TOKENS, terminal_frames=1))  # finish chunk; no usage chunk, no [DONE]
    router = make_router(["openai", "anthropic"])
    with pytest.raises(ProviderError) as info:
        await router.complete(ask(0))
    assert info.value.kind is ErrorKind.TRUNCATED_STREAM and "[DONE]" in str(info.value)
    assert fakes["anthropic"].calls == []  # never failed over mid-answer
    await router.flush()
    ((provider, status, tin, tout, cost, estimated),) = _rows(tmp_path / "ledger.sqlite3")
    assert (provider, status, estimated) == ("openai", "truncated_stream", 1)
    assert tin > 0 and tout == MAX_TOKENS and cost > 0


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini"])
async def test_missing_usage_is_counted_and_marked_estimated(fakes, make_router, tmp_path, kind):
    fakes[kind].push(Fault(tokens=TOKENS, no_usage=True))
    router = make_router([kind])
    result = await router.complete(ask(1))
    assert result.text == "".join(TOKENS)
    assert result.outcome.usage_estimated and result.outcome.to_dict()["usage_estimated"] is True
    assert result.outcome.usage.input_tokens > 0 and result.outcome.usage.output_tokens == MAX_TOKENS
    assert result.outcome.cost_usd and result.outcome.cost_usd > 0
    # With usage reported, nothing is estimated.
    reported = await router.complete(ask(2))
    assert not reported.outcome.usage_estimated
    await router.flush()
    assert [r[5] for r in _rows(tmp_path / "ledger.sqlite3")] == [1, 0]


async def test_budget_stops_cut_streams_at_the_right_count(fakes, make_router, tmp_path):
    # What one cut call really costs, as settled: learnt from one call on a ledger of its own.
    fakes["openai"].push(Fault(tokens=TOKENS, terminal_frames=1))
    probe = make_router(["openai"], budget={"ledger_path": str(tmp_path / "probe.sqlite3")})
    with pytest.raises(ProviderError):
        await probe.complete(ask(0))
    await probe.flush()
    actual = _rows(tmp_path / "probe.sqlite3")[0][4]
    reserve = price_usd("openai", "gpt-4o-mini", Usage(estimate_prompt_tokens(len("call 00"), 1), MAX_TOKENS))
    assert reserve is not None and 0 < actual <= reserve
    budget = reserve + 9.5 * actual  # room for exactly 10 calls, reserving before each and settling after
    fakes["openai"].reset()
    fakes["openai"].push(*[Fault(tokens=TOKENS, terminal_frames=1) for _ in range(12)])
    # (a breaker would stop a run of cut streams too; here the budget alone must)
    router = make_router(["openai"], budget={"daily_usd": budget, "on_exceed": "refuse"},
                         router={"breaker_threshold": 100})
    outcomes = []
    for i in range(12):
        try:
            await router.complete(ask(i))
        except BudgetExceeded:
            outcomes.append("refused")
        except ProviderError:
            outcomes.append("cut")
        await router.flush()
    assert outcomes == ["cut"] * 10 + ["refused"] * 2
    assert len(fakes["openai"].calls) == 10
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    spent = ledger.spent(day=datetime.now().strftime("%Y-%m-%d"))
    ledger.close()
    assert spent <= budget  # 0 overshoot
    assert spent == pytest.approx(10 * actual)


def test_ledger_written_by_an_older_promptls_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # the schema before the `estimated` column
        db.executescript("""
            CREATE TABLE calls(
                id INTEGER PRIMARY KEY, ts REAL NOT NULL, day TEXT NOT NULL, month TEXT NOT NULL,
                purpose TEXT, provider TEXT, kind TEXT, model TEXT,
                input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
                cached_input_tokens INTEGER NOT NULL DEFAULT 0, cache_write_tokens INTEGER NOT NULL DEFAULT 0,
                cost_usd REAL NOT NULL DEFAULT 0, cost_known INTEGER NOT NULL DEFAULT 1,
                cache_hit INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'ok', latency_ms REAL);
            INSERT INTO calls(ts, day, month, provider, model, cost_usd)
                VALUES (1, '2025-01-01', '2025-01', 'p', 'm', 0.5);
        """)
    ledger = Ledger(path)
    ledger.record(provider="p", model="m", usage=Usage(3, 4), cost_usd=0.25, estimated=True)
    rows = ledger.summary()
    ledger.close()
    assert [r["estimated_calls"] for r in rows] == [0, 1]
    assert Ledger(path).summary()[0]["calls"] == 1  # reopening a migrated file is a no-op
