"""Log records that are not worth a line on stderr: editors show every stderr line as an error (VS Code's Output
channel prints them as `[error]`), so routine protocol chatter is demoted to debug."""

from __future__ import annotations

import logging

# A client may cancel a request that has already been answered: pygls then warns about an "unknown message id",
# several times in a normal session. Nothing is wrong, so it is a debug record.
_ROUTINE = ("Cancel notification for unknown message id",)


class DemoteRoutine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(_ROUTINE):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


def install() -> None:
    """Idempotent: attach the filter to pygls's JSON-RPC logger."""
    logger = logging.getLogger("pygls.protocol.json_rpc")
    if not any(isinstance(f, DemoteRoutine) for f in logger.filters):
        logger.addFilter(DemoteRoutine())
