"""Loopback fake of the Anthropic Messages API.

Wire format as the real API: SSE with named events (message_start, content_block_start, ping,
content_block_delta, content_block_stop, message_delta with cumulative usage, message_stop), `event: error`
frames, error bodies `{"type": "error", "error": {"type", "message"}, "request_id"}`, `request-id`,
`retry-after` and `anthropic-ratelimit-*` headers (RFC 3339 reset times), status 529 for overload.

Run alone: `python -m tests.fakes.anthropic_fake --port 0`.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from .http import FakeProvider, Fault, Request, StreamPlan, Writer, serve_main, sse

_ERRORS: dict[str, tuple[str, str]] = {
    "rate_limit": ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    "overloaded": ("overloaded_error", "Overloaded"),
    "server": ("api_error", "Internal server error"),
    "auth": ("authentication_error", "invalid x-api-key"),
    "not_found": ("not_found_error", "model: claude-nonexistent"),
    "overflow": ("invalid_request_error", "prompt is too long: 210432 tokens > 200000 maximum"),
    "spend": ("invalid_request_error", "Your credit balance is too low to access the Anthropic API."),
    "quota_day": ("rate_limit_error", "This request would exceed your organization's daily rate limit."),
    "filtered": ("invalid_request_error", "Output blocked by content filtering policy"),
    "bad_request": ("invalid_request_error", "temperature: range: 0..1"),
}


def _rfc3339(seconds_from_now: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds_from_now)).strftime("%Y-%m-%dT%H:%M:%SZ")


class AnthropicFake(FakeProvider):
    kind = "anthropic"

    def is_model_call(self, req: Request) -> bool:
        return req.method == "POST" and req.path == "/v1/messages"

    def wants_stream(self, req: Request) -> bool:
        return bool(req.json().get("stream"))

    def _input_tokens(self, body: dict[str, Any]) -> int:
        text = json.dumps(body.get("messages", [])) + json.dumps(body.get("system", ""))
        if body.get("tools"):
            text += json.dumps(body["tools"])
        return max(1, len(text) // 4)

    def is_count_call(self, req: Request) -> bool:
        return req.method == "POST" and req.path == "/v1/messages/count_tokens"

    def count_response(self, req: Request) -> Any:
        # POST /v1/messages/count_tokens answers {"input_tokens": N} (system, tools and images included).
        return {"input_tokens": self._input_tokens(req.json())}

    async def other(self, req: Request, w: Writer) -> None:
        if req.method == "GET" and req.path.startswith("/v1/models"):
            data = [{"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
                    for m in ("claude-haiku-4-5", "claude-sonnet-4-5")]
            await w.send_json(200, {"data": data, "has_more": False, "first_id": data[0]["id"],
                                    "last_id": data[-1]["id"]})
            return
        await super().other(req, w)

    def _headers(self) -> dict[str, str]:
        return {
            "request-id": f"req_{time.monotonic_ns():x}",
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "49",
            "anthropic-ratelimit-requests-reset": _rfc3339(1),
        }

    def _usage(self, body: dict[str, Any], out: int) -> dict[str, Any]:
        cached = 0
        # Prompt caching: a cache_control block anywhere makes the fake report the cached prefix as read.
        if "cache_control" in json.dumps(body.get("messages", [])) + json.dumps(body.get("system", "")):
            cached = 100
        return {"input_tokens": self._input_tokens(body), "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": cached, "output_tokens": out}

    def plan(self, req: Request, fault: Fault, tokens: list[str]) -> StreamPlan:
        body = req.json()
        model = body.get("model", "claude-haiku-4-5")
        usage = self._usage(body, 1)
        pre = [
            sse({"type": "message_start", "message": {
                "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
                "stop_reason": None, "stop_sequence": None, "usage": usage}}, "message_start"),
            sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                "content_block_start"),
            sse({"type": "ping"}, "ping"),
        ]
        toks = [sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}},
                    "content_block_delta") for t in tokens]
        term = [sse({"type": "content_block_stop", "index": 0}, "content_block_stop")]
        stop_reason = "end_turn"
        if fault.tool:
            stop_reason = "tool_use"
            args = json.dumps(fault.tool.get("input", {}))
            term += [
                sse({"type": "content_block_start", "index": 1, "content_block": {
                    "type": "tool_use", "id": "toolu_fake1", "name": fault.tool["name"], "input": {}}},
                    "content_block_start"),
                sse({"type": "content_block_delta", "index": 1,
                     "delta": {"type": "input_json_delta", "partial_json": args[: len(args) // 2]}},
                    "content_block_delta"),
                sse({"type": "content_block_delta", "index": 1,
                     "delta": {"type": "input_json_delta", "partial_json": args[len(args) // 2:]}},
                    "content_block_delta"),
                sse({"type": "content_block_stop", "index": 1}, "content_block_stop"),
            ]
        final_usage = {**usage, "output_tokens": len(tokens)}
        term += [
            sse({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                 **({} if fault.no_usage else {"usage": final_usage})}, "message_delta"),
            sse({"type": "message_stop"}, "message_stop"),
        ]
        headers = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", **self._headers()}
        return StreamPlan(200, headers, pre, toks, term)

    def full_response(self, req: Request, fault: Fault, tokens: list[str]) -> Any:
        body = req.json()
        content: list[dict[str, Any]] = [{"type": "text", "text": "".join(tokens)}]
        if fault.tool:
            content.append({"type": "tool_use", "id": "toolu_fake1", "name": fault.tool["name"],
                            "input": fault.tool.get("input", {})})
        return {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": body.get("model"),
            "content": content, "stop_reason": "tool_use" if fault.tool else "end_turn", "stop_sequence": None,
            "usage": self._usage(body, len(tokens)),
        }

    def error_response(self, status: int, error: str, fault: Fault) -> tuple[Any, dict[str, str]]:
        etype, message = _ERRORS.get(error, _ERRORS["server"])
        headers = {"request-id": "req_err", "x-should-retry": "true" if status >= 429 else "false"}
        if error == "rate_limit":
            headers |= {
                "anthropic-ratelimit-requests-limit": "50",
                "anthropic-ratelimit-requests-remaining": "0",
                "anthropic-ratelimit-requests-reset": _rfc3339(30),
            }
        return {"type": "error", "error": {"type": etype, "message": message}, "request_id": "req_err"}, headers

    def auth_echo_body(self, key: str) -> Any:
        return {"type": "error", "error": {"type": "authentication_error", "message": f"invalid x-api-key: {key}"},
                "request_id": "req_err"}

    def error_frame(self, error: str) -> bytes:
        etype, message = _ERRORS.get(error, _ERRORS["server"])
        return sse({"type": "error", "error": {"type": etype, "message": message}, "request_id": "req_err"}, "error")

    def malformed_frame(self) -> bytes:
        return b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"te\n\n'


if __name__ == "__main__":
    serve_main(AnthropicFake())
