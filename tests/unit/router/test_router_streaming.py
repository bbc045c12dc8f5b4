"""Streaming through the router to each provider's real SDK over loopback: events, usage, outcome."""

from __future__ import annotations

import pytest

from promptls.providers import TextDelta, ToolCall
from promptls.router import LLMRequest, Outcome

KINDS = ("openai", "anthropic", "gemini", "ollama")


def ask(text: str = "hi", **kw) -> LLMRequest:
    return LLMRequest(purpose="completion", messages=[{"role": "user", "content": text}], **kw)


@pytest.mark.parametrize("kind", KINDS)
async def test_stream_yields_tokens_then_outcome(kind, fakes, make_router):
    router = make_router([kind])
    events = [ev async for ev in router.stream(ask())]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "".join(fakes[kind].default_tokens)
    assert isinstance(events[-1], Outcome)
    out = events[-1]
    assert (out.provider, out.kind, out.cached, out.attempts) == (kind, kind, False, 1)
    assert out.usage.output_tokens == len(fakes[kind].default_tokens)
    assert out.usage.input_tokens > 0
    assert len(fakes[kind].calls) == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_non_streaming_call(kind, fakes, make_router):
    router = make_router([kind])
    result = await router.complete(ask(stream=False))
    assert result.text == "".join(fakes[kind].default_tokens)
    body = fakes[kind].calls[0].json()
    if kind in ("openai", "anthropic"):
        assert not body.get("stream")
    if kind == "gemini":
        assert fakes[kind].calls[0].path.endswith(":generateContent")


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini"])
async def test_tool_call_is_assembled(kind, fakes, make_router):
    from tests.fakes.http import Fault

    fakes[kind].push(Fault(tool={"name": "lookup", "input": {"city": "Oslo", "days": 3}}))
    router = make_router([kind])
    result = await router.complete(ask(params={"tools": []} if kind == "openai" else {}))
    assert len(result.tool_calls) == 1
    call = result.tool_calls[0]
    assert isinstance(call, ToolCall)
    assert call.name == "lookup"
    import json

    assert json.loads(call.arguments) == {"city": "Oslo", "days": 3}
