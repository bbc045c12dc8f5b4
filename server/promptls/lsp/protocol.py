"""pygls' protocol with one repair: a request whose params fail to deserialise gets a JSON-RPC error response.

pygls 2.1 logs such a message and shows "Invalid Params" but never answers the request, so the client waits
forever on that id. We answer it with InvalidParams and drop the message, and the server keeps serving.
"""

from __future__ import annotations

import logging
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)


class _Dropped(dict):
    """A message already dealt with (answered with an error, or a malformed notification): skipped."""


class RobustProtocol(LanguageServerProtocol):
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
        return super().handle_message(message)
