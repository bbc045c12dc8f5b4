"""OpenAI-compatible servers' error bodies through the real openai SDK, token counting, prompt-cache blocks."""

from __future__ import annotations

import json

import pytest
from tests.fakes.http import FakeServer, status_error
from tests.fakes.openai_fake import OpenAIFake
from tests.unit.router.helpers import settings_for

from promptls.providers import ErrorKind, NoProviderAvailable
from promptls.router import LLMRequest, Router


@pytest.mark.parametrize("flavor", ["openai", "vllm", "tgi", "llamacpp", "lmstudio"])
async def test_compatible_servers_overflow_bodies_are_understood(flavor, tmp_path):
    fake = OpenAIFake(flavor)
    with FakeServer(fake) as server:
        fake.push(status_error(400, error="overflow"))
        router = Router(settings_for({
            "providers": {"self": {"kind": "openai", "model": "m", "base_url": server.url + "/v1"}},
            "router": {"completion": ["self"]},
            "cache": {"enabled": False}, "budget": {"ledger": False},
        }))
        with pytest.raises(NoProviderAvailable) as info:
            await router.complete(LLMRequest(purpose="completion", messages=[{"role": "user", "content": "x"}]))
        await router.aclose()
    (err,) = info.value.errors
    assert err.kind is ErrorKind.CONTEXT_OVERFLOW
    # A self-hosted server needs no key: none was configured, and the request went out.
    assert len(fake.calls) == 1


@pytest.mark.parametrize("kind", ["anthropic", "gemini"])
async def test_count_tokens_asks_the_provider(kind, fakes, make_router):
    router = make_router([kind])
    name, n = await router.count_tokens(LLMRequest(purpose="completion",
                                                   messages=[{"role": "user", "content": "count " * 40}]))
    assert name == kind and n > 10
    paths = [r.path for r in fakes[kind].requests]
    assert any(p.endswith("count_tokens") or p.endswith(":countTokens") for p in paths)
    assert fakes[kind].calls == []  # counting is not a model call


async def test_anthropic_system_cache_control_blocks_pass_through(fakes, make_router):
    router = make_router(["anthropic"])
    system = [{"type": "text", "text": "big shared preamble", "cache_control": {"type": "ephemeral"}}]
    result = await router.complete(LLMRequest(purpose="completion", messages=[
        {"role": "system", "content": system}, {"role": "user", "content": "q"}]))
    sent = fakes["anthropic"].calls[0].json()
    assert sent["system"] == system
    assert all(m["role"] != "system" for m in sent["messages"])
    assert result.outcome.usage.cached_input_tokens == 100


async def test_openai_structured_output_params_reach_the_wire(fakes, make_router):
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    router = make_router(["openai"])
    await router.complete(LLMRequest(purpose="completion", messages=[{"role": "user", "content": "q"}],
                                     params={"response_format": schema, "top_k": 5}))
    sent = fakes["openai"].calls[0].json()
    assert sent["response_format"] == schema
    assert sent["top_k"] == 5  # unknown to the SDK: sent through extra_body for compatible servers
    assert json.dumps(sent["stream_options"]) == '{"include_usage": true}'
