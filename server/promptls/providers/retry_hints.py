"""Read a server's "come back later" hints: Retry-After, retry-after-ms, rate-limit reset headers, Gemini RetryInfo.

Every function returns seconds from now (float, >= 0) or None when there is no usable hint.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

# OpenAI's x-ratelimit-reset-* values look like "1s", "6m0s", "20ms", "1h2m3.5s" (Go durations).
_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_go_duration(value: str) -> float | None:
    """Parse a Go-style duration ("6m0s", "20ms") into seconds."""
    value = value.strip()
    if not value:
        return None
    total, pos = 0.0, 0
    for m in _GO_DURATION.finditer(value):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _GO_UNITS[m.group(2)]
        pos = m.end()
    if pos != len(value):
        try:  # a bare number is seconds
            return max(0.0, float(value))
        except ValueError:
            return None
    return total


def parse_retry_after(value: str, *, now: float | None = None) -> float | None:
    """Parse a Retry-After value: delta-seconds or an HTTP date."""
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _parse_rfc3339(value: str, now: float) -> float | None:
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _reset_from_family(
    headers: Mapping[str, str],
    names: tuple[str, ...],
    prefix: str,
    parse: Callable[[str, float], float | None],
    now: float,
) -> float | None:
    """The reset of an exhausted limit (remaining == 0); with no `remaining` header at all, the longest reset.

    A reset announced on a healthy response (remaining > 0) is no reason to wait."""
    exhausted: list[float] = []
    announced: list[float] = []
    any_remaining = False
    for name in names:
        remaining = headers.get(f"{prefix}{name}-remaining")
        any_remaining = any_remaining or remaining is not None
        raw = headers.get(f"{prefix}{name}-reset")
        if raw is None:
            continue
        secs = parse(raw, now)
        if secs is None:
            continue
        announced.append(secs)
        if remaining is not None and remaining.strip() == "0":
            exhausted.append(secs)
    if exhausted:
        return max(exhausted)
    if announced and not any_remaining:
        return max(announced)
    return None


def retry_after_from_headers(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """The best hint in HTTP response headers (keys compared case-insensitively)."""
    if not headers:
        return None
    h = {str(k).lower(): str(v) for k, v in headers.items()}
    now = time.time() if now is None else now
    if (ms := h.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    if (ra := h.get("retry-after")) is not None and (secs := parse_retry_after(ra, now=now)) is not None:
        return secs
    # OpenAI spells them x-ratelimit-reset-requests / x-ratelimit-remaining-requests: rename them into the
    # "<family>-<name>-reset" shape the Anthropic ones already have.
    openai_pairs: dict[str, str] = {}
    for n in ("requests", "tokens"):
        for what in ("reset", "remaining"):
            if (v := h.get(f"x-ratelimit-{what}-{n}")) is not None:
                openai_pairs[f"x-ratelimit-{n}-{what}"] = v
    openai = _reset_from_family(
        openai_pairs, ("requests", "tokens"), "x-ratelimit-", lambda v, _now: parse_go_duration(v), now
    )
    if openai is not None:
        return openai
    return _reset_from_family(
        h, ("requests", "tokens", "input-tokens", "output-tokens"), "anthropic-ratelimit-", _parse_rfc3339, now
    )


def retry_after_from_google_details(body: Any) -> float | None:
    """Gemini puts `{"@type": "...google.rpc.RetryInfo", "retryDelay": "32s"}` in `error.details`."""
    for detail in _google_details(body):
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            raw = detail.get("retryDelay")
            if isinstance(raw, str) and raw.endswith("s"):
                try:
                    return max(0.0, float(raw[:-1]))
                except ValueError:
                    return None
            if isinstance(raw, Mapping):  # {"seconds": 3, "nanos": 0} in some proto renderings
                return float(raw.get("seconds", 0)) + float(raw.get("nanos", 0)) / 1e9
    return None


def google_quota_ids(body: Any) -> list[str]:
    """Quota ids named by a Gemini QuotaFailure detail (e.g. "GenerateRequestsPerDayPerProjectPerModel")."""
    ids: list[str] = []
    for detail in _google_details(body):
        if str(detail.get("@type", "")).endswith("google.rpc.QuotaFailure"):
            for v in detail.get("violations") or []:
                if isinstance(v, Mapping):
                    ids.append(str(v.get("quotaId") or v.get("quotaMetric") or ""))
    return ids


def _google_details(body: Any) -> list[Mapping[str, Any]]:
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, Mapping):
        return []
    err = body.get("error", body)
    details = err.get("details") if isinstance(err, Mapping) else None
    return [d for d in details or [] if isinstance(d, Mapping)]
