"""The fault matrix: every provider's real SDK against its loopback fake, one fault at a time.

Each test routes through the chain [<provider>, backup] (backup: an independent Ollama fake) and asserts the
outcome: retried on the same provider, failed over, or raised with the right error kind. Deadlines are checked
by outcome (the error kind and which server saw what), never by measuring time.
"""

from __future__ import annotations

import socket

import pytest
from tests.fakes.http import Fault, status_error, wait_for

from promptls.providers import ErrorKind, NoProviderAvailable, ProviderError, TextDelta
from promptls.router import LLMRequest, Outcome
from promptls.router.settings import Deadlines

KINDS = ("openai", "anthropic", "gemini", "ollama")
CHAIN = lambda kind: [kind, "backup"]  # noqa: E731


def ask(text: str = "hi") -> LLMRequest:
    return LLMRequest(purpose="completion", messages=[{"role": "user", "content": text}])


async def run(router, req=None):
    """Route one request; return (text, outcome or None, error or None)."""
    text, outcome, error = [], None, None
    try:
        async for ev in router.stream(req or ask()):
            if isinstance(ev, TextDelta):
                text.append(ev.text)
            elif isinstance(ev, Outcome):
                outcome = ev
    except (ProviderError, NoProviderAvailable) as exc:
        error = exc
    return "".join(text), outcome, error


def overload_status(kind: str) -> int:
    return 529 if kind == "anthropic" else 503


