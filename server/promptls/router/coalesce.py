"""Coalescing: identical concurrent requests share one provider call.

The first caller starts a flight: a task that pumps the routed stream into a buffer. Every caller with the
same key (the leader included) subscribes and reads the buffer from the start, then follows it live; the
error of the flight, if any, is raised to each of them. When the last subscriber leaves early (cancelled or
closed), the flight task is cancelled, which closes the provider stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any


class _Flight:
    def __init__(self, source: AsyncIterator[Any]) -> None:
        self.events: list[Any] = []
        self.error: BaseException | None = None
        self.done = False
        self.subscribers = 0
        self._changed = asyncio.Event()
        self.task = asyncio.ensure_future(self._pump(source))

    async def _pump(self, source: AsyncIterator[Any]) -> None:
        try:
            async for ev in source:
                self.events.append(ev)
                self._changed.set()
        except asyncio.CancelledError:
            self.error = asyncio.CancelledError()
            raise
        except BaseException as exc:  # handed to every subscriber
            self.error = exc
        finally:
            self.done = True
            self._changed.set()
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()

    async def follow(self) -> AsyncIterator[Any]:
        i = 0
        while True:
            while i < len(self.events):
                yield self.events[i]
                i += 1
            if self.done:
                if self.error is not None:
                    raise self.error
                return
            self._changed.clear()
            if i < len(self.events) or self.done:
                continue
            await self._changed.wait()


class Coalescer:
    def __init__(self) -> None:
        self._flights: dict[str, _Flight] = {}

    def in_flight(self, key: str) -> bool:
        return key in self._flights

    async def run(
        self, key: str, start: Callable[[], AsyncIterator[Any]], mark_follower: Callable[[Any], Any]
    ) -> AsyncIterator[Any]:
        """Yield the events of the flight for `key`, starting it if needed.

        `mark_follower` rewrites the events a follower sees (the last one says "coalesced")."""
        flight = self._flights.get(key)
        if flight is not None and flight.done:  # finished, its done-callback not run yet: not joinable
            flight = None
        follower = flight is not None
        if flight is None:
            flight = _Flight(start())
            self._flights[key] = flight
            flight.task.add_done_callback(lambda _t: self._forget(key, flight))
        flight.subscribers += 1
        finished = False
        try:
            async for ev in flight.follow():
                yield mark_follower(ev) if follower else ev
            finished = True
        finally:
            flight.subscribers -= 1
            if not finished and flight.subscribers == 0 and not flight.done:
                flight.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await flight.task

    def _forget(self, key: str, flight: _Flight) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
