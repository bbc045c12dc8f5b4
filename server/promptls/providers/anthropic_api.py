"""Anthropic Messages API over the official `anthropic` SDK: streaming, tool use, count_tokens, prompt caching.

`cache_control` blocks pass through untouched (in `messages` content lists, or a native `system` block list in
`params`). The terminal event is `message_stop`; usage is cumulative in `message_delta`. Without a
`message_delta` usage the output count is unknown (message_start says 1): `Done(usage=None)`, and the router
settles with counted tokens.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from promptls.providers.base import (
    ChatRequest,
    Done,
    Opened,
    Probe,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
    missing_terminal,
    with_sampling,
)
from promptls.providers.classify import classify_exception
from promptls.providers.errors import ProviderError
from promptls.providers.sdk_client import SDKProvider, fit_kwargs

DEFAULT_MAX_TOKENS = 1024


class AnthropicProvider(SDKProvider):
    kind = "anthropic"
    signals_open = True
    default_key_env = "ANTHROPIC_API_KEY"
    sdk_module = "anthropic"
    sdk_requirement = "anthropic>=2.10.0"

    def _make_client(self, key: str | None) -> Any:
        # The SDK loads on the first call: the server and the CLI start without it.
        import anthropic

        kwargs: dict[str, Any] = {"api_key": key, "max_retries": 0, "timeout": self.timeout_s()}
        if self.settings.base_url:
            kwargs["base_url"] = self.settings.base_url
        return anthropic.AsyncAnthropic(**kwargs)

    def _kwargs(self, req: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": req.model or self.model,
            "max_tokens": req.max_tokens or self.settings.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": req.chat_messages,
        }
        if (system := _system(req.messages)) is not None:
            kwargs["system"] = system
        return with_sampling(kwargs, req, self.settings.params)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:  # type: ignore[override]
        client = self.client()
        kwargs = self._kwargs(request)
        first = False
        try:
            kwargs = fit_kwargs(client.messages.create, kwargs, drop_unknown=("temperature", "top_p", "top_k"))
            if not request.stream:
                msg = await client.messages.create(**kwargs)
                for block in msg.content:
                    if block.type == "text" and block.text:
                        yield TextDelta(block.text)
                    elif block.type == "tool_use":
                        yield ToolCall(block.id, block.name, json.dumps(block.input))
                if msg.stop_reason is None:
                    raise missing_terminal(self.name, "stop_reason", after_first_token=False)
                yield Done(_finish(msg.stop_reason), _usage(msg.usage) if msg.usage is not None else None, msg.model)
                return

            stream = await client.messages.create(**kwargs, stream=True)
            yield Opened()
            usage: dict[str, int] = {}
            final_usage = False
            model = kwargs["model"]
            stop_reason: str | None = None
            stopped = False
            tools: dict[int, list[str]] = {}  # block index -> [id, name, json]
            try:
                async for event in stream:
                    etype = event.type
                    if etype == "content_block_delta":
                        delta = event.delta
                        if delta.type == "text_delta":
                            first = True
                            yield TextDelta(delta.text)
                        elif delta.type == "input_json_delta" and event.index in tools:
                            tools[event.index][2] += delta.partial_json
                    elif etype == "content_block_start":
                        block = event.content_block
                        if block.type == "tool_use":
                            tools[event.index] = [block.id, block.name, ""]
                    elif etype == "content_block_stop":
                        if event.index in tools:
                            tid, name, args = tools.pop(event.index)
                            first = True
                            yield ToolCall(tid, name, args or "{}")
                    elif etype == "message_start":
                        model = event.message.model or model
                        _merge_usage(usage, event.message.usage)
                    elif etype == "message_delta":
                        stop_reason = event.delta.stop_reason or stop_reason
                        if getattr(event, "usage", None) is not None:
                            final_usage = True
                            _merge_usage(usage, event.usage)
                    elif etype == "message_stop":
                        stopped = True
            finally:
                await stream.close()
            if not stopped:
                raise missing_terminal(self.name, "message_stop", after_first_token=first)
            yield Done(_finish(stop_reason or "end_turn"), _normalise(usage) if final_usage else None, model)
        except ProviderError:
            raise
        except Exception as exc:
            raise classify_exception(exc, provider=self.name, after_first_token=first) from exc

    async def count_tokens(self, request: ChatRequest) -> int:
        kwargs = self._kwargs(request)
        kwargs.pop("max_tokens", None)
        kwargs.pop("temperature", None)
        kwargs = {k: v for k, v in kwargs.items() if k in ("model", "messages", "system", "tools", "tool_choice")}
        try:
            client = self.client()
            result = await client.messages.count_tokens(**fit_kwargs(client.messages.count_tokens, kwargs))
        except Exception as exc:
            raise classify_exception(exc, provider=self.name) from exc
        return int(result.input_tokens)

    async def probe(self) -> Probe:
        async def call() -> str:
            page = await self.client().models.list(limit=20)
            ids = [m.id for m in page.data]
            return f"{len(ids)} models listed" + ("" if self.model in ids else f"; {self.model!r} not among them")

        return await self._timed_probe(call)


def _system(messages: list[dict[str, Any]]) -> str | list[dict[str, Any]] | None:
    """The system messages as Anthropic's top-level `system`: a string, or a block list when any system message
    is one (so that `cache_control` on a system block survives)."""
    parts = [m["content"] for m in messages if m.get("role") == "system"]
    if not parts:
        return None
    if all(isinstance(p, str) for p in parts):
        return "\n\n".join(parts)
    blocks: list[dict[str, Any]] = []
    for p in parts:
        blocks.extend([{"type": "text", "text": p}] if isinstance(p, str) else p)
    return blocks


_USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def _merge_usage(acc: dict[str, int], u: Any) -> None:
    """message_delta usage is cumulative: a later value replaces an earlier one."""
    if u is None:
        return
    for f in _USAGE_FIELDS:
        v = getattr(u, f, None)
        if v is not None:
            acc[f] = int(v)


def _normalise(u: dict[str, int]) -> Usage:
    read = u.get("cache_read_input_tokens", 0)
    write = u.get("cache_creation_input_tokens", 0)
    # Anthropic's input_tokens excludes cache reads and writes; ours is the whole prompt.
    return Usage(
        input_tokens=u.get("input_tokens", 0) + read + write,
        output_tokens=u.get("output_tokens", 0),
        cached_input_tokens=read,
        cache_write_tokens=write,
    )


def _usage(u: Any) -> Usage:
    acc: dict[str, int] = {}
    _merge_usage(acc, u)
    return _normalise(acc)


def _finish(reason: str) -> str:
    return {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "max_tokens"}.get(reason, reason)
