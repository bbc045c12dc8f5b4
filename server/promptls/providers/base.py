"""The provider interface: one request shape, one stream of events, one error taxonomy for every backend.

A provider turns a `ChatRequest` into an async stream of `TextDelta` / `ToolCall` events closed by exactly one
`Done`. It never retries (the router owns the one retry policy) and raises only `ProviderError`. A stream that
ends without the backend's terminal event raises `ProviderError(TRUNCATED_STREAM)` instead of ending short.
A provider whose SDK shows when the response headers arrived yields one `Opened` first (the router's connect
deadline ends there; the router consumes it). `Done.usage` is None when the backend reported no usage: the
router then settles the call with counted tokens, marked estimated.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from promptls.providers.errors import ErrorKind, ProviderError

if TYPE_CHECKING:
    from promptls.providers.settings import ProviderSettings


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens of one call, normalised across providers.

    `input_tokens` counts every prompt token, cached or not (Anthropic reports cache reads and writes apart
    from `input_tokens`; OpenAI and Gemini include cached tokens in the prompt count: both end up here as the
    total). `cached_input_tokens` are cache reads, `cache_write_tokens` Anthropic cache creation.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "cache_write_tokens": self.cache_write_tokens,
        }


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call (arguments as the JSON text the model produced)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Opened:
    """The backend answered (response headers received): from here on the first-token deadline applies."""


@dataclass(frozen=True, slots=True)
class Done:
    """The terminal event of every stream. `usage` is None when the backend reported none."""

    finish_reason: str
    usage: Usage | None
    model: str = ""


StreamEvent = Opened | TextDelta | ToolCall | Done


@dataclass(slots=True)
class ChatRequest:
    """What a provider is asked. `messages` are `{"role", "content"}` dicts, roles system/user/assistant;
    `content` is a string or the provider's native block list (passed through, e.g. with `cache_control`).
    `params` are passed through to the SDK call (tools, response_format, stop, top_p, ...).
    `suffix` asks for fill-in-the-middle where the backend supports it (Ollama generate, local)."""

    messages: list[dict[str, Any]]
    model: str
    max_tokens: int | None = None
    temperature: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    suffix: str | None = None
    stream: bool = True

    @property
    def system_text(self) -> str | None:
        """All system messages as one string (text blocks of block-list contents included)."""
        parts: list[str] = []
        for m in self.messages:
            if m.get("role") != "system":
                continue
            content = m.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str))
        return "\n\n".join(parts) if parts else None

    @property
    def chat_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("role") != "system"]


def with_sampling(target: dict[str, Any], req: ChatRequest, params: dict[str, Any]) -> dict[str, Any]:
    """Add the request's temperature, then the provider's configured params, then the request's own params
    (later ones win): the one precedence every adapter uses."""
    if req.temperature is not None:
        target["temperature"] = req.temperature
    target.update(params)
    target.update(req.params)
    return target


@dataclass(frozen=True, slots=True)
class Probe:
    """Result of a reachability check (`promptls doctor`)."""

    ok: bool
    latency_ms: float | None
    detail: str


_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def is_loopback_url(url: str | None) -> bool:
    if not url:
        return False
    host = urlsplit(url if "//" in url else f"http://{url}").hostname or ""
    return host in _LOOPBACK or host.startswith("127.")


class Provider(ABC):
    """Base of every provider. Subclasses build their SDK client lazily on first use."""

    kind: str = ""
    #: True when the backend needs an API key to be usable at all.
    needs_key: bool = True
    default_base_url: str | None = None
    default_key_env: str | None = None
    #: True when `stream` yields `Opened` once the response headers are in (so a connect deadline can apply).
    signals_open: bool = False

    def __init__(self, name: str, settings: ProviderSettings) -> None:
        self.name = name
        self.settings = settings

    # -- identity -------------------------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return self.settings.model or ""

    @property
    def base_url(self) -> str | None:
        return self.settings.base_url or self.default_base_url

    @property
    def key_env(self) -> str | None:
        return self.settings.api_key_env or self.default_key_env

    def api_key(self) -> str | None:
        """The key from the environment (read on every call so that a changed environment is seen)."""
        env = self.key_env
        return os.environ.get(env) or None if env else None

    def unusable_reason(self) -> str | None:
        """Why this provider cannot be tried now (missing key, missing package), or None."""
        if self.needs_key and not self.api_key():
            return f"no API key (set {self.key_env})"
        return None

    @property
    def is_remote(self) -> bool:
        """Whether prompts leave this machine (privacy excludes and secret redaction apply)."""
        if self.settings.remote is not None:
            return self.settings.remote
        return True

    # -- calls ----------------------------------------------------------------------------------------------
    @property
    def prepared(self) -> bool:
        """Whether `prepare` has nothing left to do."""
        return True

    def prepare(self) -> None:  # noqa: B027 (optional hook)
        """Slow one-time work (importing the SDK, loading a model), run by the router in a worker thread
        before the first call so that it neither blocks the event loop nor eats the first-token deadline."""

    @abstractmethod
    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Stream the answer. Must end with one `Done` or raise `ProviderError`."""

    async def count_tokens(self, request: ChatRequest) -> int:
        """Exact prompt tokens as the backend counts them."""
        raise ProviderError(ErrorKind.BAD_REQUEST, "count_tokens is not supported", provider=self.name)

    @abstractmethod
    async def probe(self) -> Probe:
        """Cheap reachability check (lists models or similar), bounded by the provider timeout."""

    async def aclose(self) -> None:  # noqa: B027 (optional hook)
        """Release clients and connections."""

    def timeout_s(self) -> float:
        return float(self.settings.timeout_s)


def missing_terminal(provider: str, what: str, *, after_first_token: bool) -> ProviderError:
    return ProviderError(
        ErrorKind.TRUNCATED_STREAM,
        f"stream ended without its terminal event ({what})",
        provider=provider,
        after_first_token=after_first_token,
    )
