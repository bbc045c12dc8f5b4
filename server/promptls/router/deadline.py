"""Deadlines on a provider stream: the backend's answer (headers), the first token, idle time between chunks,
and the whole call.

The guard awaits each chunk under `asyncio.timeout_at`; on expiry the pending read is cancelled inside the
provider's generator, the generator is closed (which closes the HTTP response) and a `ProviderError(TIMEOUT)`
says which deadline passed, with its configured value. Cancellation by the caller takes the same path out, so
the stream is always closed. The provider's `Opened` event ends the connect window and is not passed on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from promptls.providers.base import Done, Opened
from promptls.providers.errors import ErrorKind, ProviderError
from promptls.router.settings import Deadlines


async def guarded(
    stream: AsyncIterator[Any],
    deadlines: Deadlines,
    total_deadline: float,
    *,
    provider: str,
    first_token_seen: bool = False,
    await_open: bool = False,
) -> AsyncIterator[Any]:
    """Yield from `stream` under the deadlines (absolute loop time for the total). With `await_open`, the
    provider yields `Opened` when its headers are in, and `connect_s` applies until then."""
    loop = asyncio.get_running_loop()
    first = first_token_seen
    opened = not await_open or first
    try:
        while True:
            now = loop.time()
            if not opened:
                window = deadlines.connect_s
            else:
                window = deadlines.idle_s if first else deadlines.first_token_s
            until = min(now + window, total_deadline)
            try:
                async with asyncio.timeout_at(until):
                    item = await anext(stream)
            except StopAsyncIteration:
                return
            except TimeoutError:
                retryable: bool | None = None
                if until >= total_deadline:
                    what = f"the total deadline ({deadlines.total_s:g}s) passed"
                elif not opened:
                    what = f"no response within {deadlines.connect_s:g}s (connect_s: connect and headers)"
                    retryable = False  # a host that did not answer: fail over rather than wait on it again
                elif first:
                    what = f"no chunk for {deadlines.idle_s:g}s (idle_s)"
                else:
                    what = f"no first token within {deadlines.first_token_s:g}s (first_token_s)"
                raise ProviderError(
                    ErrorKind.TIMEOUT, what, provider=provider, after_first_token=first, retryable=retryable
                ) from None
            if isinstance(item, Opened):
                opened = True
                continue
            if not first and not isinstance(item, Done):
                first = opened = True
            yield item
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
