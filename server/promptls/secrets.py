"""Detect and redact provider API keys (OpenAI, Anthropic, Google) in text.

Pure and fast: one compiled regular expression, with a substring pre-check so that the common case
(text holding no key prefix at all) costs a couple of `in` scans. Used by the router to redact
outgoing prompts and by the analysis engine for its literal-secret rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SecretMatch", "find_secrets", "redact", "redact_key"]

# Shapes, most specific first (an Anthropic key also starts with "sk-"). The lookbehind keeps us from
# matching inside a longer identifier; the lengths are the published minimums, loosened slightly so that
# truncated or test keys of the right shape are still caught.
_PATTERN = re.compile(
    r"(?<![A-Za-z0-9_-])(?:"
    r"(?P<anthropic>sk-ant-[a-z]+[0-9]*-[A-Za-z0-9_-]{20,})"
    r"|(?P<openai>sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}|sk-[A-Za-z0-9]{32,})"
    r"|(?P<google>AIza[0-9A-Za-z_-]{35})"
    r")(?![A-Za-z0-9_-])"
)

_KINDS = ("anthropic", "openai", "google")


@dataclass(frozen=True, slots=True)
class SecretMatch:
    """One secret found in a text: its kind and its [start, end) offsets in code points."""

    kind: str  # "anthropic" | "openai" | "google"
    start: int
    end: int


def find_secrets(text: str) -> list[SecretMatch]:
    """Return every API-key-shaped substring of `text`, in order."""
    if "sk-" not in text and "AIza" not in text:
        return []
    out: list[SecretMatch] = []
    for m in _PATTERN.finditer(text):
        kind = next(k for k in _KINDS if m.group(k) is not None)
        out.append(SecretMatch(kind, m.start(), m.end()))
    return out


def redact(text: str) -> str:
    """Replace every key in `text` with `[REDACTED:<kind>]`."""
    if "sk-" not in text and "AIza" not in text:
        return text
    return _PATTERN.sub(lambda m: f"[REDACTED:{next(k for k in _KINDS if m.group(k) is not None)}]", text)


def redact_key(text: str, key: str | None) -> str:
    """Remove one known key (of any shape) from `text`, then any key-shaped substring."""
    if key:
        text = text.replace(key, "[REDACTED]")
    return redact(text)
