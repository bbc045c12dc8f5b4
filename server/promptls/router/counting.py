"""Online exact token counts, opt-in (`[tokens] online = true`, `promptls check --online-tokens`, on save in the
editor): the providers' own counting endpoints, cached, throttled, never on the analysis' critical path.

- Anthropic `POST /v1/messages/count_tokens` (`client.messages.count_tokens`), Gemini `models.countTokens`
  (`client.models.count_tokens`), OpenAI `POST /v1/responses/input_tokens` (`client.responses.input_tokens.count`):
  each through the provider adapters of this package, i.e. the router's provider settings, base URLs and keys.
- Cached persistently (SQLite in the router's state folder) by sha256 of the model and the canonical request, so
  an unchanged prompt costs no request. The cache holds counts only: never a key, never the prompt text.
- Throttled with a token bucket per provider kind; a request that would wait longer than `max_wait_s` is not
  sent and the estimate stays.
- Failures never raise: the count is None, the reason is remembered, and `summary()` gives the ONE info-level
  line a run prints (one line per run, not a diagnostic per file: the cause is the same for every file).

analysis/ never imports this module: cli/ and lsp/ build a counter and hand the engine its `lookup` or `count`
as a plain callable.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptls.core.secrets import redact_text
from promptls.providers import create_provider
from promptls.providers.base import ChatRequest
from promptls.providers.errors import ProviderError
from promptls.router.privacy import excluded
from promptls.router.state_files import state_file
from promptls.tokens.extras import kind_for

if TYPE_CHECKING:
    from promptls.providers.base import Provider
    from promptls.router.settings import ProviderSettings, RouterSettings

log = logging.getLogger("promptls.router.counting")

LABEL = "exact (provider count)"
COUNTING_KINDS = ("anthropic", "gemini", "openai")
CACHE_FILE = "token_counts.sqlite3"


@dataclass(frozen=True, slots=True)
class CountRequest:
    """One prompt to count: the provider kind, the model id and the rendered messages (role, text); `tools` are
    the provider-native tool definitions, if any."""

    kind: str
    model: str
    messages: tuple[tuple[str, str], ...]
    tools: tuple[Any, ...] = ()

    def canonical(self) -> str:
        """The request as one deterministic JSON text (what the cache key hashes)."""
        return json.dumps({"kind": self.kind, "model": self.model, "messages": [list(m) for m in self.messages],
                           "tools": list(self.tools)}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def key(self) -> str:
        return hashlib.sha256(f"{self.model}\n{self.canonical()}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class OnlineCount:
    tokens: int
    cached: bool
    label: str = LABEL


class TokenBucket:
    """At most `burst` requests at once, refilled at `rate_per_s`; `take` waits at most `max_wait_s`."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate = rate_per_s
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self, max_wait_s: float) -> bool:
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            wait = (1 - self.tokens) / self.rate if self.rate > 0 else float("inf")
            if wait > max_wait_s:
                return False
            self.tokens -= 1  # reserved: the caller sleeps its share, later callers queue behind it
        time.sleep(wait)
        return True


