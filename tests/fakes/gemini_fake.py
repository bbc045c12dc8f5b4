"""Loopback fake of the Gemini API (generativelanguage v1beta).

Wire format as the real API: `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` answers SSE
`data: {GenerateContentResponse}` frames separated by CRLF CRLF, the last candidate carrying `finishReason`;
`:generateContent`, `:countTokens`, `GET /v1beta/models/{model}`. Errors are google.rpc.Status bodies
`{"error": {"code", "message", "status", "details"}}` with `RetryInfo` and `QuotaFailure` details; an error
inside a stream is a `data: {"error": ...}` frame.

Run alone: `python -m tests.fakes.gemini_fake --port 0`.
"""

from __future__ import annotations

import json
from typing import Any

from .http import FakeProvider, Fault, Request, StreamPlan, Writer, serve_main, sse

_ERRORS: dict[str, tuple[int, str, str]] = {
    "rate_limit": (429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing "
                   "details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/"
                   "rate-limits."),
    "quota_day": (429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing "
                  "details."),
    "overloaded": (503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
    "server": (500, "INTERNAL", "An internal error has occurred. Please retry or report in "
               "https://developers.generativeai.google/guide/troubleshooting"),
    "auth": (400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."),
    "not_found": (404, "NOT_FOUND", "models/gemini-9 is not found for API version v1beta, or is not supported for "
                  "generateContent."),
    "overflow": (400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens "
                 "allowed (1048576)."),
    "filtered": (400, "INVALID_ARGUMENT", "Request blocked by safety settings."),
    "bad_request": (400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unknown name \"foo\"."),
    "spend": (429, "RESOURCE_EXHAUSTED", "Your prepayment credits are depleted: spend limit reached."),
}


class GeminiFake(FakeProvider):
    kind = "gemini"
    #: Seconds announced in RetryInfo for 429s.
    retry_delay = "2s"

    def _model(self, req: Request) -> tuple[str, str]:
        tail = req.path.rsplit("/models/", 1)[-1]
        model, _, method = tail.partition(":")
        return model, method

    def is_model_call(self, req: Request) -> bool:
        return req.method == "POST" and self._model(req)[1] in ("generateContent", "streamGenerateContent")

    def wants_stream(self, req: Request) -> bool:
        return self._model(req)[1] == "streamGenerateContent"

    def _prompt_tokens(self, body: dict[str, Any]) -> int:
        return max(1, len(json.dumps(body.get("contents", []))) // 4)

    def is_count_call(self, req: Request) -> bool:
        return req.method == "POST" and self._model(req)[1] == "countTokens"

    def count_response(self, req: Request) -> Any:
        # models/{model}:countTokens answers CountTokensResponse: totalTokens and per-modality details.
        n = self._prompt_tokens(req.json())
        return {"totalTokens": n, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": n}]}

    async def other(self, req: Request, w: Writer) -> None:
        model = self._model(req)[0]
        if req.method == "GET" and "/models/" in req.path:
            await w.send_json(200, {
                "name": f"models/{model}", "version": "001", "displayName": model,
                "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            })
            return
        await super().other(req, w)

    def _chunk(self, model: str, parts: list[dict[str, Any]], usage: dict[str, Any], finish: str | None = None):
        cand: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish:
            cand["finishReason"] = finish
        return {"candidates": [cand], "usageMetadata": usage, "modelVersion": model, "responseId": "fake-resp"}

    def plan(self, req: Request, fault: Fault, tokens: list[str]) -> StreamPlan:
        body = req.json()
        model = self._model(req)[0]
        prompt = self._prompt_tokens(body)
        usage = {"promptTokenCount": prompt, "totalTokenCount": prompt}
        crlf = b"\r\n\r\n"
        toks = [sse(self._chunk(model, [{"text": t}], usage), sep=crlf) for t in tokens]
        final_usage = {"promptTokenCount": prompt, "candidatesTokenCount": len(tokens),
                       "totalTokenCount": prompt + len(tokens)}
        if fault.no_usage:
            final_usage = usage
        parts: list[dict[str, Any]] = [{"text": ""}]
        if fault.tool:
            parts = [{"functionCall": {"name": fault.tool["name"], "args": fault.tool.get("input", {})}}]
        term = [sse(self._chunk(model, parts, final_usage, "STOP"), sep=crlf)]
        return StreamPlan(200, {"content-type": "text/event-stream", "server": "scaffolding on HTTPServer2"},
                          [], toks, term)

    def full_response(self, req: Request, fault: Fault, tokens: list[str]) -> Any:
        body = req.json()
        model = self._model(req)[0]
        prompt = self._prompt_tokens(body)
        return self._chunk(model, [{"text": "".join(tokens)}], {
            "promptTokenCount": prompt, "candidatesTokenCount": len(tokens), "totalTokenCount": prompt + len(tokens)
        }, "STOP")

    def _status(self, error: str, code: int | None = None) -> dict[str, Any]:
        default_code, status, message = _ERRORS.get(error, _ERRORS["server"])
        err: dict[str, Any] = {"code": code or default_code, "message": message, "status": status}
        if error == "rate_limit":
            err["details"] = [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"}, "quotaValue": "10"}]},
                {"@type": "type.googleapis.com/google.rpc.Help", "links": [{
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": self.retry_delay},
            ]
        elif error == "quota_day":
            err["details"] = [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier", "quotaValue": "250"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "50s"},
            ]
        elif error == "auth":
            err["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                               "domain": "googleapis.com",
                               "metadata": {"service": "generativelanguage.googleapis.com"}}]
        return {"error": err}

    def error_response(self, status: int, error: str, fault: Fault) -> tuple[Any, dict[str, str]]:
        return self._status(error, status), {"content-type": "application/json; charset=UTF-8"}

    def error_frame(self, error: str) -> bytes:
        return sse(self._status(error), sep=b"\r\n\r\n")

    def malformed_frame(self) -> bytes:
        return b'data: {"candidates": [{"content": {"parts": [{"text": "oo\r\n\r\n'


if __name__ == "__main__":
    serve_main(GeminiFake())
