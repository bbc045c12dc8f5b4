"""The router: one retry policy, failover along a chain, breakers, deadlines, cache, coalescing, budgets, ledger.

`Router.stream(request)` yields `TextDelta` / `ToolCall` events and ends with one `Outcome`; it raises
`ProviderError` (a non-failover error, or a failure after the first token: failover never happens mid-answer),
`NoProviderAvailable`, `BudgetExceeded` or `PrivacyBlocked`. Closing the stream or cancelling the task that
reads it closes the provider's HTTP stream.

Per provider of the chain, in order: privacy (excluded files never go to a remote provider; secrets are
redacted), usability (key present, package installed), the response cache, the breaker, the budget
reservation, then up to `max_attempts` attempts under the deadlines. Retryable errors are retried after the
server's hint or a full-jitter backoff, unless the wait would exceed `max_retry_wait_s` or the deadline, in
which case the router fails over at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import random
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from promptls.core.secrets import install_log_redaction, redact_text
from promptls.providers import KIND_OF_PREFIX, create_provider
from promptls.providers.base import ChatRequest, Done, Probe, Provider, TextDelta, ToolCall, Usage
from promptls.providers.errors import BudgetExceeded, ErrorKind, NoProviderAvailable, PrivacyBlocked, ProviderError
from promptls.providers.sdk_client import key_fingerprint
from promptls.router import pricing
from promptls.router.breaker import Breakers
from promptls.router.cache import CachedAnswer, ResponseCache, cache_key, is_sampled
from promptls.router.coalesce import Coalescer
from promptls.router.deadline import guarded
from promptls.router.ledger import Ledger, LedgerWriter, Refusal, Reservation
from promptls.router.policy import retry_delay
from promptls.router.pricing import FREE_KINDS, count_usage, estimate_prompt_tokens, price_usd
from promptls.router.privacy import excluded, redact_messages
from promptls.router.settings import DEFAULT_DEADLINES, Deadlines, RouterSettings
from promptls.router.state import FlightLocks, StateBackend, open_state
from promptls.router.types import Completion, LazyCost, LLMRequest, Outcome, RouterEvent

if TYPE_CHECKING:
    from promptls.catalog import Catalog

log = logging.getLogger("promptls.router")

_MAX_COOLING_WAITS = 3


@dataclasses.dataclass(slots=True)
class _Ctx:
    """State of one routed request."""

    request: LLMRequest
    started: float
    deadlines: Deadlines
    total_deadline: float
    attempts: int = 0
    first_token_at: float | None = None
    skipped: list[str] = dataclasses.field(default_factory=list)
    errors: list[ProviderError] = dataclasses.field(default_factory=list)
    outcome: Outcome | None = None
    called: bool = False
    #: The prompt carries excluded files: its answer is not shared beyond this machine.
    private: bool = False
    #: When the first cooling provider of the current pass comes back (time.monotonic()).
    earliest: float | None = None


class Router:
    def __init__(
        self,
        settings: RouterSettings,
        *,
        cache: ResponseCache | None = None,
        ledger: Ledger | None = None,
        rng: random.Random | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self.settings = settings
        #: What calls are priced with: the configuration's catalog (`catalog_for(config)`, its `[models]` prices);
        #: the bundled one when None.
        self.catalog = catalog
        self._providers: dict[str, Provider] = {}
        self._breakers = Breakers(settings.router.breaker_threshold, settings.router.breaker_cooldown_s)
        self._coalescer = Coalescer()
        self._rng = rng or random.Random()
        self._cache = cache
        self._ledger = ledger
        self._pricing_warmup: asyncio.Future[None] | None = None
        self._closing: set[asyncio.Future[None]] = set()
        self._writer: LedgerWriter | None = None
        self._state: StateBackend | None = None
        install_log_redaction()

    # -- components, built on first use (keeps server start-up fast) ---------------------------------------------
    @property
    def state(self) -> StateBackend:
        """SQLite files, or Redis shared by a team (`[state]`); opened on first use."""
        if self._state is None:
            self._state = open_state(self.settings)
        return self._state

    @property
    def cache(self) -> ResponseCache | None:
        c = self.settings.cache
        if self._cache is None and c.enabled:
            self._cache = self.state.open_cache()
        return self._cache

    @property
    def ledger(self) -> Ledger | None:
        b = self.settings.budget
        if self._ledger is None and (b.ledger or b.daily_usd is not None or b.monthly_usd is not None):
            try:
                self._ledger = self.state.open_ledger()
            except Exception as exc:  # an unwritable data dir must not stop LLM calls
                log.warning("usage ledger disabled: %s", exc)
                b.ledger = False
        return self._ledger

    def provider(self, name: str) -> Provider:
        p = self._providers.get(name)
        if p is None:
            ps = self.settings.providers.get(name)
            if ps is None:
                raise KeyError(name)
            p = self._providers[name] = create_provider(name, ps)
        return p

    def update_settings(self, settings: RouterSettings, catalog: Catalog | None = None) -> None:
        """Take new settings and the configuration's catalog (LSP didChangeConfiguration); providers are rebuilt
        on next use."""
        old = self._providers
        self.settings = settings
        self.catalog = catalog
        self._providers = {}
        self._breakers.threshold = settings.router.breaker_threshold
        self._breakers.cooldown_s = settings.router.breaker_cooldown_s
        if _loop_running():
            for p in old.values():
                task = asyncio.ensure_future(p.aclose())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        if self._writer is not None:
            await self._writer.aclose()
            self._writer = None
        for p in self._providers.values():
            try:
                await p.aclose()
            except Exception as exc:  # closing must not raise
                log.debug("closing %s: %s", p.name, exc)
        self._providers.clear()
        if self._cache is not None:
            self._cache.close()
        if self._ledger is not None:
            self._ledger.close()
        if self._state is not None:
            self._state.close()

    # -- public calls -------------------------------------------------------------------------------------------
    def stream(self, request: LLMRequest) -> AsyncIterator[RouterEvent]:
        if self.settings.cache.coalesce:
            return self._coalescer.run(self._flight_key(request), lambda: self._route(request), _as_follower)
        return self._route(request)

    async def complete(self, request: LLMRequest) -> Completion:
        text: list[str] = []
        tools: list[ToolCall] = []
        outcome: Outcome | None = None
        async for ev in self.stream(request):
            if isinstance(ev, TextDelta):
                text.append(ev.text)
            elif isinstance(ev, ToolCall):
                tools.append(ev)
            elif isinstance(ev, Outcome):
                outcome = ev
        assert outcome is not None  # every routed stream ends with an Outcome or raises
        return Completion("".join(text), tools, outcome)

    async def count_tokens(self, request: LLMRequest) -> tuple[str, int]:
        """Exact prompt tokens from the first provider of the chain that can count them."""
        reasons = []
        for name in request.chain or self.settings.chain(request.purpose):
            p = self.provider(name)
            if (why := p.unusable_reason()) is not None:
                reasons.append(f"{name}: {why}")
                continue
            try:
                return name, await p.count_tokens(self._provider_request(request, p))
            except ProviderError as err:
                reasons.append(f"{name}: {self._scrub(err)}")
        raise NoProviderAvailable(request.purpose, reasons)

    async def probe(self, names: list[str] | None = None) -> dict[str, Probe]:
        out: dict[str, Probe] = {}
        for name in names or list(self.settings.providers):
            p = self.provider(name)
            # A probe is one small request: the connect deadline of `run` bounds it (plus the SDK's own timeout).
            limit = min(p.timeout_s(), self.settings.router.deadlines["run"].connect_s) + 1
            try:
                out[name] = await asyncio.wait_for(p.probe(), timeout=limit)
            except TimeoutError:
                out[name] = Probe(False, None, f"timed out after {limit:g}s")
        return out

    async def warm(self, purpose: str) -> None:
        """Prepare (import SDKs, load local models) the usable providers of a chain, off the event loop."""
        await self._warm_pricing()
        for name in self.settings.chain(purpose):
            try:
                p = self.provider(name)
                if p.unusable_reason() is None and not p.prepared:
                    await asyncio.to_thread(p.prepare)
            except Exception as exc:  # warming is best effort; the call itself reports the failure
                log.debug("warming %s: %s", name, exc)

    async def _warm_pricing(self) -> None:
        # One shared warm-up however many requests arrive at once (the tables load in a worker thread).
        if self._pricing_warmup is None:
            self._pricing_warmup = asyncio.ensure_future(asyncio.to_thread(pricing.warm, self.catalog))
        try:
            await asyncio.shield(self._pricing_warmup)
        except Exception as exc:  # prices are optional
            log.debug("price tables unavailable: %s", exc)

    def cooling(self) -> dict[str, float]:
        return self._breakers.snapshot(time.monotonic())

    # -- routing ----------------------------------------------------------------------------------------------
    async def _route(self, req: LLMRequest) -> AsyncIterator[RouterEvent]:
        loop = asyncio.get_running_loop()
        now = loop.time()
        dl = req.deadlines or self.settings.router.deadlines.get(req.purpose) or DEFAULT_DEADLINES["run"]
        ctx = _Ctx(req, now, dl, now + dl.total_s)
        chain = list(req.chain or self.settings.chain(req.purpose))
        if not pricing.is_warm() and (self._budget_active() or self.settings.budget.ledger):
            await self._warm_pricing()
        sensitive = excluded(req.source_paths, self.settings.privacy.exclude) if req.source_paths else []
        ctx.private = bool(sensitive)
        waits = 0
        while True:
            ctx.earliest = None
            ctx.called = False
            queue = list(chain)
            i = 0
            while i < len(queue):
                name = queue[i]
                i += 1
                try:
                    provider = self.provider(name)
                except (KeyError, ValueError) as exc:
                    self._skip(ctx, name, f"not configured ({exc})")
                    continue
                if sensitive and provider.is_remote:
                    self._skip(ctx, name, f"remote, and the prompt carries excluded file(s) {', '.join(sensitive)}")
                    continue
                if (why := provider.unusable_reason()) is not None:
                    self._skip(ctx, name, why)
                    continue
                preq = self._provider_request(req, provider)
                ckey = self._cache_key(req, provider, preq)
                if ckey is not None and (cache := self.cache) is not None and (hit := cache.get(ckey)) is not None:
                    async for ev in self._replay(ctx, provider, preq, hit):
                        yield ev
                    return
                locks = self._locks() if ckey is not None and not sensitive else None
                token: str | None = None
                if locks is not None and ckey is not None:
                    token = locks.acquire(ckey)
                    if token is None and (hit := await self._await_holder(ctx, locks, ckey)) is not None:
                        async for ev in self._replay(ctx, provider, preq, hit):
                            yield ev
                        return
                try:
                    async for ev in self._call_provider(ctx, provider, preq, ckey, queue):
                        yield ev
                finally:
                    if token is not None and locks is not None and ckey is not None:
                        locks.release(ckey, token)
                if ctx.outcome is not None:
                    return
            # Every provider was skipped or failed over.
            earliest = ctx.earliest
            if (
                not ctx.called
                and earliest is not None
                and self.settings.router.when_all_cooling == "wait"
                and waits < _MAX_COOLING_WAITS
            ):
                wake = loop.time() + max(0.0, earliest - time.monotonic())
                if wake < ctx.total_deadline:
                    waits += 1
                    log.info("all providers of '%s' cooling down; waiting %.2fs", req.purpose, wake - loop.time())
                    await asyncio.sleep(max(0.0, wake - loop.time()))
                    continue
            if sensitive and not ctx.errors and all("excluded file" in s or "no API key" in s for s in ctx.skipped):
                raise PrivacyBlocked(
                    f"the prompt carries excluded file(s) {', '.join(sensitive)} and no local provider is usable: "
                    + "; ".join(ctx.skipped)
                )
            err = NoProviderAvailable(req.purpose, ctx.skipped, retry_at=earliest)
            err.errors = list(ctx.errors)  # type: ignore[attr-defined]
            raise err

    async def _call_provider(
        self, ctx: _Ctx, provider: Provider, preq: ChatRequest, ckey: str | None, queue: list[str]
    ) -> AsyncIterator[RouterEvent]:
        """Breaker, budget reservation, then the attempts (`ctx.outcome` is set if the provider answered)."""
        name = provider.name
        bkey = f"{name}:{key_fingerprint(provider.api_key())}"
        back_at = self._breakers.acquire(bkey, time.monotonic())
        if back_at is not None:
            left = back_at - time.monotonic()
            ctx.earliest = back_at if ctx.earliest is None else min(ctx.earliest, back_at)
            self._skip(ctx, name, f"cooling down after {self._breakers.reason(bkey) or 'errors'} ({left:.1f}s left)")
            return
        reservation = self._reserve(ctx, provider, preq, bkey)
        if isinstance(reservation, Refusal):
            self._skip(ctx, name, str(reservation))
            queue += [n for n in self.settings.budget.downgrade if n not in queue]
            return
        ctx.called = True
        async for ev in self._try_provider(ctx, provider, preq, bkey, reservation, ckey):
            yield ev

    def _locks(self) -> FlightLocks | None:
        return self.state.locks() if self.settings.cache.coalesce else None

    async def _await_holder(self, ctx: _Ctx, locks: FlightLocks, ckey: str) -> CachedAnswer | None:
        """Another process is calling the provider for this cache key: wait (bounded by `state.coalesce_wait_s`
        and the call's deadline) for its answer to reach the shared cache. None if it gave up without one."""
        cache = self.cache
        if cache is None:
            return None
        loop = asyncio.get_running_loop()
        until = min(loop.time() + self.settings.state.coalesce_wait_s, ctx.total_deadline)
        pause = 0.02
        while loop.time() < until:
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 0.2)
            if (hit := cache.get(ckey)) is not None:
                return hit
            if not locks.held_elsewhere(ckey):
                return cache.get(ckey)
        return None

    async def _try_provider(
        self,
        ctx: _Ctx,
        provider: Provider,
        preq: ChatRequest,
        bkey: str,
        reservation: Reservation | None,
        ckey: str | None,
    ) -> AsyncIterator[RouterEvent]:
        """Up to `max_attempts` attempts on one provider; sets `ctx.outcome` and yields it when one answers."""
        if not provider.prepared and not await self._prepare(ctx, provider, preq, bkey, reservation):
            return
        loop = asyncio.get_running_loop()
        name = provider.name
        deadlines = ctx.deadlines
        if not preq.stream:  # the first event is the whole answer: only the total deadline applies
            t = ctx.deadlines.total_s
            deadlines = Deadlines(t, t, t, t)
        for attempt in range(self.settings.router.max_attempts):
            ctx.attempts += 1
            done: Done | None = None
            kept: list[TextDelta | ToolCall] | None = [] if ckey is not None else None
            produced: list[str] = []  # the answer so far, to count its tokens when the backend reports none
            try:
                async for ev in guarded(
                    provider.stream(preq), deadlines, ctx.total_deadline, provider=name,
                    first_token_seen=ctx.first_token_at is not None, await_open=provider.signals_open,
                ):
                    if isinstance(ev, Done):
                        done = ev
                        continue
                    if ctx.first_token_at is None:
                        ctx.first_token_at = loop.time()
                    if kept is not None:
                        kept.append(ev)
                    produced.append(ev.text if isinstance(ev, TextDelta) else f"{ev.name}{ev.arguments}")
                    yield ev
                if done is None:  # a provider bug: every stream must end with Done or raise
                    raise ProviderError(ErrorKind.TRUNCATED_STREAM, "stream ended without Done", provider=name,
                                        after_first_token=ctx.first_token_at is not None)
            except ProviderError as err:
                if await self._retry_after(ctx, provider, preq, bkey, reservation, err, attempt, produced):
                    continue
                return
            except BaseException:
                # Cancelled or closed by the caller (or a bug): free the trial slot and the reservation.
                self._breakers.release(bkey)
                self._settle(ctx, provider, preq, reservation, None, status="cancelled")
                raise
            yield await self._answered(ctx, provider, preq, bkey, reservation, ckey, done, kept, produced)
            return

    async def _prepare(
        self, ctx: _Ctx, provider: Provider, preq: ChatRequest, bkey: str, reservation: Reservation | None
    ) -> bool:
        """Start the provider (load a local model, build a client); False (and skipped) if it cannot start."""
        try:
            await asyncio.to_thread(provider.prepare)
        except Exception as exc:
            err = self._scrub(ProviderError(ErrorKind.BAD_REQUEST, f"could not start: {exc}", provider=provider.name,
                                            failover=True))
            ctx.errors.append(err)
            self._breakers.release(bkey)
            self._skip(ctx, provider.name, str(err))
            self._settle(ctx, provider, preq, reservation, None, status="unavailable")
            return False
        return True

    async def _retry_after(
        self,
        ctx: _Ctx,
        provider: Provider,
        preq: ChatRequest,
        bkey: str,
        reservation: Reservation | None,
        err: ProviderError,
        attempt: int,
        produced: list[str],
    ) -> bool:
        """After a failed attempt: True once the retry delay has passed, False to fail over; raises `err` when
        failover is not allowed (a non-failover error, or one after the first token)."""
        loop = asyncio.get_running_loop()
        policy = self.settings.router
        name = provider.name
        self._scrub(err)
        self._breakers.failure(bkey, err, time.monotonic())
        ctx.errors.append(err)
        mid_answer = ctx.first_token_at is not None or err.after_first_token
        if mid_answer or not err.failover:
            log.warning("%s failed%s: %s", name, " mid-answer" if mid_answer else "", err)
            spent = None
            if mid_answer and provider.kind not in FREE_KINDS:
                # The backend billed what it generated before the cut: settle counted tokens, so
                # that a run of cut streams cannot spend past the budget for free.
                usage = await self._count(provider, preq, produced)
                spent = Done(err.kind.label, usage, preq.model)
            self._settle(ctx, provider, preq, reservation, spent, status=err.kind.label,
                         estimated=spent is not None)
            raise err from None
        if err.retryable and attempt + 1 < policy.max_attempts:
            delay = retry_delay(err, attempt, policy.backoff_base_s, policy.backoff_max_s, self._rng)
            if delay <= policy.max_retry_wait_s and loop.time() + delay < ctx.total_deadline:
                log.info("%s: %s; retry %d in %.3fs", name, err, attempt + 2, delay)
                await asyncio.sleep(delay)
                return True
            why = "beyond max_retry_wait_s" if delay > policy.max_retry_wait_s else "past the deadline"
            log.info("%s: %s; the wait of %.1fs is %s, failing over", name, err, delay, why)
        else:
            log.info("%s: %s; failing over", name, err)
        self._skip(ctx, name, str(err), quiet=True)
        self._settle(ctx, provider, preq, reservation, None, status=err.kind.label)
        return False

    async def _answered(
        self,
        ctx: _Ctx,
        provider: Provider,
        preq: ChatRequest,
        bkey: str,
        reservation: Reservation | None,
        ckey: str | None,
        done: Done,
        kept: list[TextDelta | ToolCall] | None,
        produced: list[str],
    ) -> Outcome:
        """A complete answer: close the breaker, settle its cost, cache it; sets and returns `ctx.outcome`."""
        name = provider.name
        self._breakers.success(bkey)
        model = done.model or preq.model
        estimated = done.usage is None
        if estimated:
            log.info("%s reported no usage; settling with counted tokens", name)
            done = Done(done.finish_reason, await self._count(provider, preq, produced), done.model)
        cost = self._settle(ctx, provider, preq, reservation, done, status="ok", model=model,
                            estimated=estimated)
        if kept is not None and (cache := self.cache) is not None:
            cache.put(ckey or "", CachedAnswer(tuple(kept), done.finish_reason, done.usage or Usage(), model,
                                               name, provider.kind), shared=not ctx.private)
        now = asyncio.get_running_loop().time()
        ctx.outcome = Outcome(
            provider=name,
            kind=provider.kind,
            model=model,
            finish_reason=done.finish_reason,
            usage=done.usage or Usage(),
            cost=cost,
            cached=False,
            coalesced=False,
            attempts=ctx.attempts,
            latency_ms=(now - ctx.started) * 1000,
            first_token_ms=None if ctx.first_token_at is None else (ctx.first_token_at - ctx.started) * 1000,
            skipped=tuple(ctx.skipped),
            usage_estimated=estimated,
        )
        return ctx.outcome

    async def _replay(
        self, ctx: _Ctx, provider: Provider, preq: ChatRequest, hit: CachedAnswer
    ) -> AsyncIterator[RouterEvent]:
        loop = asyncio.get_running_loop()
        for ev in hit.events:
            if ctx.first_token_at is None:
                ctx.first_token_at = loop.time()
            yield ev
        cost = self._settle(ctx, provider, preq, None, None, status="ok", model=hit.model, cache_hit=True)
        now = loop.time()
        ctx.outcome = Outcome(
            provider=provider.name,
            kind=provider.kind,
            model=hit.model,
            finish_reason=hit.finish_reason,
            usage=hit.usage,
            cost=cost,
            cached=True,
            coalesced=False,
            attempts=0,
            latency_ms=(now - ctx.started) * 1000,
            first_token_ms=None if ctx.first_token_at is None else (ctx.first_token_at - ctx.started) * 1000,
            skipped=tuple(ctx.skipped),
        )
        yield ctx.outcome

    # -- helpers --------------------------------------------------------------------------------------------------
    async def _count(self, provider: Provider, preq: ChatRequest, produced: list[str]) -> Usage:
        """Prompt and output tokens counted with the project's token counter (in a worker thread: the first
        count of a process builds the encoding)."""
        usage = await asyncio.to_thread(count_usage, provider.kind, preq.model, preq.messages, "".join(produced))
        limit = preq.max_tokens or provider.settings.max_tokens
        if limit and usage.output_tokens > limit:  # no backend bills past the output limit it was given
            usage = dataclasses.replace(usage, output_tokens=limit)
        return usage

    def _skip(self, ctx: _Ctx, name: str, why: str, *, quiet: bool = False) -> None:
        line = f"{name}: {redact_text(why, self._known_keys())}"
        ctx.skipped.append(line)
        if not quiet:
            log.info("skipping %s", line)

    def _known_keys(self) -> list[str]:
        keys = []
        for name, ps in self.settings.providers.items():
            p = self._providers.get(name)
            env = (p.key_env if p is not None else ps.api_key_env)
            if env and (v := os.environ.get(env)):
                keys.append(v)
        return keys

    def _scrub(self, err: ProviderError) -> ProviderError:
        """Servers sometimes echo (part of) the key in error messages; nothing key-shaped leaves the router."""
        msg = redact_text(err.message, self._known_keys())
        if msg != err.message:
            err.message = msg
            err.args = (msg,)
        return err

    def _model_for(self, model: str | None, provider: Provider) -> str:
        if not model:
            return provider.model
        prefix, sep, rest = model.partition("/")
        if sep and (prefix in KIND_OF_PREFIX or prefix == provider.name):
            return rest if (prefix == provider.name or KIND_OF_PREFIX.get(prefix) == provider.kind) else provider.model
        guess = (
            "anthropic" if model.startswith("claude")
            else "openai" if model.startswith(("gpt-", "o1", "o3", "o4", "chatgpt"))
            else "gemini" if model.startswith("gemini")
            else None
        )
        return model if guess == provider.kind else provider.model

    def _provider_request(self, req: LLMRequest, provider: Provider) -> ChatRequest:
        messages = req.messages
        if provider.is_remote and self.settings.privacy.redact_secrets:
            messages, changed = redact_messages(messages, self._known_keys())
            if changed:
                log.info("redacted secrets in %d message(s) bound for %s", changed, provider.name)
        return ChatRequest(
            messages=messages,
            model=self._model_for(req.model, provider),
            max_tokens=req.max_tokens,
            temperature=req.temperature,
            params=req.params,
            suffix=req.suffix,
            stream=req.stream,
        )

    def _cache_key(self, req: LLMRequest, provider: Provider, preq: ChatRequest) -> str | None:
        if req.cache is False or not self.settings.cache.enabled:
            return None
        if is_sampled(preq.temperature) and not (req.cache or self.settings.cache.cache_sampled):
            return None
        effective = dataclasses.replace(
            preq,
            max_tokens=preq.max_tokens or provider.settings.max_tokens,
            params={**provider.settings.params, **preq.params},
        )
        return cache_key(provider.kind, provider.base_url, effective)

    def _flight_key(self, req: LLMRequest) -> str:
        doc = {
            "purpose": req.purpose,
            "chain": req.chain or self.settings.chain(req.purpose),
            "messages": req.messages,
            "model": req.model,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "params": req.params,
            "suffix": req.suffix,
            "stream": req.stream,
            "paths": list(req.source_paths),
            "cache": req.cache,
        }
        raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(raw.encode()).hexdigest()

    def _budget_active(self) -> bool:
        b = self.settings.budget
        return b.daily_usd is not None or b.monthly_usd is not None

    def _reserve(
        self, ctx: _Ctx, provider: Provider, preq: ChatRequest, bkey: str
    ) -> Reservation | Refusal | None:
        if not self._budget_active() or provider.kind in FREE_KINDS or (ledger := self.ledger) is None:
            return None
        chars = sum(len(m["content"]) if isinstance(m.get("content"), str) else len(json.dumps(m.get("content")))
                    for m in preq.messages)
        out = preq.max_tokens or provider.settings.max_tokens or 1024
        prompt = estimate_prompt_tokens(chars, len(preq.messages))
        estimate = price_usd(provider.kind, preq.model, Usage(input_tokens=prompt, output_tokens=out), self.catalog)
        if estimate is None:
            log.info("no price known for %s; its calls are recorded but not held against the budget", preq.model)
            estimate = 0.0
        b = self.settings.budget
        result = ledger.reserve(estimate, daily_usd=b.daily_usd, monthly_usd=b.monthly_usd)
        if isinstance(result, Refusal):
            self._breakers.release(bkey)
            if b.on_exceed == "refuse":
                raise BudgetExceeded(f"{provider.name} ({preq.model}): {result}")
            log.info("%s: %s; downgrading", provider.name, result)
        return result

    def _settle(
        self,
        ctx: _Ctx,
        provider: Provider,
        preq: ChatRequest,
        reservation: Reservation | None,
        done: Done | None,
        *,
        status: str,
        model: str | None = None,
        cache_hit: bool = False,
        estimated: bool = False,
    ) -> LazyCost:
        """Price the call and write it to the ledger (settling its reservation), off the event loop.
        `estimated`: the usage was counted here, not reported by the backend."""
        usage = (done.usage or Usage()) if done is not None and not cache_hit else Usage()
        model = model or preq.model
        if done is None or cache_hit:
            cost = LazyCost(value=0.0)
        else:
            kind, catalog = provider.kind, self.catalog
            cost = LazyCost(lambda: price_usd(kind, model, usage, catalog))
        ledger = self.ledger if (reservation is not None or self.settings.budget.ledger) else None
        if ledger is None:
            return cost
        record = {
            "purpose": ctx.request.purpose, "provider": provider.name, "kind": provider.kind, "model": model,
            "usage": usage, "status": status, "cache_hit": cache_hit, "estimated": estimated,
            "latency_ms": (asyncio.get_running_loop().time() - ctx.started) * 1000,
        }
        if self._writer is None:
            self._writer = LedgerWriter(ledger)
        self._writer.submit(reservation, record, cost)
        return cost

    async def flush(self) -> None:
        """Wait until every ledger write queued so far is on disk."""
        if self._writer is not None:
            await self._writer.flush()


def _as_follower(ev: Any) -> Any:
    return dataclasses.replace(ev, coalesced=True) if isinstance(ev, Outcome) else ev


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
