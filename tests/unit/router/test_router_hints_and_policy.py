"""Retry hints, error classification, backoff and breakers: pure units."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from promptls.providers.classify import classify_status
from promptls.providers.errors import ErrorKind, ProviderError
from promptls.providers.retry_hints import (
    parse_go_duration,
    parse_retry_after,
    retry_after_from_google_details,
    retry_after_from_headers,
)
from promptls.router.breaker import LONG_COOLDOWN_S, Breakers
from promptls.router.policy import full_jitter, retry_delay

NOW = 1_800_000_000.0


@pytest.mark.parametrize(("raw", "secs"), [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5),
                                            ("2", 2.0), ("", None), ("soon", None)])
def test_go_durations(raw, secs):
    assert parse_go_duration(raw) == (pytest.approx(secs) if secs is not None else None)


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("7", now=NOW) == 7.0
    assert parse_retry_after(formatdate(NOW + 30, usegmt=True), now=NOW) == pytest.approx(30.0)
    assert parse_retry_after(formatdate(NOW - 30, usegmt=True), now=NOW) == 0.0
    assert parse_retry_after("garbage", now=NOW) is None


def test_header_precedence_ms_then_retry_after_then_resets():
    h = {"Retry-After-Ms": "250", "Retry-After": "9"}
    assert retry_after_from_headers(h, now=NOW) == pytest.approx(0.25)
    assert retry_after_from_headers({"retry-after": "9"}, now=NOW) == 9.0


def test_openai_reset_headers_use_the_exhausted_limit():
    h = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s",
         "x-ratelimit-remaining-tokens": "5000", "x-ratelimit-reset-tokens": "6m0s"}
    assert retry_after_from_headers(h, now=NOW) == 20.0
    # Nothing exhausted: a reset time on a healthy response is no reason to wait.
    h["x-ratelimit-remaining-requests"] = "3"
    assert retry_after_from_headers(h, now=NOW) is None


def test_anthropic_reset_headers_are_rfc3339():
    from datetime import UTC, datetime

    reset = datetime.fromtimestamp(NOW + 42, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    h = {"anthropic-ratelimit-tokens-remaining": "0", "anthropic-ratelimit-tokens-reset": reset,
         "anthropic-ratelimit-requests-remaining": "10", "anthropic-ratelimit-requests-reset": reset}
    assert retry_after_from_headers(h, now=NOW) == pytest.approx(42.0)


def test_gemini_retry_info():
    body = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "32.5s"}]}}
    assert retry_after_from_google_details(body) == 32.5
    assert retry_after_from_google_details({"error": {"code": 500}}) is None


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (429, {"error": {"type": "rate_limit_error"}}, ErrorKind.RATE_LIMITED),
        (529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, ErrorKind.OVERLOADED),
        (503, "Service Unavailable", ErrorKind.OVERLOADED),
        (500, {"error": {"message": "boom"}}, ErrorKind.SERVER_ERROR),
        (401, {"error": {"type": "authentication_error"}}, ErrorKind.AUTH),
        (404, {"error": {"code": "model_not_found"}}, ErrorKind.NOT_FOUND),
        (400, {"error": {"code": "context_length_exceeded"}}, ErrorKind.CONTEXT_OVERFLOW),
        (413, "request too large", ErrorKind.CONTEXT_OVERFLOW),
        (400, {"error": {"code": "content_filter"}}, ErrorKind.CONTENT_FILTERED),
        (429, {"error": {"code": "insufficient_quota"}}, ErrorKind.SPEND_LIMIT),
        (402, {"error": "payment required"}, ErrorKind.SPEND_LIMIT),
        (400, {"error": {"message": "bad temperature"}}, ErrorKind.BAD_REQUEST),
        # OpenAI-compatible servers' overflow bodies
        (400, {"object": "error", "message": "This model's maximum context length is 4096 tokens.", "code": 400},
         ErrorKind.CONTEXT_OVERFLOW),
        (422, {"error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096"},
         ErrorKind.CONTEXT_OVERFLOW),
        (400, {"error": {"type": "exceed_context_size_error", "message": "the request exceeds the available "
                         "context size"}}, ErrorKind.CONTEXT_OVERFLOW),
    ],
)
def test_classification(status, body, kind):
    assert classify_status(status, body, {}, provider="p").kind is kind


def test_gemini_per_minute_vs_per_day():
    minute = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "You exceeded your current quota",
                        "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                                     "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}]}]}}
    day_quota = {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                 "violations": [{"quotaId": "GenerateRequestsPerDayPerProject"}]}
    day = {"error": {**minute["error"], "details": [day_quota]}}
    assert classify_status(429, minute, {}, provider="g").kind is ErrorKind.RATE_LIMITED
    err = classify_status(429, day, {}, provider="g")
    assert err.kind is ErrorKind.QUOTA_EXHAUSTED and not err.retryable


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_never_retry_auth_spend_or_daily_quota(kind):
    err = ProviderError(kind, "x")
    if kind in (ErrorKind.AUTH, ErrorKind.SPEND_LIMIT, ErrorKind.QUOTA_EXHAUSTED, ErrorKind.BAD_REQUEST):
        assert not err.retryable


def test_full_jitter_stays_within_the_exponential_envelope():
    rng = random.Random(7)
    for attempt in range(8):
        cap = min(2.0, 0.1 * 2**attempt)
        draws = [full_jitter(attempt, 0.1, 2.0, rng) for _ in range(200)]
        assert all(0.0 <= d <= cap for d in draws)
        assert max(draws) > cap * 0.5  # it spreads over the whole range, not a fixed delay


def test_retry_delay_honours_the_hint_as_a_floor():
    rng = random.Random(1)
    err = ProviderError(ErrorKind.RATE_LIMITED, "x", retry_after_s=3.0)
    for _ in range(50):
        assert 3.0 <= retry_delay(err, 0, 0.1, 1.0, rng) <= 3.3


def test_breaker_opens_after_threshold_and_half_opens_once():
    b = Breakers(threshold=3, cooldown_s=10)
    err = ProviderError(ErrorKind.SERVER_ERROR, "x")
    for _ in range(2):
        b.failure("k", err, now=100.0)
        assert b.acquire("k", 100.0) is None
    b.failure("k", err, now=100.0)
    assert b.acquire("k", 105.0) == 110.0  # open
    assert b.acquire("k", 111.0) is None  # half-open: one trial
    assert b.acquire("k", 111.0) is not None  # concurrent callers keep skipping
    b.failure("k", err, now=111.0)  # trial failed: re-opened, cooldown doubled
    assert b.acquire("k", 125.0) == pytest.approx(131.0)
    assert b.acquire("k", 132.0) is None
    b.success("k")
    assert b.acquire("k", 132.0) is None and b.acquire("k", 132.0) is None


def test_breaker_cooldowns_follow_hints_and_error_kinds():
    b = Breakers(threshold=3, cooldown_s=10)
    b.failure("rl", ProviderError(ErrorKind.RATE_LIMITED, "x", retry_after_s=42.0), now=0.0)
    assert b.acquire("rl", 1.0) == 42.0
    b.failure("auth", ProviderError(ErrorKind.AUTH, "x"), now=0.0)
    assert b.acquire("auth", 1.0) == LONG_COOLDOWN_S
    b.failure("ctx", ProviderError(ErrorKind.CONTEXT_OVERFLOW, "x"), now=0.0)
    assert b.acquire("ctx", 0.0) is None  # request-specific: not the provider's health