def long_hint(kind: str, seconds: int) -> Fault:
    """A 429 whose hint (header, or RetryInfo for Gemini) says to come back in `seconds`."""
    if kind == "gemini":
        body = {"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED", "details": [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{seconds}s"}]}}
        return status_error(429, body=body)
    return status_error(429, retry_after=str(seconds))


# -- retried on the same provider -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_429_with_short_hint_is_retried_on_same_provider(kind, fakes, make_router):
    if kind == "gemini":
        fakes[kind].push(status_error(429, body={"error": {"code": 429, "message": "quota", "status":
                         "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                                            "retryDelay": "0.02s"}]}}))
    else:
        fakes[kind].push(status_error(429, headers={"retry-after-ms": "20"}))
    router = make_router(CHAIN(kind))
    _, out, err = await run(router)
    assert err is None and out is not None
    assert (out.provider, out.attempts) == (kind, 2)
    assert len(fakes[kind].calls) == 2 and fakes["backup"].calls == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [500, "overloaded"])
async def test_server_errors_are_retried_then_succeed(kind, status, fakes, make_router):
    code = overload_status(kind) if status == "overloaded" else status
    fakes[kind].push(status_error(code))
    router = make_router(CHAIN(kind))
    text, out, err = await run(router)
    assert err is None and out is not None
    assert out.provider == kind and out.attempts == 2
    assert text == "".join(fakes[kind].default_tokens)
    assert fakes["backup"].calls == []


@pytest.mark.parametrize("kind", KINDS)
async def test_persistent_server_errors_exhaust_attempts_then_fail_over(kind, fakes, make_router):
    fakes[kind].push(*[status_error(500)] * 3)
    router = make_router(CHAIN(kind))
    _, out, err = await run(router)
    assert err is None and out is not None and out.provider == "backup"
    assert len(fakes[kind].calls) == 3  # max_attempts


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", ["reset", "malformed", "error_event", "no_terminal", "close"])
async def test_stream_fault_before_first_token_is_retried(kind, fault, fakes, make_router):
    fakes[kind].push(Fault(kind=fault, after=0))
    router = make_router(CHAIN(kind))
    text, out, err = await run(router)
    assert err is None, err
    assert out is not None and out.provider == kind and out.attempts == 2
    assert text == "".join(fakes[kind].default_tokens)


# -- failed over at once --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini"])  # the ollama client drops response headers
async def test_429_with_long_hint_fails_over_and_cools_the_provider(kind, fakes, make_router):
    fakes[kind].push(long_hint(kind, 30))
    router = make_router(CHAIN(kind))
    _, out, err = await run(router)
    assert err is None and out is not None and out.provider == "backup"
    assert len(fakes[kind].calls) == 1  # no retry: the hint is beyond max_retry_wait_s
    # The breaker took the hint as its cooldown: the next request does not even try the provider.
    _, out2, _ = await run(router, ask("again"))
    assert out2 is not None and out2.provider == "backup"
    assert len(fakes[kind].calls) == 1
    assert any("cooling down" in s for s in out2.skipped)


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini"])
async def test_401_is_not_retried_and_fails_over(kind, fakes, make_router):
    fakes[kind].push(status_error(401) if kind != "gemini" else status_error(400, error="auth"))
    router = make_router(CHAIN(kind))
    _, out, err = await run(router)
    assert err is None and out is not None and out.provider == "backup"
    assert len(fakes[kind].calls) == 1
    _, out2, _ = await run(router, ask("again"))
    assert out2 is not None and out2.provider == "backup" and len(fakes[kind].calls) == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_context_overflow_fails_over_without_retry(kind, fakes, make_router):
    fakes[kind].push(status_error(400, error="overflow"))
    router = make_router(CHAIN(kind))
    _, out, err = await run(router)
    assert err is None and out is not None and out.provider == "backup"
    assert len(fakes[kind].calls) == 1
    # Not a health problem: the provider is tried again for the next request.
    _, out2, _ = await run(router, ask("short"))
    assert out2 is not None and out2.provider == kind


@pytest.mark.parametrize("kind", KINDS)
async def test_connection_refused_fails_over_without_retry(kind, fakes, make_router):
    from tests.unit.router.helpers import provider_table

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    table = provider_table(fakes, kind, base_url=f"http://127.0.0.1:{dead}" + ("/v1" if kind == "openai" else ""))
    router = make_router(
        CHAIN(kind),
        providers={kind: table, "backup": {"kind": "ollama", "model": "m", "base_url": fakes.servers["backup"].url}},
    )
    _, out, err = await run(router)
    assert err is None and out is not None and out.provider == "backup"
    assert out.attempts == 2  # one refused attempt, no retry, then the backup


@pytest.mark.parametrize("kind", KINDS)
async def test_stall_before_first_token_hits_first_token_deadline(kind, fakes, make_router):
    fakes[kind].push(Fault(kind="stall", after=0), Fault(kind="stall", after=0), Fault(kind="stall", after=0))
    router = make_router(CHAIN(kind), deadlines=Deadlines(first_token_s=0.3, idle_s=5, total_s=30))
    _, out, err = await run(router)
    assert err is None and out is not None and out.provider == "backup"
    errors = [e for e in out.skipped if e.startswith(kind)]
    assert errors and "no first token" in errors[0]
    # The router closed each stalled stream: the fake saw the client go away.
    assert wait_for(lambda: fakes[kind].client_closed >= 3, timeout_s=20)


# -- errors after the first token: no failover, a clear error ---------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("reset", ErrorKind.TRUNCATED_STREAM),
        ("no_terminal", ErrorKind.TRUNCATED_STREAM),
        ("malformed", ErrorKind.SERVER_ERROR),
        ("error_event", ErrorKind.OVERLOADED),
    ],
)
async def test_fault_after_tokens_raises_without_failover(kind, fault, expected, fakes, make_router):
    after = 4 if fault == "no_terminal" else 2
    fakes[kind].push(Fault(kind=fault, after=after))
    router = make_router(CHAIN(kind))
    text, out, err = await run(router)
    assert out is None
    assert isinstance(err, ProviderError), err
    if not (kind == "ollama" and fault == "error_event"):  # Ollama's in-stream error is a bare string
        assert err.kind is expected
    assert err.after_first_token
    assert text == "".join(fakes[kind].default_tokens[:after])
    assert fakes["backup"].calls == []


@pytest.mark.parametrize("kind", KINDS)
async def test_stall_mid_stream_hits_idle_deadline(kind, fakes, make_router):
    fakes[kind].push(Fault(kind="stall", after=2))
    router = make_router(CHAIN(kind), deadlines=Deadlines(first_token_s=5, idle_s=0.3, total_s=30))
    text, _, err = await run(router)
    assert isinstance(err, ProviderError) and err.kind is ErrorKind.TIMEOUT
    assert "no chunk" in err.message
    assert text == "".join(fakes[kind].default_tokens[:2])
    assert wait_for(lambda: fakes[kind].client_closed >= 1, timeout_s=20)


@pytest.mark.parametrize("kind", KINDS)
async def test_total_deadline_bounds_a_slow_stream(kind, fakes, make_router):
    fakes[kind].push(Fault(token_delay_s=0.2, tokens=[f"t{i} " for i in range(50)]))
    router = make_router([kind], deadlines=Deadlines(first_token_s=30, idle_s=30, total_s=1.5))
    text, _, err = await run(router)
    assert isinstance(err, (ProviderError, NoProviderAvailable)), err
    last = err if isinstance(err, ProviderError) else err.errors[-1]
    assert last.kind is ErrorKind.TIMEOUT and "total deadline" in last.message
    assert len(text.split()) < 50


# -- non-failover errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini"])
async def test_bad_request_is_raised_not_failed_over(kind, fakes, make_router):
    fakes[kind].push(status_error(400, error="bad_request"))
    router = make_router(CHAIN(kind))
    _, _, err = await run(router)
    assert isinstance(err, ProviderError) and err.kind is ErrorKind.BAD_REQUEST
    assert fakes["backup"].calls == []


@pytest.mark.parametrize("kind", ["openai", "gemini"])
async def test_quota_and_spend_errors_are_not_retried(kind, fakes, make_router):
    fakes[kind].push(status_error(429, error="quota_day" if kind == "gemini" else "spend"))
    router = make_router([kind])
    _, _, err = await run(router)
    assert isinstance(err, NoProviderAvailable)
    (only,) = err.errors
    assert only.kind is (ErrorKind.QUOTA_EXHAUSTED if kind == "gemini" else ErrorKind.SPEND_LIMIT)
    assert len(fakes[kind].calls) == 1
