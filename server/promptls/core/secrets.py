"""Detect and redact provider API keys (OpenAI, Anthropic, Google) in text: the one redaction path.

Two layers. `redact` replaces key-shaped substrings (one compiled regular expression, with a substring
pre-check so that text holding no key prefix costs a couple of `in` scans); the analysis engine uses it for its
literal-secret rule. `redact_text` first removes the literal values of every configured key variable (the
provider defaults plus each `api_key_env` the router settings name, see `register_key_envs`), including a
leading or trailing fragment of one (an error body cut short), then applies `redact`. Everything the router
shows or stores goes through `redact_text`: provider error messages (`ProviderError` redacts on construction),
`run` and `doctor` output, outgoing prompts, and log records (`RedactingFilter`, see `install_log_redaction`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "DEFAULT_KEY_ENVS",
    "RedactingFilter",
    "SecretMatch",
    "find_secrets",
    "install_log_redaction",
    "known_key_values",
    "redact",
    "redact_key",
    "redact_text",
    "register_key_envs",
]

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


# -- literal values of configured keys ----------------------------------------------------------------------------

DEFAULT_KEY_ENVS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OLLAMA_API_KEY")
_key_envs: set[str] = set(DEFAULT_KEY_ENVS)
# Shorter values are not redacted literally: replacing every "abc" of a log would hide more than it protects.
_MIN_LITERAL = 8
# A fragment of a key this long (its start or its end) counts as the key.
_FRAGMENT = 12
MASK = "[REDACTED]"


def register_key_envs(names: Iterable[str | None]) -> None:
    """Add environment variable names whose values are keys (each provider's `api_key_env`)."""
    _key_envs.update(n for n in names if n)


def known_key_values() -> list[str]:
    """The current values of every registered key variable, longest first (read on every call: a changed
    environment is seen)."""
    values = {v for n in _key_envs if (v := os.environ.get(n)) and len(v) >= _MIN_LITERAL}
    return sorted(values, key=len, reverse=True)


def _redact_literal(text: str, key: str) -> str:
    if key in text:
        text = text.replace(key, MASK)
    if len(key) < 2 * _FRAGMENT:
        return text
    head, tail = key[:_FRAGMENT], key[-_FRAGMENT:]
    while head in text:  # the key's start, possibly cut short: extend the match as far as it agrees
        i = text.index(head)
        j = i + _FRAGMENT
        while j < len(text) and j - i < len(key) and text[j] == key[j - i]:
            j += 1
        text = text[:i] + MASK + text[j:]
    while tail in text:  # the key's end, after a masked or cut-off start
        j = text.index(tail) + _FRAGMENT
        i = j - _FRAGMENT
        k = len(key) - _FRAGMENT
        while i > 0 and k > 0 and text[i - 1] == key[k - 1]:
            i -= 1
            k -= 1
        text = text[:i] + MASK + text[j:]
    return text


def redact_text(text: str, extra: Iterable[str] = ()) -> str:
    """`text` with the values of every configured key variable, the strings in `extra` and every key-shaped
    substring replaced. The one path for everything promptls prints, logs or sends."""
    if not text:
        return text
    for key in (*known_key_values(), *(e for e in extra if e and len(e) >= _MIN_LITERAL)):
        text = _redact_literal(text, key)
    return redact(text)


# -- logs ---------------------------------------------------------------------------------------------------------


class RedactingFilter(logging.Filter):
    """Redacts a record's message (arguments merged in) and its traceback text before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's to report
            return True
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


_FILTER = RedactingFilter()
_LOGGERS = ("promptls", "promptls.router", "promptls.providers")


def install_log_redaction() -> None:
    """Put the redacting filter on promptls's own loggers (records are redacted where they are made) and on
    every handler of the root logger and logging's last-resort handler (records of other loggers: SDKs, pygls,
    the server's log file). Idempotent; run whenever the router starts, after logging is configured."""
    for name in _LOGGERS:
        lg = logging.getLogger(name)
        if _FILTER not in lg.filters:
            lg.addFilter(_FILTER)
    handlers = [*logging.getLogger().handlers, *logging.getLogger("promptls").handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for h in handlers:
        if _FILTER not in h.filters:
            h.addFilter(_FILTER)
