"""Cancellation closes the provider stream; a request arriving while every provider cools waits or fails fast."""

from __future__ import annotations

import asyncio

import pytest
from tests.fakes.http import Fault, status_error, wait_for

from promptls.providers import NoProviderAvailable, TextDelta
from promptls.router import LLMRequest, Outcome

KINDS = ("openai", "anthropic", "gemini", "ollama")


def ask(text: str = "hi") -> LLMRequest:
    return LLMRequest(purpose="completion", messages=[{"role": "user", "content": text}])


@pytest.mark.parametrize("kind", KINDS)
async def test_closing_the_stream_closes_the_provider_connection(kind, fakes, make_router):
    fakes[kind].push(Fault(tokens=[f"w{i} " for i in range(40)], token_delay_s=0.05))
    router = make_router([kind])
    stream = router.stream(ask())
    async for ev in stream:
        if isinstance(ev, TextDelta):
            break
    await stream.aclose()
    assert wait_for(lambda: fakes[kind].client_closed == 1, timeout_s=20)
    assert fakes[kind].completed == 0


@pytest.mark.parametrize("kind", ["openai", "ollama"])
async def test_cancelling_the_reading_task_closes_the_provider_connection(kind, fakes, make_router):
    fakes[kind].push(Fault(tokens=[f"w{i} " for i in range(40)], token_delay_s=0.05))
    router = make_router([kind])
    got_one = asyncio.Event()

    async def reader():
        async for ev in router.stream(ask()):
            if isinstance(ev, TextDelta):
                got_one.set()

    task = asyncio.create_task(reader())
    await asyncio.wait_for(got_one.wait(), timeout=30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert wait_for(lambda: fakes[kind].client_closed == 1, timeout_s=20)


async def _cool_down(router, fakes, kind: str, ms: int) -> None:
    """One request that gets a 429 with a hint longer than max_retry_wait_s: the provider cools for `ms`."""
    fakes[kind].push(status_error(429, headers={"retry-after-ms": str(ms)}))
    with pytest.raises(NoProviderAvailable):
        await router.complete(ask("first"))


async def test_all_cooling_fail_fast(fakes, make_router):
    router = make_router(["openai"], router={"when_all_cooling": "fail", "max_retry_wait_s": 0.05})
    await _cool_down(router, fakes, "openai", 60_000)
    with pytest.raises(NoProviderAvailable) as info:
        await router.complete(ask("second"))
    assert info.value.retry_at is not None
    assert "cooling down" in str(info.value)
    assert len(fakes["openai"].calls) == 1  # the second request never reached the provider


async def test_all_cooling_waits_for_the_earliest(fakes, make_router):
    router = make_router(["openai"], router={"when_all_cooling": "wait", "max_retry_wait_s": 0.05})
    await _cool_down(router, fakes, "openai", 300)
    result = await router.complete(ask("second"))
    assert result.outcome.provider == "openai"
    assert any("cooling down" in s for s in result.outcome.skipped)
    assert len(fakes["openai"].calls) == 2


async def test_waiting_never_outlives_the_deadline(fakes, make_router):
    from promptls.router.settings import Deadlines

    router = make_router(["openai"], router={"when_all_cooling": "wait", "max_retry_wait_s": 0.05},
                         deadlines=Deadlines(first_token_s=30, idle_s=30, total_s=2))
    await _cool_down(router, fakes, "openai", 60_000)
    with pytest.raises(NoProviderAvailable):
        await router.complete(ask("second"))
    assert len(fakes["openai"].calls) == 1


async def test_outcome_reports_skips_without_keys(fakes, make_router, monkeypatch):
    monkeypatch.delenv("PLS_TEST_ANTHROPIC_KEY")
    router = make_router(["anthropic", "openai"])
    events = [ev async for ev in router.stream(ask())]
    out = events[-1]
    assert isinstance(out, Outcome) and out.provider == "openai"
    assert out.skipped == ("anthropic: no API key (set PLS_TEST_ANTHROPIC_KEY)",)
