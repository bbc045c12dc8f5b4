"""Map HTTP statuses, error bodies and transport exceptions onto the one error taxonomy.

Shared by every provider module: each SDK raises its own classes, but underneath they all carry a status code,
an error body and response headers, or wrap an httpx/httpx2 transport exception. Transport exceptions are
recognised by class name so that neither httpx nor httpx2 has to be imported here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from promptls.providers.errors import ErrorKind, ProviderError
from promptls.providers.retry_hints import google_quota_ids, retry_after_from_google_details, retry_after_from_headers

# Substrings (lower-case) that mark a context-window overflow in the error bodies of OpenAI, Anthropic, Gemini,
# vLLM, TGI, llama.cpp server, LM Studio and Ollama.
_OVERFLOW = (
    "context_length_exceeded",
    "maximum context length",
    "prompt is too long",
    "exceed_context_size",
    "exceeds the available context size",
    "context window",
    "input is too long",
    "input validation error: `inputs` tokens + `max_new_tokens`",
    "exceeds the maximum number of tokens",
    "too many tokens",
    "reduce the length of the messages",
    "context size",
    "context length",
)
_FILTERED = ("content_filter", "content_policy_violation", "content management policy", "responsible ai", "safety")
_SPEND = (
    "insufficient_quota",
    "credit balance is too low",
    "spend_limit",
    "spend limit",
)
_OVERLOADED = ("overloaded", "capacity", "unavailable")


def body_text(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, (bytes, bytearray)):
        return body.decode("utf-8", "replace")
    if isinstance(body, str):
        return body
    try:
        return json.dumps(body, default=str)
    except (TypeError, ValueError):
        return str(body)


def body_message(body: Any) -> str:
    """The human message of an error body in any of the common shapes, else the whole body (shortened)."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return body[:300]
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, str):
            return err[:300]
        if isinstance(err, Mapping) and isinstance(err.get("message"), str):
            return err["message"][:300]
        if isinstance(body.get("message"), str):
            return body["message"][:300]
    return body_text(body)[:300]


def classify_status(
    status: int,
    body: Any,
    headers: Mapping[str, str] | None,
    *,
    provider: str,
    after_first_token: bool = False,
) -> ProviderError:
    """Classify an HTTP error response (or an error event carried inside a stream, with its status)."""
    text = body_text(body).lower()
    message = body_message(body) or f"HTTP {status}"
    hint = retry_after_from_headers(headers) if headers else None
    if hint is None:
        hint = retry_after_from_google_details(body)

    def err(kind: ErrorKind, **kw: Any) -> ProviderError:
        return ProviderError(
            kind,
            message,
            provider=provider,
            status=status or None,
            retry_after_s=hint,
            after_first_token=after_first_token,
            **kw,
        )

    if any(s in text for s in _OVERFLOW) or status == 413:
        return err(ErrorKind.CONTEXT_OVERFLOW)
    if status == 429 and "resource_exhausted" in text:
        # Gemini says "You exceeded your current quota" for per-minute limits too; only a QuotaFailure naming a
        # per-day quota means "come back tomorrow".
        if any("perday" in q.lower() for q in google_quota_ids(body)):
            return err(ErrorKind.QUOTA_EXHAUSTED)
        if any(s in text for s in _SPEND) or "credits are depleted" in text:
            return err(ErrorKind.SPEND_LIMIT)
        return err(ErrorKind.RATE_LIMITED)
    if status == 402 or any(s in text for s in _SPEND):
        return err(ErrorKind.SPEND_LIMIT)
    if status == 429:
        if "per day" in text or "daily" in text or "(rpd)" in text:
            return err(ErrorKind.QUOTA_EXHAUSTED)
        return err(ErrorKind.RATE_LIMITED)
    if status in (401, 403) or any(s in text for s in ("authentication_error", "permission_error", "api_key_invalid")):
        return err(ErrorKind.AUTH)
    if status == 404 or "not_found_error" in text:
        return err(ErrorKind.NOT_FOUND)
    if status == 408 or status == 504:
        return err(ErrorKind.TIMEOUT)
    if status == 529 or status == 503 or "overloaded_error" in text:
        return err(ErrorKind.OVERLOADED)
    if "rate_limit_error" in text:
        return err(ErrorKind.RATE_LIMITED)
    if status >= 500 or "api_error" in text:
        return err(ErrorKind.SERVER_ERROR)
    if any(s in text for s in _FILTERED):
        return err(ErrorKind.CONTENT_FILTERED)
    if status == 0 and any(s in text for s in _OVERLOADED):
        return err(ErrorKind.OVERLOADED)
    if 400 <= status < 500:
        return err(ErrorKind.BAD_REQUEST)
    return err(ErrorKind.SERVER_ERROR)


