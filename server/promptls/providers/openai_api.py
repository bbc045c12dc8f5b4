"""OpenAI Chat Completions over the official `openai` SDK; with `base_url`, any OpenAI-compatible server
(vLLM, TGI, llama.cpp server, LM Studio), whose error-body variants `classify` understands.

Streams with `stream_options.include_usage`. The terminal event is `data: [DONE]`, after the finish chunk and the
usage chunk. The SDK swallows `[DONE]` and ends the same way on a bare EOF, so a stream cut after the finish chunk
used to pass as complete (with no usage: 0 tokens, $0, never stopped by a budget). `_DoneWatch` wraps the SDK's
SSE decoder to see `[DONE]`; a stream without it is truncated. A server that ignores `include_usage` but ends
properly yields `Done(usage=None)`: the router settles it with counted tokens.
"""

from __future__ import annotations

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
    is_loopback_url,
    missing_terminal,
    with_sampling,
)
from promptls.providers.classify import classify_exception
from promptls.providers.errors import ProviderError
from promptls.providers.sdk_client import SDKProvider, fit_kwargs

OPENAI_URL = "https://api.openai.com/v1"


class _DoneWatch:
    """Wraps the SDK's SSE decoder and notes whether `data: [DONE]` went by."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seen = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def aiter_bytes(self, iterator: Any) -> AsyncIterator[Any]:
        async for sse in self.inner.aiter_bytes(iterator):
            if sse.data.startswith("[DONE]"):
                self.seen = True
            yield sse


def _watch_done(stream: Any) -> _DoneWatch | None:
    decoder = getattr(stream, "_decoder", None)
    if decoder is None or not hasattr(decoder, "aiter_bytes"):
        return None  # an SDK that changed its internals: fall back to the finish reason as the terminal event
    watch = _DoneWatch(decoder)
    stream._decoder = watch
    return watch


class OpenAIProvider(SDKProvider):
    kind = "openai"
    signals_open = True
    default_key_env = "OPENAI_API_KEY"
    sdk_module = "openai"
    sdk_requirement = "openai>=3.51.0"

    @property
    def needs_key(self) -> bool:  # type: ignore[override]
        # Self-hosted OpenAI-compatible servers usually take no key.
        return self.settings.base_url is None or "api.openai.com" in self.settings.base_url

    @property
    def is_remote(self) -> bool:
        if self.settings.remote is not None:
            return self.settings.remote
        return True

    def _make_client(self, key: str | None) -> Any:
        # The SDK loads on the first call: the server and the CLI start without it.
        import openai

        return openai.AsyncOpenAI(
            api_key=key or "no-key",  # the SDK refuses to start without one; local servers ignore it
            base_url=self.settings.base_url or OPENAI_URL,
            max_retries=0,
            timeout=self.timeout_s(),
        )

    def _kwargs(self, req: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": req.model or self.model, "messages": req.messages}
        max_tokens = req.max_tokens or self.settings.max_tokens
        if max_tokens:
            kwargs["max_tokens"] = max_tokens
        return with_sampling(kwargs, req, self.settings.params)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:  # type: ignore[override]
        client = self.client()
        kwargs = fit_kwargs(client.chat.completions.create, self._kwargs(request))
        first = False
        try:
            if not request.stream:
                resp = await client.chat.completions.create(**kwargs)
                choice = resp.choices[0] if resp.choices else None
                if choice is None or choice.finish_reason is None:
                    raise missing_terminal(self.name, "finish_reason", after_first_token=False)
                if choice.message.content:
                    yield TextDelta(choice.message.content)
                for tc in choice.message.tool_calls or []:
                    yield ToolCall(tc.id, tc.function.name, tc.function.arguments or "")
                yield Done(_finish(choice.finish_reason), _usage(resp.usage), resp.model or kwargs["model"])
                return

            stream = await client.chat.completions.create(
                **kwargs, stream=True, stream_options={"include_usage": True}
            )
            yield Opened()
            watch = _watch_done(stream)
            finish: str | None = None
            usage: Usage | None = None
            model = kwargs["model"]
            tools: dict[int, list[str]] = {}  # index -> [id, name, arguments]
            try:
                async for chunk in stream:
                    if chunk.model:
                        model = chunk.model
                    if chunk.usage is not None:
                        usage = _usage(chunk.usage)
                    for choice in chunk.choices or []:
                        delta = choice.delta
                        if delta is not None:
                            if delta.content:
                                first = True
                                yield TextDelta(delta.content)
                            for tc in delta.tool_calls or []:
                                slot = tools.setdefault(tc.index, ["", "", ""])
                                if tc.id:
                                    slot[0] = tc.id
                                if tc.function is not None:
                                    slot[1] += tc.function.name or ""
                                    slot[2] += tc.function.arguments or ""
                        if choice.finish_reason:
                            finish = choice.finish_reason
            finally:
                await stream.close()
            if finish is None:
                raise missing_terminal(self.name, "finish_reason / [DONE]", after_first_token=first)
            if watch is not None and not watch.seen:
                # Finished, but the usage chunk and [DONE] never came: cut off after the finish chunk.
                raise missing_terminal(self.name, "[DONE]", after_first_token=True)
            for _, (tid, name, args) in sorted(tools.items()):
                first = True
                yield ToolCall(tid, name, args)
            yield Done(_finish(finish), usage, model)
        except ProviderError:
            raise
        except Exception as exc:
            raise classify_exception(exc, provider=self.name, after_first_token=first) from exc

    async def count_tokens(self, request: ChatRequest) -> int:
        """`POST /v1/responses/input_tokens`: system messages as `instructions`, the rest as input items."""
        kwargs: dict[str, Any] = {
            "model": request.model or self.model,
            "input": [{"role": m["role"], "content": m["content"]} for m in request.chat_messages],
        }
        if (system := request.system_text) is not None:
            kwargs["instructions"] = system
        if request.params.get("tools"):
            kwargs["tools"] = request.params["tools"]
        try:
            client = self.client()
            result = await client.responses.input_tokens.count(**kwargs)
        except Exception as exc:
            raise classify_exception(exc, provider=self.name) from exc
        return int(result.input_tokens)

    async def probe(self) -> Probe:
        async def call() -> str:
            client = self.client()
            page = await client.models.list()
            ids = [m.id for m in page.data]
            where = "loopback" if is_loopback_url(self.settings.base_url) else (self.settings.base_url or OPENAI_URL)
            found = "model listed" if self.model in ids else f"model {self.model!r} not listed"
            return f"{len(ids)} models at {where}; {found}"

        return await self._timed_probe(call)


def _finish(reason: str) -> str:
    return {"length": "max_tokens", "tool_calls": "tool_use", "stop": "stop"}.get(reason, reason)


def _usage(u: Any) -> Usage | None:
    if u is None:
        return None
    details = getattr(u, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) or 0
    return Usage(
        input_tokens=u.prompt_tokens or 0,
        output_tokens=u.completion_tokens or 0,
        cached_input_tokens=cached,
    )
