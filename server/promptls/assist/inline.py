"""Inline completion: debounce, supersede/cancel, stream reuse, prefix cache, FIM vs chat, post-filtering.

Per document one request is current: a newer request supersedes the older one, which answers empty at once.
A provider stream (a "flight") lives apart from the requests waiting on it: a request whose text continues what
the running stream is producing joins it instead of starting another call, and the stream is cancelled (its
HTTP connection closed by the router) as soon as no request waits on it any more, e.g. after `$/cancelRequest`.
Finished suggestions go to the prefix cache, which answers backspace and re-typing without a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from promptls.assist.context import RecentEdits, build_context
from promptls.assist.errors import explain_failure
from promptls.assist.postfilter import postfilter, strip_fences, wants_multiline
from promptls.assist.prefix_cache import PrefixCache
from promptls.assist.prompts import chat_completion_messages, fim_messages
from promptls.assist.service import Assist
from promptls.providers.base import TextDelta
from promptls.providers.errors import ProviderError, RouterError
from promptls.router import LLMRequest

log = logging.getLogger("promptls.assist")


@dataclass(slots=True)
class InlineQuery:
    key: str  # the document (its URI)
    path: str
    language: str
    prefix: str  # the whole text before the cursor
    suffix: str  # the whole text after the cursor
    invoked: bool = False  # explicitly asked for: no debounce

    @property
    def line_prefix(self) -> str:
        return self.prefix[self.prefix.rfind("\n") + 1:]

    @property
    def line_suffix(self) -> str:
        end = self.suffix.find("\n")
        return self.suffix if end < 0 else self.suffix[:end]

    @property
    def prev_line(self) -> str:
        end = self.prefix.rfind("\n")
        if end < 0:
            return ""
        return self.prefix[self.prefix.rfind("\n", 0, end) + 1:end]


@dataclass(eq=False)
class _Flight:
    query: InlineQuery
    multiline: bool
    task: asyncio.Task[str | None] | None = None
    raw: list[str] = field(default_factory=list)
    waiters: int = 0

    def text(self) -> str:
        return "".join(self.raw)


class InlineEngine:
    def __init__(self, assist: Assist, open_docs: Callable[[], dict[str, str]] | None = None) -> None:
        self.assist = assist
        self.open_docs = open_docs or dict
        self.cache = PrefixCache(assist.settings.prefix_cache_entries)
        self.recent = RecentEdits()
        self._current: dict[str, asyncio.Event] = {}
        self._flights: dict[str, _Flight] = {}
        self.flights_started = 0
        self.last_error: str | None = None
        self.errors_seen = 0
        self._gaps: deque[float] = deque(maxlen=16)  # recent gaps between requests while typing (s)
        self._last_request_at: float | None = None

    def debounce_s(self) -> float:
        """The configured debounce, stretched to the typing rhythm: a request fires only after a gap longer
        than most of the user's recent key gaps, i.e. when they pause."""
        s = self.assist.settings
        base = s.debounce_ms / 1000
        if base <= 0 or not s.adaptive_debounce or len(self._gaps) < 4:
            return base
        gaps = sorted(self._gaps)
        p80 = gaps[min(len(gaps) - 1, int(0.8 * len(gaps)))]
        return min(max(base, 1.25 * p80), max(base, s.debounce_max_ms / 1000))

    def _note_request(self) -> None:
        now = time.monotonic()
        if self._last_request_at is not None:
            gap = now - self._last_request_at
            if gap < 1.0:  # longer gaps are pauses, not typing rhythm
                self._gaps.append(gap)
        self._last_request_at = now

    async def complete(self, q: InlineQuery) -> str | None:
        """The suggestion for `q`, or None (superseded, nothing useful, or every provider failed)."""
        self.cache.max_entries = self.assist.settings.prefix_cache_entries
        self.recent.note(q.path, q.prefix.count("\n"))
        if not q.invoked:
            self._note_request()
        older = self._current.get(q.key)
        if older is not None:
            older.set()
        mine = asyncio.Event()
        self._current[q.key] = mine
        try:
            hit = self.cache.get(q.key, q.prefix, q.suffix)
            if hit is not None:
                return hit
            flight = self._flights.get(q.key)
            if flight is not None and flight.task is not None and not flight.task.done():
                if self._continues(flight, q):
                    answer, finished = await self._join(flight, q, mine)
                    if answer is not None or not finished or mine.is_set():
                        return answer
                else:
                    flight.task.cancel()  # the user typed something else: that answer is no longer wanted
            debounce = self.debounce_s()
            if not q.invoked and debounce > 0 and await _superseded_within(mine, debounce):
                return None
            flight = self._start(q)
            answer, _ = await self._join(flight, q, mine)
            return answer
        finally:
            if self._current.get(q.key) is mine:
                del self._current[q.key]

    # -- flights --------------------------------------------------------------------------------------------
    def _continues(self, flight: _Flight, q: InlineQuery) -> bool:
        fq = flight.query
        if q.suffix != fq.suffix or not q.prefix.startswith(fq.prefix):
            return False
        typed = q.prefix[len(fq.prefix):]
        so_far = flight.text().lstrip("\n") if not fq.line_prefix.strip() else flight.text()
        return so_far.startswith(typed) or typed.startswith(so_far)

    def _start(self, q: InlineQuery) -> _Flight:
        multiline = wants_multiline(q.line_prefix, q.line_suffix, q.prev_line)
        flight = _Flight(q, multiline)
        flight.task = asyncio.ensure_future(self._run(flight))
        self._flights[q.key] = flight
        self.flights_started += 1
        return flight

    async def _join(self, flight: _Flight, q: InlineQuery, mine: asyncio.Event) -> tuple[str | None, bool]:
        """Wait for the flight (or until superseded); (answer for q, whether the flight finished)."""
        assert flight.task is not None
        flight.waiters += 1
        sup = asyncio.ensure_future(mine.wait())
        try:
            done, _ = await asyncio.wait({flight.task, sup}, return_when=asyncio.FIRST_COMPLETED)
            if flight.task not in done:
                return None, False
            if flight.task.cancelled() or flight.task.exception() is not None:
                return None, True
            return self.cache.get(q.key, q.prefix, q.suffix), True
        finally:
            sup.cancel()
            flight.waiters -= 1
            if flight.waiters <= 0 and not flight.task.done():
                flight.task.cancel()  # nobody waits for it: close the provider stream now
            if self._flights.get(q.key) is flight and flight.task.done():
                del self._flights[q.key]

    async def _run(self, flight: _Flight) -> str | None:
        q = flight.query
        a = self.assist
        s = a.settings
        rs = a.router_settings
        assert rs is not None
        ctx = build_context(path=q.path, prefix=q.prefix, suffix=q.suffix, open_docs=self.open_docs(),
                            recent=self.recent.items(), budget=s.context_tokens, prefix_share=s.prefix_share,
                            snippet_share=s.snippet_share, count=a.count, privacy_excludes=rs.privacy.exclude)
        max_tokens = s.max_tokens_multi if flight.multiline else s.max_tokens_single
        failures: list[BaseException] = []
        finished = False
        for fim, names in a.groups("completion"):
            if fim:
                messages, suffix = fim_messages(ctx.prefix), ctx.suffix
            else:
                messages = chat_completion_messages(q.path, q.language, ctx.prefix, ctx.suffix, ctx.snippets,
                                                    flight.multiline)
                suffix = None
            req = LLMRequest(purpose="completion", messages=messages, suffix=suffix, max_tokens=max_tokens,
                             temperature=0.0, chain=names,
                             source_paths=[q.path, *dict.fromkeys(sn.path for sn in ctx.snippets)])
            flight.raw.clear()
            try:
                async with contextlib.aclosing(a.stream(req)) as events:
                    async for ev in events:
                        if isinstance(ev, TextDelta):
                            flight.raw.append(ev.text)
                            if _enough(flight.text(), flight.multiline, s.max_lines):
                                break  # closing the stream stops the provider: we have what we show
                finished = True
                break
            except (RouterError, ProviderError) as exc:
                failures.append(exc)
                continue
        if not finished:
            if failures:
                self.last_error = explain_failure(failures[-1], "completion")
                self.errors_seen += 1
                log.info("%s", self.last_error)
            return None
        self.last_error = None
        out = postfilter(flight.text(), line_prefix=q.line_prefix, line_suffix=q.line_suffix,
                         prev_line=q.prev_line, suffix=q.suffix, multiline=flight.multiline, max_lines=s.max_lines)
        if out:
            self.cache.put(q.key, q.prefix, q.suffix, out)
        return out


def _enough(raw: str, multiline: bool, max_lines: int) -> bool:
    text = strip_fences(raw) if raw.lstrip().startswith("```") else raw
    body = text.lstrip("\n")
    if not multiline:
        return "\n" in body
    return body.count("\n") > max_lines


async def _superseded_within(event: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), seconds)
        return True
    except TimeoutError:
        return False
