"""Deadlines on a provider stream: time to first token, idle time between chunks, and the whole call.

The guard awaits each chunk under `asyncio.timeout_at`; on expiry the pending read is cancelled inside the
provider's generator, the generator is closed (which closes the HTTP response) and a `ProviderError(TIMEOUT)`
says which deadline passed. Cancellation by the caller takes the same path out, so the stream is always closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

from ..providers.base import Done
from ..providers.errors import ErrorKind, ProviderError
from .settings import Deadlines

T = TypeVar("T")


async def guarded(
    stream: AsyncIterator[T],
    deadlines: Deadlines,
    total_deadline: float,
    *,
    provider: str,
    first_token_seen: bool = False,
) -> AsyncIterator[T]:
    """Yield from `stream` under the deadlines (absolute loop time for the total)."""
    loop = asyncio.get_running_loop()
    first = first_token_seen
    try:
        while True:
            now = loop.time()
            window = deadlines.idle_s if first else deadlines.first_token_s
            until = min(now + window, total_deadline)
            try:
                async with asyncio.timeout_at(until):
                    item = await anext(stream)
            except StopAsyncIteration:
                return
            except TimeoutError:
                if until >= total_deadline:
                    what = f"the total deadline ({deadlines.total_s:g}s) passed"
                elif first:
                    what = f"no chunk for {deadlines.idle_s:g}s"
                else:
                    what = f"no first token within {deadlines.first_token_s:g}s"
                raise ProviderError(
                    ErrorKind.TIMEOUT, what, provider=provider, after_first_token=first
                ) from None
            if not first and not isinstance(item, Done):
                first = True
            yield item
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
