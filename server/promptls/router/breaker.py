"""Circuit breakers, one per provider and key, with cooldowns driven by the servers' hints.

Closed: calls go through. Open: the provider is skipped until `open_until`. Then half-open: one trial call
goes through while concurrent calls keep skipping; its success closes the breaker, its failure re-opens it.

Cooldowns: a rate-limit or overload with a hint cools for exactly the hint; per-day quota until the hint or an
hour; auth and spend-limit failures an hour (a new key is a new breaker, so fixing the key takes effect at
once); a refused connection briefly; other transient failures after `threshold` in a row, with the cooldown
doubling on each re-trip. Request-specific errors (bad request, not found, context overflow, content filter)
say nothing about the provider's health and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from promptls.providers.errors import ErrorKind, ProviderError

_REQUEST_SPECIFIC = {ErrorKind.BAD_REQUEST, ErrorKind.NOT_FOUND, ErrorKind.CONTEXT_OVERFLOW, ErrorKind.CONTENT_FILTERED}
LONG_COOLDOWN_S = 3600.0


@dataclass(slots=True)
class _State:
    failures: int = 0
    trips: int = 0
    open_until: float = 0.0
    reason: str = ""
    trial: bool = False


class Breakers:
    def __init__(self, threshold: int = 3, cooldown_s: float = 30.0) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._states: dict[str, _State] = {}

    def acquire(self, key: str, now: float) -> float | None:
        """None if a call may go now (taking the half-open trial slot if it is one), else when to come back."""
        st = self._states.get(key)
        if st is None or st.open_until == 0.0:
            return None
        if now < st.open_until:
            return st.open_until
        if st.trial:
            # Someone is already trying; come back shortly.
            return now + min(1.0, self.cooldown_s)
        st.trial = True
        return None

    def release(self, key: str) -> None:
        """Give the half-open trial slot back without a verdict (the call was cancelled or never made)."""
        st = self._states.get(key)
        if st is not None:
            st.trial = False

    def reason(self, key: str) -> str:
        st = self._states.get(key)
        return st.reason if st else ""

    def success(self, key: str) -> None:
        st = self._states.get(key)
        if st is not None:
            st.failures = st.trips = 0
            st.open_until = 0.0
            st.trial = False
            st.reason = ""

    def failure(self, key: str, err: ProviderError, now: float) -> None:
        if err.kind in _REQUEST_SPECIFIC:
            self.release(key)
            return
        st = self._states.setdefault(key, _State())
        half_open = st.trial or st.open_until > 0.0  # a failed trial re-opens at once
        st.trial = False
        hint = err.retry_after_s
        cool: float | None = None
        if err.kind in (ErrorKind.RATE_LIMITED, ErrorKind.OVERLOADED) and hint is not None:
            cool = hint
        elif err.kind is ErrorKind.QUOTA_EXHAUSTED:
            cool = max(hint or 0.0, LONG_COOLDOWN_S if hint is None else hint)
        elif err.kind in (ErrorKind.AUTH, ErrorKind.SPEND_LIMIT):
            cool = LONG_COOLDOWN_S
        elif err.kind is ErrorKind.CONNECTION and not err.retryable:
            cool = min(5.0, self.cooldown_s)
        else:
            st.failures += 1
            if st.failures >= self.threshold or half_open:
                cool = min(self.cooldown_s * (2.0**st.trips), LONG_COOLDOWN_S)
                st.trips += 1
                st.failures = 0
        if cool is not None:
            st.open_until = max(st.open_until, now + cool)
            st.reason = f"{err.kind.label}"

    def snapshot(self, now: float) -> dict[str, float]:
        """Seconds of cooldown left per key (for doctor and logs)."""
        return {k: st.open_until - now for k, st in self._states.items() if st.open_until > now}
