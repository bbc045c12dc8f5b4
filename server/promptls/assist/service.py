"""The assist layer's shared state: router and settings kept in step with the configuration, the completion
model's token counter, provider groups (native fill-in-the-middle or chat), session cost and busy/idle state.

`Assist` knows nothing of LSP: the language server calls `sync(raw_config)` before each use and reads
`status()` for the `promptls/status` notification.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from promptls.assist.settings import AssistSettings, parse_assist_settings
from promptls.config import Config
from promptls.router import LLMRequest, Outcome, Router, RouterEvent
from promptls.router.pricing import models_catalog
from promptls.router.settings import SECTION as ROUTER
from promptls.router.settings import RouterSettings

log = logging.getLogger("promptls.assist")

#: Provider kinds whose backend takes a native `suffix` (the Ollama provider calls /api/generate with it).
FIM_KINDS = ("ollama",)


class Assist:
    def __init__(self, on_status: Callable[[], None] | None = None) -> None:
        self.settings = AssistSettings()
        self.router_settings: RouterSettings | None = None
        self.router: Router | None = None
        self._raw_id: int | None = None
        self._counter: Any = None
        self._counter_model: str | None = None
        self._on_status = on_status
        self.session_cost_usd = 0.0
        self.provider: str | None = None
        self.busy = 0
        self.calls = 0  # routed calls started (inline, actions, runs)
        self._warm: asyncio.Future[None] | None = None

    # -- configuration --------------------------------------------------------------------------------------
    def sync(self, config: Config) -> list[str] | None:
        """Take the current configuration; returns the assist setting errors when it changed, else None."""
        raw = config.raw
        if self._raw_id == id(raw) and self.router is not None:
            return None
        self._raw_id = id(raw)
        self.settings, errors = parse_assist_settings(raw)
        rs = config.section(ROUTER)  # router errors are reported by the config loader
        self.router_settings = rs
        catalog = models_catalog(config)  # priced with `[models]`, as the editor prices
        if self.router is None:
            self.router = Router(rs, catalog=catalog)
        else:
            self.router.update_settings(rs, catalog)
        self._counter = None
        self._warm = None
        return errors

    def groups(self, purpose: str) -> list[tuple[bool, list[str]]]:
        """The chain of `purpose` cut into runs of providers that all take native FIM (True) or all chat."""
        assert self.router_settings is not None
        fim_names = self.settings.fim_providers
        out: list[tuple[bool, list[str]]] = []
        for name in self.router_settings.chain(purpose):
            ps = self.router_settings.providers.get(name)
            if ps is None:
                continue
            fim = name in fim_names if fim_names is not None else ps.kind in FIM_KINDS
            if out and out[-1][0] == fim:
                out[-1][1].append(name)
            else:
                out.append((fim, [name]))
        return out

    def completion_model(self) -> str | None:
        assert self.router_settings is not None
        for name in self.router_settings.chain("completion"):
            ps = self.router_settings.providers.get(name)
            if ps is not None and ps.model:
                return ps.model
        return None

    def count(self, text: str) -> int:
        """Tokens of `text` with the completion model's tokenizer (o200k_base when the catalog does not know it)."""
        if self._counter is None:
            self._counter = self._make_counter()
        return self._counter.count(text)

    def _make_counter(self) -> Any:
        from promptls.tokens import counter_for_tokenizer

        tokenizer = "o200k_base"
        model = self.completion_model()
        if model:
            try:
                from promptls.catalog import load_catalog

                info = load_catalog().resolve(model).info
                if info is not None and info.tokenizer:
                    tokenizer = info.tokenizer
            except Exception as exc:  # an unknown model keeps the default tokenizer
                log.debug("tokenizer for %s: %s", model, exc)
        try:
            return counter_for_tokenizer(tokenizer)
        except ValueError:
            return counter_for_tokenizer("o200k_base")

    def warm(self) -> asyncio.Future[None]:
        """Build the tokenizer and import the completion providers' SDKs off the event loop, once per config."""
        if self._warm is None:
            async def run() -> None:
                try:
                    await asyncio.to_thread(self.count, "warm")
                    if self.router is not None:
                        await self.router.warm("completion")
                except Exception as exc:  # best effort; the first call reports real failures
                    log.debug("assist warm-up: %s", exc)

            self._warm = asyncio.ensure_future(run())
        return self._warm

    # -- calls ---------------------------------------------------------------------------------------------
    async def stream(self, request: LLMRequest) -> AsyncIterator[RouterEvent]:
        """`router.stream` with the busy state and session cost kept for the status bar."""
        assert self.router is not None
        self.busy += 1
        self.calls += 1
        self._status()
        try:
            async for ev in self.router.stream(request):
                if isinstance(ev, Outcome):
                    self.record(ev)
                yield ev
        finally:
            self.busy -= 1
            self._status()

    def record(self, outcome: Outcome) -> None:
        self.provider = outcome.provider
        cost = outcome.cost_usd
        if cost:
            self.session_cost_usd += cost

    def status(self) -> dict[str, Any]:
        return {"state": "busy" if self.busy else "idle", "provider": self.provider,
                "sessionCostUsd": round(self.session_cost_usd, 6)}

    def _status(self) -> None:
        if self._on_status is not None:
            try:
                self._on_status()
            except Exception as exc:  # a closed client must not break a call
                log.debug("status notification failed: %s", exc)

    async def aclose(self) -> None:
        if self.router is not None:
            await self.router.aclose()
