"""pygls' protocol with the repairs promptls needs: every request gets an answer, the LSP lifecycle is enforced,
and internal errors reach the client as a plain sentence (the traceback goes to the log).

pygls 2.1 logs a request whose params fail to deserialise but never answers it; runs requests before `initialize`
(they fail with Python exception text) and a second `initialize` (which replaces the workspace, dropping the open
documents); silently drops requests after `shutdown`; and exits with `sys.exit` from inside a handler. Here:
- a request with bad params gets InvalidParams; a message that is no JSON-RPC object gets InvalidRequest;
- before `initialize`: requests get ServerNotInitialized (-32002), notifications are dropped, except `exit`;
- a second `initialize` and any request after `shutdown` get InvalidRequest;
- `exit` hands its code (0 after `shutdown`, else 1) to the transport (`lsp/transport.py`), which stops reading
  and returns it as the process exit code;
- an InternalError response says "internal error in <method>; see the server log" and carries no traceback; a
  failed notification handler is logged with its traceback and shown to the user without the exception text.

It is also the one place registered handlers are wrapped (`wrap_handler`: the scheduler makes handlers wait for
their document's analysis, the eval layer answers for case files) and where `$/cancelRequest` reaches work pygls
cannot cancel (`on_cancel`: pygls cancels a request only before its handler starts, and a command's handler runs
in a task of its own, which pygls never cancels).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import (
    FeatureNotificationError,
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcServerNotInitialized,
)
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

log = logging.getLogger(__name__)

_MAX_TRACKED = 10_000  # request ids awaiting a response, remembered for the error message's method name


class _Dropped(dict):
    """A message already dealt with (answered with an error, or a malformed notification): skipped."""


class RobustProtocol(LanguageServerProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialize_received = False
        self.exit_code: int | None = None
        # Set by the transport while it runs: called with the exit code when `exit` arrives.
        self.on_exit: Callable[[int], None] | None = None
        self._methods: dict[Any, str] = {}
        # Called with the id of each request the client cancels, before pygls' own (not started) cancellation.
        self.on_cancel: list[Callable[[Any], None]] = []

    def wrap_handler(self, method: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
        """Replace the handler registered for `method` (if any) with `make(handler)`; wrappers registered later
        run first."""
        handler = self.fm.features.get(method)
        if handler is not None:
            self.fm.features[method] = make(handler)

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        for hook in self.on_cancel:
            try:
                hook(msg_id)
            except Exception:
                log.exception("a cancel hook failed for request %r", msg_id)
        super()._handle_cancel_notification(msg_id)

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and "method" in data:
                err = exc if isinstance(exc, JsonRpcInvalidParams) else JsonRpcInvalidParams()
                log.warning("invalid params for %s (id %s): answered with an error", data.get("method"), data["id"])
                self._send_response(data["id"], error=err.to_response_error())
                return _Dropped()
            log.warning("dropped a malformed notification %s", data.get("method"))
            return _Dropped()

    def handle_message(self, message):
        if isinstance(message, _Dropped):
            return None
        if not hasattr(message, "jsonrpc"):
            return self._not_a_message(message)
        method = getattr(message, "method", None)
        is_request = method is not None and hasattr(message, "id")
        if message.jsonrpc != self.VERSION:
            if is_request:
                self._refuse(message.id, JsonRpcInvalidRequest(f"unsupported jsonrpc version {message.jsonrpc!r}"))
            return None
        if method is None:  # a response to one of our requests
            return super().handle_message(message)
        if not self.initialize_received:
            if method == lsp.INITIALIZE and is_request:
                self.initialize_received = True
            elif method != lsp.EXIT:
                if is_request:
                    self._refuse(message.id, JsonRpcServerNotInitialized(f"{method} before initialize"))
                else:
                    log.info("dropped %s: it came before initialize", method)
                return None
        elif method == lsp.INITIALIZE and is_request:
            self._refuse(message.id, JsonRpcInvalidRequest("the server is already initialized"))
            return None
        if self._shutdown and method != lsp.EXIT:
            if is_request:
                self._refuse(message.id, JsonRpcInvalidRequest(f"{method} after shutdown"))
            else:
                log.info("dropped %s: it came after shutdown", method)
            return None
        if is_request and len(self._methods) < _MAX_TRACKED:
            self._methods[message.id] = method
        return super().handle_message(message)

    def _not_a_message(self, message: Any) -> None:
        """Valid JSON that is no JSON-RPC 2.0 message (no `jsonrpc` member, an array, a scalar)."""
        rid = message.get("id") if isinstance(message, dict) else None
        if isinstance(message, dict) and "method" not in message:
            log.warning("dropped a message without jsonrpc or method")
            return
        if isinstance(rid, bool) or not isinstance(rid, (int, str)):
            rid = None
        log.warning("answered a message that is no JSON-RPC 2.0 object with InvalidRequest (id %r)", rid)
        self._send_data({"jsonrpc": self.VERSION, "id": rid,
                         "error": {"code": JsonRpcInvalidRequest.CODE, "message": "Invalid Request"}})

    def _refuse(self, msg_id: Any, error: JsonRpcException) -> None:
        log.warning("refused request %r: %s", msg_id, error.message)
        self._send_response(msg_id, error=error.to_response_error())

    def _send_response(self, msg_id, result=None, error=None):
        method = self._methods.pop(msg_id, None)
        if error is not None and error.code == JsonRpcInternalError.CODE:
            # The traceback was logged where the error was caught (pygls logs with exc_info); the client gets a
            # sentence, not Python exception text.
            error = lsp.ResponseError(code=error.code,
                                      message=f"internal error in {method or 'the request'}; see the server log")
        return super()._send_response(msg_id, result=result, error=error)

    def _check_handler_result(self, future):
        """A notification handler's failure: the traceback to the log, a plain sentence to the client (pygls would
        show "Error in server: <exception text>")."""
        if future.cancelled() or (exc := future.exception()) is None:
            return
        log.error("a notification handler failed", exc_info=(type(exc), exc, exc.__traceback__))
        self._server._report_server_error(
            JsonRpcInternalError("promptls: a notification could not be handled; see the server log"),
            FeatureNotificationError)

    @lsp_method(lsp.EXIT)
    def lsp_exit(self, *args):
        """Ends the session: 0 if `shutdown` came first, else 1 (LSP). The transport stops and returns the code;
        without one (a pygls start-up method), exit as pygls does."""
        if (user_handler := self.fm.features.get(lsp.EXIT)) is not None:
            yield user_handler, args, None
        self.exit_code = 0 if self._shutdown else 1
        log.info("exit requested (code %d)", self.exit_code)
        if self.on_exit is not None:
            self.on_exit(self.exit_code)
            return
        if self.writer is not None:
            self.writer.close()
        sys.exit(self.exit_code)


async def call_handler(handler: Callable[..., Any], params: Any) -> Any:
    """Run a wrapped handler, whether it is a plain function or a coroutine function."""
    result = handler(params)
    if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
        result = await result
    return result
