"""Response cache (keys, sampled opt-in, persistence across restart, stream replay) and coalescing."""

from __future__ import annotations

import asyncio
import contextlib

from tests.fakes.http import Fault

from promptls.providers import TextDelta
from promptls.providers.base import ChatRequest
from promptls.router import LLMRequest, Outcome, Router
from promptls.router.cache import cache_key


def ask(text: str = "hi", temperature: float | None = 0.0, **kw) -> LLMRequest:
    return LLMRequest(purpose="completion", messages=[{"role": "user", "content": text}], temperature=temperature,
                      **kw)


async def collect(router: Router, req: LLMRequest) -> tuple[list[str], Outcome]:
    chunks, outcome = [], None
    async for ev in router.stream(req):
        if isinstance(ev, TextDelta):
            chunks.append(ev.text)
        elif isinstance(ev, Outcome):
            outcome = ev
    assert outcome is not None
    return chunks, outcome


def test_key_covers_everything_that_changes_the_answer():
    base = ChatRequest(messages=[{"role": "user", "content": "x"}], model="m", max_tokens=10, temperature=0.0)
    k = cache_key("openai", "http://h/v1", base)
    same = ChatRequest(messages=[{"role": "user", "content": "x"}], model="m", max_tokens=10, temperature=0.0)
    assert k == cache_key("openai", "http://h/v1/", same)  # equal requests, trailing slash normalised
    variants = [
        cache_key("anthropic", "http://h/v1", base),
        cache_key("openai", "http://other/v1", base),
        cache_key("openai", "http://h/v1", ChatRequest(base.messages, "m2", 10, 0.0)),
        cache_key("openai", "http://h/v1", ChatRequest(base.messages, "m", 11, 0.0)),
        cache_key("openai", "http://h/v1", ChatRequest(base.messages, "m", 10, 0.5)),
        cache_key("openai", "http://h/v1", ChatRequest(base.messages, "m", 10, 0.0, params={"top_p": 0.5})),
        cache_key("openai", "http://h/v1", ChatRequest([{"role": "user", "content": "y"}], "m", 10, 0.0)),
        cache_key("openai", "http://h/v1", ChatRequest(base.messages, "m", 10, 0.0, suffix="s")),
    ]
    assert len({k, *variants}) == len(variants) + 1


async def test_deterministic_request_is_served_from_cache_as_a_stream(fakes, make_router):
    fakes["openai"].push(Fault(tokens=["a", "b", "c"]))
    router = make_router(["openai"])
    first, out1 = await collect(router, ask())
    second, out2 = await collect(router, ask())
    assert first == second == ["a", "b", "c"]  # replayed chunk by chunk, not as one blob
    assert (out1.cached, out2.cached) == (False, True)
    assert len(fakes["openai"].calls) == 1


async def test_sampled_requests_are_not_cached_unless_opted_in(fakes, make_router):
    router = make_router(["openai"])
    for _ in range(2):
        await collect(router, ask(temperature=0.7))
    for _ in range(2):
        await collect(router, ask(temperature=None))  # unset: the provider's default samples
    assert len(fakes["openai"].calls) == 4
    # Per request...
    for _ in range(2):
        await collect(router, ask("opt", temperature=0.7, cache=True))
    assert len(fakes["openai"].calls) == 5
    # ...or for all.
    router2 = make_router(["openai"], cache={"cache_sampled": True})
    for _ in range(2):
        await collect(router2, ask("all", temperature=0.9))
    assert len(fakes["openai"].calls) == 6


async def test_cache_bypass_and_different_models_miss(fakes, make_router):
    router = make_router(["openai"])
    await collect(router, ask())
    await collect(router, ask(cache=False))
    await collect(router, ask(model="openai/gpt-4o"))
    assert [c.json()["model"] for c in fakes["openai"].calls] == ["gpt-4o-mini", "gpt-4o-mini", "gpt-4o"]


async def test_persistent_cache_survives_a_restart(fakes, make_router, tmp_path):
    r1 = make_router(["anthropic"])
    await collect(r1, ask("persist me"))
    await r1.aclose()
    r2 = make_router(["anthropic"])  # same cache file (tmp_path), fresh memory tier
    chunks, out = await collect(r2, ask("persist me"))
    assert out.cached and "".join(chunks) == "".join(fakes["anthropic"].default_tokens)
    assert len(fakes["anthropic"].calls) == 1
    import sqlite3

    with sqlite3.connect(tmp_path / "cache.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_failed_or_truncated_answers_are_not_cached(fakes, make_router):
    fakes["openai"].push(Fault(kind="no_terminal", after=2))
    router = make_router(["openai"])
    with contextlib.suppress(Exception):
        await collect(router, ask())
    _, out = await collect(router, ask())
    assert not out.cached
    assert len(fakes["openai"].calls) == 2


async def test_identical_concurrent_requests_are_coalesced(fakes, make_router):
    fakes["ollama"].push(Fault(token_delay_s=0.05))
    router = make_router(["ollama"])
    results = await asyncio.gather(*[collect(router, ask("same", temperature=0.8)) for _ in range(8)])
    assert len(fakes["ollama"].calls) == 1
    texts = {"".join(c) for c, _ in results}
    assert texts == {"".join(fakes["ollama"].default_tokens)}
    assert sum(1 for _, o in results if o.coalesced) == 7


async def test_a_follower_leaving_does_not_cancel_the_flight(fakes, make_router):
    fakes["ollama"].push(Fault(token_delay_s=0.05))
    router = make_router(["ollama"])

    async def quitter():
        async for ev in router.stream(ask("shared", temperature=0.8)):
            if isinstance(ev, TextDelta):
                break

    results = await asyncio.gather(collect(router, ask("shared", temperature=0.8)), quitter())
    chunks, _ = results[0]
    assert "".join(chunks) == "".join(fakes["ollama"].default_tokens)
    assert len(fakes["ollama"].calls) == 1


async def test_no_key_in_cache_file(fakes, make_router, keys, tmp_path):
    secret_prompt = "please use " + keys["openai"]
    router = make_router(["openai", "anthropic"])
    await collect(router, ask(secret_prompt))
    fakes["openai"].push(Fault(kind="status", status=401))
    await collect(router, ask("other"))
    await router.aclose()
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("cache.sqlite3*"))
    assert blob  # the cache was written
    for key in keys.values():
        assert key.encode() not in blob
