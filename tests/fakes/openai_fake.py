"""Loopback fake of OpenAI Chat Completions (and OpenAI-compatible servers' error bodies).

Wire format as the real API: SSE `data: {chunk}` frames, a finish chunk, a usage chunk (choices: []) when
`stream_options.include_usage` is set, then `data: [DONE]`; `x-ratelimit-*` headers; error bodies
`{"error": {"message", "type", "param", "code"}}`. `flavor` switches error bodies to vLLM, TGI, llama.cpp
server or LM Studio shapes.

Run alone: `python -m tests.fakes.openai_fake --port 0`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from .http import FakeProvider, Fault, Request, StreamPlan, Writer, serve_main, sse

_ERRORS: dict[str, tuple[str, str | None, str]] = {
    # error -> (type, code, message)
    "rate_limit": (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, "
        "Requested 1. Please try again in 20s.",
    ),
    "overloaded": ("server_error", None, "The engine is currently overloaded, please try again later"),
    "server": ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    "auth": ("invalid_request_error", "invalid_api_key", "Incorrect API key provided: sk-test***. You can find your "
             "API key at https://platform.openai.com/account/api-keys."),
    "not_found": ("invalid_request_error", "model_not_found",
                  "The model `gpt-9` does not exist or you do not have access to it."),
    "overflow": ("invalid_request_error", "context_length_exceeded",
                 "This model's maximum context length is 128000 tokens. However, your messages resulted in 130046 "
                 "tokens. Please reduce the length of the messages."),
    "spend": ("insufficient_quota", "insufficient_quota",
              "You exceeded your current quota, please check your plan and billing details."),
    "quota_day": ("requests", "rate_limit_exceeded", "Rate limit reached for requests per day (RPD)."),
    "filtered": ("invalid_request_error", "content_filter",
                 "The response was filtered due to the prompt triggering content management policy."),
    "bad_request": ("invalid_request_error", None, "Invalid value for 'temperature': must be <= 2."),
}


class OpenAIFake(FakeProvider):
    kind = "openai"

    def __init__(self, flavor: str = "openai") -> None:
        super().__init__()
        self.flavor = flavor  # openai | vllm | tgi | llamacpp | lmstudio

    def is_model_call(self, req: Request) -> bool:
        return req.method == "POST" and req.path.endswith("/chat/completions")

    def wants_stream(self, req: Request) -> bool:
        return bool(req.json().get("stream"))

    def is_count_call(self, req: Request) -> bool:
        return req.method == "POST" and req.path.endswith("/responses/input_tokens")

    def count_response(self, req: Request) -> Any:
        # POST /v1/responses/input_tokens answers {"object": "response.input_tokens", "input_tokens": N}.
        body = req.json()
        text = json.dumps(body.get("input", "")) + json.dumps(body.get("instructions") or "")
        if body.get("tools"):
            text += json.dumps(body["tools"])
        return {"object": "response.input_tokens", "input_tokens": max(1, len(text) // 4)}

    async def other(self, req: Request, w: Writer) -> None:
        if req.method == "GET" and req.path.endswith("/models"):
            await w.send_json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"}
                for m in ("gpt-4o-mini", "gpt-4o", "fake-model")
            ]})
            return
        await super().other(req, w)

    def _headers(self) -> dict[str, str]:
        return {
            "x-request-id": f"req_{time.monotonic_ns():x}",
            "openai-processing-ms": "12",
            "x-ratelimit-limit-requests": "10000",
            "x-ratelimit-remaining-requests": "9999",
            "x-ratelimit-reset-requests": "6ms",
            "x-ratelimit-limit-tokens": "200000",
            "x-ratelimit-remaining-tokens": "199000",
            "x-ratelimit-reset-tokens": "300ms",
        }

    def _chunk(self, model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    def _usage(self, req: dict[str, Any], n_out: int) -> dict[str, Any]:
        prompt = sum(len(str(m.get("content", ""))) for m in req.get("messages", [])) // 4 + 8
        return {
            "prompt_tokens": prompt,
            "completion_tokens": n_out,
            "total_tokens": prompt + n_out,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        }

    def plan(self, req: Request, fault: Fault, tokens: list[str]) -> StreamPlan:
        body = req.json()
        model = body.get("model", "gpt-4o-mini")
        pre = [sse(self._chunk(model, {"role": "assistant", "content": "", "refusal": None}))]
        toks = [sse(self._chunk(model, {"content": t})) for t in tokens]
        finish = "stop"
        if fault.tool:
            finish = "tool_calls"
            toks.append(sse(self._chunk(model, {"tool_calls": [{
                "index": 0, "id": "call_fake1", "type": "function",
                "function": {"name": fault.tool["name"], "arguments": ""}}]})))
            import json as _json
            args = _json.dumps(fault.tool.get("input", {}))
            half = len(args) // 2
            for part in (args[:half], args[half:]):
                toks.append(sse(self._chunk(model, {"tool_calls": [{"index": 0, "function": {"arguments": part}}]})))
        term = [sse(self._chunk(model, {}, finish))]
        if (body.get("stream_options") or {}).get("include_usage") and not fault.no_usage:
            usage = {**self._chunk(model, {}), "choices": [], "usage": self._usage(body, len(tokens))}
            term.append(sse(usage))
        term.append(b"data: [DONE]\n\n")
        return StreamPlan(200, {"content-type": "text/event-stream; charset=utf-8", **self._headers()}, pre, toks, term)

    def full_response(self, req: Request, fault: Fault, tokens: list[str]) -> Any:
        body = req.json()
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1700000000,
            "model": body.get("model", "gpt-4o-mini"),
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": "".join(tokens), "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }],
            **({} if fault.no_usage else {"usage": self._usage(body, len(tokens))}),
        }

    def error_response(self, status: int, error: str, fault: Fault) -> tuple[Any, dict[str, str]]:
        etype, code, message = _ERRORS.get(error, _ERRORS["server"])
        headers = {"x-request-id": "req_err"}
        if error == "rate_limit":
            headers |= {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s"}
        if self.flavor == "vllm":
            return {"object": "error", "message": message, "type": "BadRequestError", "param": None,
                    "code": status}, headers
        if self.flavor == "tgi":
            if error == "overflow":
                message = ("Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. "
                           "Given: 4000 `inputs` tokens and 200 `max_new_tokens`")
            return {"error": message, "error_type": "validation" if status < 500 else "generation"}, headers
        if self.flavor == "llamacpp":
            if error == "overflow":
                return {"error": {"code": 400, "message": "the request exceeds the available context size, try "
                                  "increasing it", "type": "exceed_context_size_error", "n_prompt_tokens": 5000,
                                  "n_ctx": 4096}}, headers
            return {"error": {"code": status, "message": message, "type": etype}}, headers
        if self.flavor == "lmstudio":
            if error == "overflow":
                message = ("Trying to keep the first 5000 tokens when context the overflows. However, the model is "
                           "loaded with context length of only 4096 tokens, which is not enough.")
            return {"error": message}, headers
        return {"error": {"message": message, "type": etype, "param": None, "code": code}}, headers

    def error_frame(self, error: str) -> bytes:
        etype, code, message = _ERRORS.get(error, _ERRORS["server"])
        return sse({"error": {"message": message, "type": etype, "param": None, "code": code}})

    def malformed_frame(self) -> bytes:
        return b'data: {"id":"chatcmpl-fake","choices":[{"index":0,"delta":{"content":"oo\n\n'


if __name__ == "__main__":
    serve_main(OpenAIFake())