class CountCache:
    """model + sha256(canonical request) -> tokens, in a small SQLite table. Thread-safe."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=5)
        self._db.execute("CREATE TABLE IF NOT EXISTS token_counts (key TEXT PRIMARY KEY, kind TEXT NOT NULL, "
                         "model TEXT NOT NULL, tokens INTEGER NOT NULL, counted_at REAL NOT NULL)")
        self._db.commit()

    def get(self, key: str) -> int | None:
        with self._lock:
            row = self._db.execute("SELECT tokens FROM token_counts WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def put(self, req: CountRequest, tokens: int) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO token_counts VALUES (?, ?, ?, ?, ?)",
                             (req.key(), req.kind, req.model, tokens, time.time()))
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass(slots=True)
class _Stats:
    requested: int = 0
    cached: int = 0
    fell_back: int = 0
    reasons: dict[str, str] = field(default_factory=dict)  # kind -> why its counts stayed estimates


class OnlineCounter:
    """Counts prompts with the providers' counting endpoints (see the module docstring). `count` may send a
    request; `lookup` never does (what the editor calls on every keystroke). Call `close()` when done."""

    def __init__(self, settings: RouterSettings, *, cache_path: Path | None = None, rate_per_s: float = 1.0,
                 burst: int = 5, max_wait_s: float = 2.0, deadline_s: float = 15.0) -> None:
        self.settings = settings
        self.cache = CountCache(cache_path or state_file(CACHE_FILE, "cache"))
        self.max_wait_s = max_wait_s
        self.deadline_s = deadline_s
        self._buckets = {kind: TokenBucket(rate_per_s, burst) for kind in COUNTING_KINDS}
        self._providers: dict[str, Provider | None] = {}
        self._stats = _Stats()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- public ----------------------------------------------------------------------------------------------
    def lookup(self, req: CountRequest) -> OnlineCount | None:
        """The cached count, or None; never a network request."""
        n = self.cache.get(req.key())
        return None if n is None else OnlineCount(n, cached=True)

    def count(self, req: CountRequest) -> OnlineCount | None:
        """The provider's count (from the cache when this exact request was counted before), or None with the
        reason kept for `summary()`."""
        hit = self.lookup(req)
        if hit is not None:
            with self._lock:
                self._stats.cached += 1
            return hit
        if req.kind == "gemini" and req.tools:
            # The Developer API's countTokens takes no tools (the SDK refuses them): a count would leave them out.
            return self._fail(req.kind, "Gemini's countTokens does not count tool definitions")
        provider = self._provider(req.kind)
        if provider is None:
            return self._fail(req.kind, self._stats.reasons.get(req.kind) or f"no {req.kind} provider configured")
        if (why := provider.unusable_reason()) is not None:
            return self._fail(req.kind, why)
        if not self._buckets[req.kind].take(self.max_wait_s):
            return self._fail(req.kind, "throttled (counting requests are rate-limited; the rest stay estimates)")
        with self._lock:
            self._stats.requested += 1
        try:
            tokens = self._run(_count(provider, req), min(self.deadline_s, provider.timeout_s()))
        except FutureTimeout:
            return self._fail(req.kind, f"no answer within {self.deadline_s:g} s")
        except Exception as exc:  # every failure leaves the estimate; the message is already redacted
            return self._fail(req.kind, _reason(exc))
        self.cache.put(req, tokens)
        return OnlineCount(tokens, cached=False)

    def engine_hook(self, *, network: bool = True) -> Callable[..., tuple[int, str] | None]:
        """The callable the engine takes as `online_count`: (model, provider, tokenizer, messages) -> (tokens,
        label) or None. `network=False` only reads the cache (the editor between saves)."""

        def hook(model: str, provider: str | None, tokenizer: str, messages: list[tuple[str, str]],
                 tools: Sequence[dict[str, Any]] = (), paths: Sequence[str] = ()) -> tuple[int, str] | None:
            kind = kind_for(model, provider, tokenizer)
            if kind is None:
                return None
            if network and (why := self.withheld(paths, messages)) is not None:
                self._fail(kind, why)
                return None
            req = CountRequest(kind, model, tuple(messages), tuple(_native_tool(kind, t) for t in tools))
            got = self.count(req) if network else self.lookup(req)
            return None if got is None else (got.tokens, got.label)

        return hook

    def withheld(self, paths: Sequence[str], messages: Sequence[tuple[str, str]]) -> str | None:
        """Why this prompt must not be sent to a counting endpoint, or None. The router's privacy rules hold here
        too: a privacy-excluded file never reaches a remote provider, and a prompt holding a secret-shaped string
        is not sent at all (redacting it would make the count inexact while calling it exact)."""
        if paths and excluded(paths, self.settings.privacy.exclude):
            return "privacy-excluded file: not sent for counting"
        if any(redact_text(text) != text for _role, text in messages):
            return "the prompt holds a secret-shaped string: not sent for counting"
        return None

    def summary(self) -> str | None:
        """The one info line of a run: how many counts came from the providers and, if any stayed estimates,
        why. None when nothing was asked."""
        s = self._stats
        if not (s.requested or s.cached or s.fell_back):
            return None
        line = f"online token counts: {s.requested} requested, {s.cached} from cache"
        if s.fell_back:
            why = "; ".join(f"{k}: {r}" for k, r in sorted(s.reasons.items()))
            line += f"; {s.fell_back} kept the offline estimate ({why})"
        return line

    def close(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None:
            async def _close_all() -> None:
                for p in self._providers.values():
                    if p is not None:
                        try:
                            await p.aclose()
                        except Exception:
                            log.debug("closing a counting client failed", exc_info=True)

            try:
                asyncio.run_coroutine_threadsafe(_close_all(), loop).result(5)
            except Exception:
                log.debug("closing the counting clients failed", exc_info=True)
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(5)
        self.cache.close()

    # -- internals -------------------------------------------------------------------------------------------
    def _fail(self, kind: str, why: str) -> None:
        with self._lock:
            self._stats.fell_back += 1
            self._stats.reasons.setdefault(kind, why)
        return None

    def _provider(self, kind: str) -> Provider | None:
        with self._lock:
            if kind in self._providers:
                return self._providers[kind]
            found = _settings_for(self.settings, kind)
            self._providers[kind] = create_provider(found[0], found[1]) if found else None
            return self._providers[kind]

    def _run(self, coro: Any, timeout: float) -> int:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name="promptls-token-count", daemon=True)
                self._thread.start()
                self._loop = loop
            loop = self._loop
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise


def _settings_for(settings: RouterSettings, kind: str) -> tuple[str, ProviderSettings] | None:
    """The router's first provider of `kind` (its base URL, key variable, timeout)."""
    for name, ps in settings.providers.items():
        if ps.kind == kind:
            return name, ps
    return None


async def _count(provider: Provider, req: CountRequest) -> int:
    params: dict[str, Any] = {"tools": list(req.tools)} if req.tools else {}
    chat = ChatRequest(messages=[{"role": r, "content": c} for r, c in req.messages], model=req.model, params=params)
    return await provider.count_tokens(chat)


def _native_tool(kind: str, tool: dict[str, Any]) -> dict[str, Any]:
    """A `{"name", "description", "parameters"}` definition in the provider's own request shape."""
    schema = tool.get("parameters") or {"type": "object", "properties": {}}
    if kind == "anthropic":
        return {"name": tool.get("name", ""), "description": tool.get("description", ""), "input_schema": schema}
    if kind == "openai":  # the Responses API's flat function tool
        return {"type": "function", "name": tool.get("name", ""), "description": tool.get("description", ""),
                "parameters": schema}
    return tool


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ProviderError):
        return f"{exc.kind.label}: {exc.message}"
    return type(exc).__name__


def count_requests(counter: OnlineCounter, reqs: Sequence[CountRequest]) -> list[OnlineCount | None]:
    """Count several requests in order (each cached, throttled and failing on its own)."""
    return [counter.count(r) for r in reqs]
