"""Loopback fake of the Ollama HTTP API.

Wire format as the real server: `POST /api/chat` and `POST /api/generate` stream NDJSON
(`application/x-ndjson`), one object per line, the last with `done: true`, `done_reason` and eval counts;
errors are `{"error": "..."}` bodies (or lines, inside a stream); `GET /api/tags`, `GET /api/version`.

Run alone: `python -m tests.fakes.ollama_fake --port 0`.
"""

from __future__ import annotations

import json
from typing import Any

from .http import FakeProvider, Fault, Request, StreamPlan, Writer, serve_main

_ERRORS = {
    "rate_limit": "too many requests",
    "overloaded": "server busy, please try again.  maximum pending requests exceeded",
    "server": "llama runner process has terminated: signal: killed",
    "auth": "unauthorized",
    "not_found": 'model "nonexistent" not found, try pulling it first',
    "overflow": "the input length exceeds the context length",
    "bad_request": "invalid options: temperature",
    "filtered": "content_filter",
}

_CREATED = "2025-01-01T00:00:00.000000000Z"


def _line(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


class OllamaFake(FakeProvider):
    kind = "ollama"
    models = ("qwen2.5-coder:1.5b", "llama3.2:latest")

    def is_model_call(self, req: Request) -> bool:
        return req.method == "POST" and req.path in ("/api/chat", "/api/generate")

    def wants_stream(self, req: Request) -> bool:
        return req.json().get("stream", True) is not False

    async def other(self, req: Request, w: Writer) -> None:
        if req.path == "/api/tags":
            await w.send_json(200, {"models": [
                {"name": m, "model": m, "modified_at": _CREATED, "size": 986061892, "digest": "0" * 64,
                 "details": {"format": "gguf", "family": "qwen2", "parameter_size": "1.5B",
                             "quantization_level": "Q4_K_M"}} for m in self.models]})
            return
        if req.path == "/api/version":
            await w.send_json(200, {"version": "0.12.0"})
            return
        await super().other(req, w)

    def _final(self, req: Request, body: dict[str, Any], n: int, done_reason: str = "stop") -> dict[str, Any]:
        prompt = max(1, len(json.dumps(body.get("messages") or body.get("prompt") or "")) // 4)
        obj: dict[str, Any] = {"model": body.get("model"), "created_at": _CREATED}
        if req.path == "/api/chat":
            obj["message"] = {"role": "assistant", "content": ""}
        else:
            obj["response"] = ""
        return obj | {"done": True, "done_reason": done_reason, "total_duration": 5_000_000,
                      "load_duration": 1_000_000, "prompt_eval_count": prompt, "prompt_eval_duration": 1_000_000,
                      "eval_count": n, "eval_duration": 2_000_000}

    def _token(self, req: Request, model: str, text: str) -> dict[str, Any]:
        if req.path == "/api/chat":
            return {"model": model, "created_at": _CREATED, "message": {"role": "assistant", "content": text},
                    "done": False}
        return {"model": model, "created_at": _CREATED, "response": text, "done": False}

    def plan(self, req: Request, fault: Fault, tokens: list[str]) -> StreamPlan:
        body = req.json()
        model = body.get("model", "")
        toks = [_line(self._token(req, model, t)) for t in tokens]
        return StreamPlan(200, {"content-type": "application/x-ndjson"}, [], toks,
                          [_line(self._final(req, body, len(tokens)))])

    def full_response(self, req: Request, fault: Fault, tokens: list[str]) -> Any:
        body = req.json()
        final = self._final(req, body, len(tokens))
        if req.path == "/api/chat":
            final["message"]["content"] = "".join(tokens)
        else:
            final["response"] = "".join(tokens)
        return final

    def error_response(self, status: int, error: str, fault: Fault) -> tuple[Any, dict[str, str]]:
        return {"error": _ERRORS.get(error, _ERRORS["server"])}, {"content-type": "application/json; charset=utf-8"}

    def error_frame(self, error: str) -> bytes:
        return _line({"error": _ERRORS.get(error, _ERRORS["server"])})

    def malformed_frame(self) -> bytes:
        return b'{"model":"x","created_at":"' + _CREATED.encode() + b'","message":{"role":"assistant","content":"oo\n'


if __name__ == "__main__":
    serve_main(OllamaFake())
