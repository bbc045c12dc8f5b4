"""One error taxonomy for every provider: what went wrong, and whether retrying or failing over can help."""

from __future__ import annotations

from enum import Enum

from promptls.core.secrets import redact_text


class ErrorKind(Enum):
    """What went wrong. Each kind carries its default retry and failover advice."""

    #               value                retry  failover
    RATE_LIMITED = ("rate_limited", True, True)
    OVERLOADED = ("overloaded", True, True)
    SERVER_ERROR = ("server_error", True, True)
    TIMEOUT = ("timeout", True, True)
    CONNECTION = ("connection", True, True)
    AUTH = ("auth", False, True)
    NOT_FOUND = ("not_found", False, True)
    CONTEXT_OVERFLOW = ("context_overflow", False, True)
    # A refusal is a property of the prompt: shopping it around other providers is not our call.
    CONTENT_FILTERED = ("content_filtered", False, False)
    QUOTA_EXHAUSTED = ("quota_exhausted", False, True)
    SPEND_LIMIT = ("spend_limit", False, True)
    TRUNCATED_STREAM = ("truncated_stream", True, True)
    BAD_REQUEST = ("bad_request", False, False)

    def __init__(self, label: str, retry: bool, failover: bool) -> None:
        self.label = label
        self.retry = retry
        self.failover = failover


class ProviderError(Exception):
    """An error from one provider call, classified.

    `retry_after_s` is the server's own hint (Retry-After, retry-after-ms, RetryInfo, rate-limit reset headers)
    when it gave one. `retryable` / `failover` default to the kind's advice and can be overridden per instance
    (a refused connection is a CONNECTION error that is not worth retrying on the same host).
    The message is redacted on construction: servers echo keys in error bodies (a 401 that quotes the key it
    refused), and every message built from a provider body is made here.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        retry_after_s: float | None = None,
        retryable: bool | None = None,
        failover: bool | None = None,
        after_first_token: bool = False,
    ) -> None:
        message = redact_text(message)
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.provider = provider
        self.status = status
        self.retry_after_s = retry_after_s
        self.retryable = kind.retry if retryable is None else retryable
        self.failover = kind.failover if failover is None else failover
        self.after_first_token = after_first_token

    def __str__(self) -> str:
        where = f"{self.provider}: " if self.provider else ""
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{where}{self.kind.label}{status}: {self.message}"

    def __repr__(self) -> str:
        return f"ProviderError({self.kind.name}, {self.message!r}, provider={self.provider!r})"


class RouterError(Exception):
    """Base of the errors the router itself raises (not a single provider's)."""


class NoProviderAvailable(RouterError):
    """Every provider of the chain was skipped or failed; `attempts` says why, one line each."""

    def __init__(self, purpose: str, attempts: list[str], *, retry_at: float | None = None) -> None:
        detail = "; ".join(attempts) if attempts else "the chain is empty"
        super().__init__(redact_text(f"no provider could serve '{purpose}': {detail}"))
        self.purpose = purpose
        self.attempts = attempts
        self.retry_at = retry_at


class BudgetExceeded(RouterError):
    """The call would overshoot a configured budget and the policy is to refuse."""


class PrivacyBlocked(RouterError):
    """The request includes excluded files and no local provider is available to take it."""
