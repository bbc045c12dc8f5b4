"""Online exact token counts in the editor (`[tokens] online = true`): asked on save, never per keystroke.

On `textDocument/didSave` the saved text is analysed once with a counter that may send a (cached, throttled)
request to the provider's counting endpoint; then the document is re-analysed through the scheduler as usual.
Every analysis (keystrokes included) gets a cache-only lookup, so an unchanged prompt shows its provider count and
an edited one its labelled estimate until the next save. Why counts stayed estimates is logged once per distinct
reason as an info-level `window/logMessage`, never as a diagnostic per file.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types as lsp

log = logging.getLogger(__name__)


def _counter(ls: Any) -> Any:
    state = ls.state
    counter = getattr(ls, "_online_counter", None)
    if counter is None or getattr(ls, "_online_raw", None) is not state.config.raw:
        from promptls.router.counting import OnlineCounter
        from promptls.router.settings import SECTION as ROUTER

        if counter is not None:
            counter.close()
        counter = OnlineCounter(state.config.section(ROUTER))
        ls._online_counter, ls._online_raw = counter, state.config.raw
        state.online_lookup = counter.engine_hook(network=False)
    return counter


async def on_save(ls: Any, uri: str) -> None:
    """Count the saved document online (off the event loop), then have the scheduler re-analyse it."""
    if not ls.state.config.tokens_online:
        ls.state.online_lookup = None
        ls.schedule(uri)
        return
    td = ls.workspace.text_documents.get(uri)
    if td is not None and ls.kind_of(uri) == "prompt":
        from promptls.analysis.engine import analyze

        counter = _counter(ls)
        text, path, state = td.source, ls.path_of(uri), ls.state
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: analyze(path, text, state.config, partials=state.partial_lookup, kind="prompt",
                                      online_count=counter.engine_hook()))
        except Exception:
            log.exception("online token count failed for %s", uri)
        line = counter.summary()
        reasons = line.split("kept the offline estimate", 1)[-1] if line and "kept the offline" in line else None
        if reasons and reasons != getattr(ls, "_online_said", None):
            ls._online_said = reasons
            ls.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Info, message=f"promptls: {line}"))
    ls.schedule(uri)
