"""Gemini over the official `google-genai` SDK: streaming (SSE), count_tokens, function calls.

The SDK's own retries stay off (no `retry_options`: a single attempt). The terminal marker is a candidate's
`finishReason`; SAFETY-like finish reasons and a blocked prompt are content-filter errors, not answers.
`RetryInfo` and per-day `QuotaFailure` details in error bodies are read by `classify`. Gemini's stream has no
end marker after the finishReason chunk (which carries the final usageMetadata); a finish without an output
count is `Done(usage=None)`, settled by the router with counted tokens.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

from promptls.providers.base import (
    ChatRequest,
    Done,
    Probe,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
    missing_terminal,
    with_sampling,
)
from promptls.providers.classify import classify_exception
from promptls.providers.errors import ErrorKind, ProviderError
from promptls.providers.sdk_client import SDKProvider

_FILTERED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}


class GeminiProvider(SDKProvider):
    kind = "gemini"
    default_key_env = "GEMINI_API_KEY"
    sdk_module = "google.genai"
    sdk_requirement = "google-genai>=3.3.0"

    def api_key(self) -> str | None:
        key = super().api_key()
        if key is None and self.settings.api_key_env is None:
            key = os.environ.get("GOOGLE_API_KEY") or None  # the SDK's other conventional name
        return key

    def _make_client(self, key: str | None) -> Any:
        # The SDK loads on the first call: the server and the CLI start without it.
        from google import genai
        from google.genai import types

        opts: dict[str, Any] = {"timeout": int(self.timeout_s() * 1000)}
        if self.settings.base_url:
            opts["base_url"] = self.settings.base_url
        return genai.Client(api_key=key, http_options=types.HttpOptions(**opts))

    async def _close_client(self, client: Any) -> None:
        await client.aio.aclose()

    def _request(self, req: ChatRequest) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
        contents = []
        for m in req.chat_messages:
            role = "model" if m["role"] == "assistant" else "user"
            content = m["content"]
            parts = [{"text": content}] if isinstance(content, str) else content
            contents.append({"role": role, "parts": parts})
        config: dict[str, Any] = {}
        if (system := req.system_text) is not None:
            config["system_instruction"] = system
        max_tokens = req.max_tokens or self.settings.max_tokens
        if max_tokens:
            config["max_output_tokens"] = max_tokens
        return req.model or self.model, contents, with_sampling(config, req, self.settings.params)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:  # type: ignore[override]
        client = self.client()
        model, contents, config = self._request(request)
        first = False
        try:
            if not request.stream:
                resp = await client.aio.models.generate_content(model=model, contents=contents, config=config)
                chunks = [resp]
            else:
                chunks = await client.aio.models.generate_content_stream(
                    model=model, contents=contents, config=config
                )
            finish: str | None = None
            usage: Usage | None = None
            version = model
            try:
                async for chunk in _aiter(chunks):
                    feedback = getattr(chunk, "prompt_feedback", None)
                    if feedback is not None and getattr(feedback, "block_reason", None):
                        raise ProviderError(
                            ErrorKind.CONTENT_FILTERED,
                            f"prompt blocked: {_name(feedback.block_reason)}",
                            provider=self.name,
                            after_first_token=first,
                        )
                    if chunk.usage_metadata is not None:
                        usage = _usage(chunk.usage_metadata, usage)
                    version = chunk.model_version or version
                    for cand in (chunk.candidates or [])[:1]:
                        for part in (cand.content.parts if cand.content and cand.content.parts else []):
                            if part.text and not part.thought:
                                first = True
                                yield TextDelta(part.text)
                            elif part.function_call is not None:
                                first = True
                                fc = part.function_call
                                yield ToolCall(fc.id or fc.name or "", fc.name or "", json.dumps(fc.args or {}))
                        if cand.finish_reason is not None:
                            finish = _name(cand.finish_reason)
            finally:
                if hasattr(chunks, "aclose"):
                    await chunks.aclose()
            if finish is None:
                raise missing_terminal(self.name, "finishReason", after_first_token=first)
            if finish in _FILTERED:
                raise ProviderError(
                    ErrorKind.CONTENT_FILTERED, f"answer stopped: {finish}", provider=self.name,
                    after_first_token=first,
                )
            yield Done(_finish(finish), usage, version)
        except ProviderError:
            raise
        except Exception as exc:
            raise classify_exception(exc, provider=self.name, after_first_token=first) from exc

    async def count_tokens(self, request: ChatRequest) -> int:
        model, contents, _ = self._request(request)
        if (system := request.system_text) is not None:
            # The Developer API's countTokens takes no system_instruction (the SDK refuses it): the system text
            # goes in as a leading user turn, which counts its tokens the same way.
            contents = [{"role": "user", "parts": [{"text": system}]}, *contents]
        try:
            result = await self.client().aio.models.count_tokens(model=model, contents=contents)
        except Exception as exc:
            raise classify_exception(exc, provider=self.name) from exc
        return int(result.total_tokens or 0)

    async def probe(self) -> Probe:
        async def call() -> str:
            m = await self.client().aio.models.get(model=self.model)
            return f"model {m.name} available (input limit {m.input_token_limit})"

        return await self._timed_probe(call)


async def _aiter(chunks: Any) -> AsyncIterator[Any]:
    if isinstance(chunks, list):
        for c in chunks:
            yield c
    else:
        async for c in chunks:
            yield c


def _name(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def _finish(reason: str) -> str:
    return {"STOP": "stop", "MAX_TOKENS": "max_tokens"}.get(reason, reason.lower())


def _usage(u: Any, previous: Usage | None) -> Usage | None:
    if u.candidates_token_count is None and u.thoughts_token_count is None:
        return previous  # a progress chunk with the prompt count only; the final chunk carries the output count
    return Usage(
        input_tokens=u.prompt_token_count or 0,
        output_tokens=(u.candidates_token_count or 0) + (u.thoughts_token_count or 0),
        cached_input_tokens=u.cached_content_token_count or 0,
    )
