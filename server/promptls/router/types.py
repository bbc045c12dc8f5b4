"""What callers hand the router (`LLMRequest`) and what it hands back (`Outcome`, `Completion`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from promptls.providers.base import TextDelta, ToolCall, Usage
from promptls.router.settings import Deadlines


@dataclass(slots=True)
class LLMRequest:
    """One call through the router.

    `purpose` picks the chain (completion, action, run). `model`, when given, is used for the providers it
    names: `"openai/gpt-4o"` (or `googleai/...`, `anthropic/...`) for providers of that kind, a bare id for the
    providers whose kind it obviously belongs to (claude-*, gpt-*, gemini-*); others keep their configured model.
    `source_paths` are the files whose content the prompt carries (privacy excludes apply to them).
    `cache`: None follows the policy, False bypasses the cache, True caches even a sampled request.
    """

    purpose: str
    messages: list[dict[str, Any]]
    model: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    suffix: str | None = None
    stream: bool = True
    source_paths: Sequence[str] = ()
    chain: list[str] | None = None
    cache: bool | None = None
    deadlines: Deadlines | None = None


class LazyCost:
    """A price computed at most once, on first use, from any thread (pricing takes a fraction of a millisecond
    that the answer should not wait for; the ledger writer and the caller share the result)."""

    __slots__ = ("_fn", "_lock", "_value")

    def __init__(self, fn: Callable[[], float | None] | None = None, value: float | None = None) -> None:
        self._fn = fn
        self._value = value
        self._lock = threading.Lock()

    def get(self) -> float | None:
        if self._fn is not None:
            with self._lock:
                if self._fn is not None:
                    self._value = self._fn()
                    self._fn = None
        return self._value


@dataclass(frozen=True, slots=True)
class Outcome:
    """The last event of every routed stream: who answered, what it cost, how it went."""

    provider: str
    kind: str
    model: str
    finish_reason: str
    usage: Usage
    cost: LazyCost = field(repr=False, compare=False)
    cached: bool
    coalesced: bool
    attempts: int
    latency_ms: float
    first_token_ms: float | None
    skipped: tuple[str, ...] = ()
    #: The backend reported no usage; `usage` was counted with the project's token counter.
    usage_estimated: bool = False

    @property
    def cost_usd(self) -> float | None:
        """USD, None when the catalog does not know the model's price."""
        return self.cost.get()

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "kind": self.kind,
            "model": self.model,
            "finish_reason": self.finish_reason,
            "usage": self.usage.to_dict(),
            "usage_estimated": self.usage_estimated,
            "cost_usd": self.cost_usd,
            "cached": self.cached,
            "coalesced": self.coalesced,
            "attempts": self.attempts,
            "latency_ms": round(self.latency_ms, 3),
            "first_token_ms": None if self.first_token_ms is None else round(self.first_token_ms, 3),
            "skipped": list(self.skipped),
        }


RouterEvent = TextDelta | ToolCall | Outcome


@dataclass(slots=True)
class Completion:
    """A whole answer (`Router.complete`)."""

    text: str
    tool_calls: list[ToolCall]
    outcome: Outcome
