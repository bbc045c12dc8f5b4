"""pygls's "Cancel notification for unknown message id" warning is routine: demoted, it no longer reaches stderr
(which editors show as errors), while other warnings still do."""

from __future__ import annotations

import logging

from promptls.lsp import log_filters


def test_routine_cancel_warning_is_demoted(caplog) -> None:
    log_filters.install()
    log_filters.install()  # idempotent
    logger = logging.getLogger("pygls.protocol.json_rpc")
    assert sum(isinstance(f, log_filters.DemoteRoutine) for f in logger.filters) == 1
    logging.getLogger().setLevel(logging.WARNING)
    with caplog.at_level(logging.WARNING):
        logger.warning('Cancel notification for unknown message id "%s"', 7)
        logger.warning("Ignoring notification for unknown method %r", "x/y")
    assert [r.getMessage() for r in caplog.records] == ["Ignoring notification for unknown method 'x/y'"]