_CONNECT_NAMES = {"ConnectError", "ConnectionRefusedError", "ClientConnectorError"}
_TIMEOUT_NAMES = {"ReadTimeout", "ConnectTimeout", "WriteTimeout", "PoolTimeout", "TimeoutException", "TimeoutError"}
_BROKEN_NAMES = {
    "RemoteProtocolError",
    "ReadError",
    "WriteError",
    "ConnectionResetError",
    "BrokenPipeError",
    "IncompleteRead",
    "ServerDisconnectedError",
    "LocalProtocolError",
}


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen and len(seen) < 8:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def classify_transport(
    exc: BaseException, *, provider: str, after_first_token: bool = False
) -> ProviderError | None:
    """Classify a transport failure (refused, timed out, reset, malformed stream) or return None."""
    for e in _chain(exc):
        names = {c.__name__ for c in type(e).__mro__}
        if names & _CONNECT_NAMES:
            # Refused: the host is down, retrying it within milliseconds will not help; fail over at once.
            return ProviderError(
                ErrorKind.CONNECTION,
                f"connection failed: {e}",
                provider=provider,
                retryable=False,
                after_first_token=after_first_token,
            )
        if names & _TIMEOUT_NAMES:
            return ProviderError(
                ErrorKind.TIMEOUT, f"timed out: {type(e).__name__}", provider=provider,
                after_first_token=after_first_token,
            )
        if names & _BROKEN_NAMES:
            kind = ErrorKind.TRUNCATED_STREAM if after_first_token else ErrorKind.CONNECTION
            return ProviderError(
                kind, f"connection broken: {type(e).__name__}: {e}", provider=provider,
                after_first_token=after_first_token,
            )
        if isinstance(e, json.JSONDecodeError | UnicodeDecodeError):
            return ProviderError(
                ErrorKind.SERVER_ERROR, f"malformed stream data: {e}", provider=provider,
                after_first_token=after_first_token,
            )
    return None


def unexpected(exc: BaseException, *, provider: str, after_first_token: bool = False) -> ProviderError:
    """Last resort: an exception nothing else recognised (a bug or an SDK change); not retried."""
    return classify_transport(exc, provider=provider, after_first_token=after_first_token) or ProviderError(
        ErrorKind.BAD_REQUEST,
        f"unexpected {type(exc).__name__}: {exc}",
        provider=provider,
        after_first_token=after_first_token,
    )


def classify_exception(exc: BaseException, *, provider: str, after_first_token: bool = False) -> ProviderError:
    """Classify whatever an SDK raised: an HTTP status error, an in-stream error event, or a transport failure."""
    if isinstance(exc, ProviderError):
        return exc
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        code = getattr(exc, "code", None)  # google-genai APIError
        status = code if isinstance(code, int) else None
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) if response is not None else None
    if status is not None and status > 0:
        body = getattr(exc, "body", None)
        if body is None:
            body = getattr(exc, "details", None)  # google-genai
        if body is None:
            body = getattr(exc, "error", None)  # ollama ResponseError
        # An error event inside a 200 stream: the status is the stream's, not the error's.
        return classify_status(
            0 if status == 200 else status,
            body if body is not None else str(exc),
            headers,
            provider=provider,
            after_first_token=after_first_token,
        )
    transport = classify_transport(exc, provider=provider, after_first_token=after_first_token)
    if transport is not None:
        return transport
    if hasattr(exc, "body") or hasattr(exc, "error"):
        # An SDK API error without status (OpenAI's in-stream `{"error": ...}`, Ollama's NDJSON error line).
        body = getattr(exc, "body", None) or getattr(exc, "error", None) or str(exc)
        return classify_status(0, body, headers, provider=provider, after_first_token=after_first_token)
    return unexpected(exc, provider=provider, after_first_token=after_first_token)
