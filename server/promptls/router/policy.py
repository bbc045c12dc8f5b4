"""The one retry policy: exponential backoff with full jitter, overridden by the server's own hint."""

from __future__ import annotations

import random

from promptls.providers.errors import ProviderError


def full_jitter(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """AWS "full jitter": uniform in [0, min(cap, base * 2**attempt)]."""
    return rng.uniform(0.0, min(cap_s, base_s * (2.0**attempt)))


def retry_delay(err: ProviderError, attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Seconds to wait before retry number `attempt + 1` after `err`.

    A server hint (Retry-After, retry-after-ms, RetryInfo, reset headers) is a "not before": it is honoured, with
    up to 10% added so that clients told the same instant do not all come back at once.
    """
    if err.retry_after_s is not None:
        return err.retry_after_s * (1.0 + rng.uniform(0.0, 0.1))
    return full_jitter(attempt, base_s, cap_s, rng)
