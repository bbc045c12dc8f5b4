"""Where the router keeps its files: the user's cache or data directory, or `$PROMPTLS_STATE_DIR` when set (tests
and sandboxes point it elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path


def state_file(name: str, kind: str) -> Path:
    """`name` in the user cache dir (`kind="cache"`: safe to delete) or data dir (`kind="data"`: history)."""
    override = os.environ.get("PROMPTLS_STATE_DIR")
    if override:
        return Path(override) / name
    from platformdirs import user_cache_dir, user_data_dir  # deferred: not needed for the server's start-up

    folder = user_cache_dir if kind == "cache" else user_data_dir
    return Path(folder("promptls", appauthor=False)) / name
