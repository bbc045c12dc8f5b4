"""Ollama over the official `ollama` client: chat, and generate with `suffix` for fill-in-the-middle.

Default host `http://127.0.0.1:11434`. NDJSON streams end with a `done: true` object; a stream that stops
before it is truncated. Ollama needs no key; it counts as local unless its host is not a loopback address.
"""

from __future__ import annotations

import json
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
    is_loopback_url,
    missing_terminal,
)
from promptls.providers.classify import classify_exception
from promptls.providers.errors import ErrorKind, ProviderError
from promptls.providers.sdk_client import SDKProvider

DEFAULT_HOST = "http://127.0.0.1:11434"


class OllamaProvider(SDKProvider):
    kind = "ollama"
    needs_key = False
    default_base_url = DEFAULT_HOST
    default_key_env = "OLLAMA_API_KEY"  # only for hosted Ollama; optional
    sdk_module = "ollama"
    sdk_requirement = "ollama>=0.6.3"

    @property
    def is_remote(self) -> bool:
        if self.settings.remote is not None:
            return self.settings.remote
        return not is_loopback_url(self.base_url)

    def _make_client(self, key: str | None) -> Any:
        # The SDK loads on the first call: the server and the CLI start without it.
        import ollama

        headers = {"authorization": f"Bearer {key}"} if key else None
        return ollama.AsyncClient(host=self.base_url, timeout=self.timeout_s(), headers=headers)

    async def _close_client(self, client: Any) -> None:
        await client._client.aclose()  # ollama.AsyncClient exposes no close(); its httpx client is `_client`

    def _options(self, req: ChatRequest) -> dict[str, Any]:
        params = {**self.settings.params, **req.params}
        options = dict(params.pop("options", {}) or {})
        max_tokens = req.max_tokens or self.settings.max_tokens
        if max_tokens:
            options["num_predict"] = max_tokens
        if req.temperature is not None:
            options["temperature"] = req.temperature
        return {"options": options or None, **params}

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:  # type: ignore[override]
        client = self.client()
        model = request.model or self.model
        extra = self._options(request)
        first = False
        try:
            if request.suffix is not None:
                prompt = "\n\n".join(
                    m["content"] for m in request.chat_messages if m["role"] == "user" and isinstance(m["content"], str)
                )
                parts = await client.generate(
                    model=model, prompt=prompt, suffix=request.suffix, system=request.system_text,
                    stream=request.stream, **extra,
                )
            else:
                parts = await client.chat(model=model, messages=request.messages, stream=request.stream, **extra)
            done: Any = None
            try:
                async for part in _aiter(parts):
                    text = part.response if request.suffix is not None else (part.message.content or "")
                    if text:
                        first = True
                        yield TextDelta(text)
                    message = getattr(part, "message", None)
                    for i, tc in enumerate(getattr(message, "tool_calls", None) or []):
                        first = True
                        yield ToolCall(f"call_{i}", tc.function.name, json.dumps(dict(tc.function.arguments)))
                    if part.done:
                        done = part
            finally:
                if hasattr(parts, "aclose"):
                    await parts.aclose()
            if done is None:
                raise missing_terminal(self.name, "done: true", after_first_token=first)
            usage = None if done.eval_count is None else Usage(
                input_tokens=done.prompt_eval_count or 0, output_tokens=done.eval_count
            )
            yield Done(_finish(done.done_reason), usage, done.model or model)
        except ProviderError:
            raise
        except ConnectionError as exc:
            # ollama raises the builtin ConnectionError (cause suppressed) when nothing listens on the host.
            raise ProviderError(
                ErrorKind.CONNECTION, str(exc), provider=self.name, retryable=False, after_first_token=first
            ) from exc
        except Exception as exc:
            raise classify_exception(exc, provider=self.name, after_first_token=first) from exc

    async def probe(self) -> Probe:
        async def call() -> str:
            listed = await self.client().list()
            names = [m.model for m in listed.models]
            found = any(n == self.model or n.split(":")[0] == self.model for n in names)
            return f"{len(names)} models pulled" + ("" if found else f"; {self.model!r} is not (ollama pull it)")

        return await self._timed_probe(call)


async def _aiter(parts: Any) -> AsyncIterator[Any]:
    if hasattr(parts, "__aiter__"):
        async for p in parts:
            yield p
    else:
        yield parts


def _finish(reason: str | None) -> str:
    return {"stop": "stop", "length": "max_tokens"}.get(reason or "stop", reason or "stop")
