"""State backends: where the response cache, the usage ledger, the budgets and the in-flight locks live.

`[state] backend = "sqlite"` (the default) is one machine's SQLite files (`cache.ResponseCache`, `ledger.Ledger`).
`backend = "redis"` shares them through a Redis server (`state_redis`), with the same SQLite files kept as the
local tier and the fallback when Redis is away. The router only sees the interfaces below; redis-py is imported
when a Redis backend is first opened, never at start-up.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from promptls.router.cache import ResponseCache
    from promptls.router.ledger import Ledger
    from promptls.router.settings import RouterSettings


class FlightLocks(Protocol):
    """Cross-process coalescing: who calls the provider for a cache key while the others wait for its answer."""

    def acquire(self, key: str) -> str | None:
        """A token if this process now holds the lock of `key`; None if another does (or locks are off)."""

    def held_elsewhere(self, key: str) -> bool:
        """Whether another process still holds the lock of `key`."""

    def release(self, key: str, token: str) -> None:
        """Drop the lock, only if `token` still owns it."""


class StateBackend(Protocol):
    name: str

    def open_cache(self) -> ResponseCache: ...

    def open_ledger(self) -> Ledger: ...

    def locks(self) -> FlightLocks | None: ...

    def close(self) -> None: ...


class SQLiteState:
    """One machine's files; locks are not needed (the in-process Coalescer covers one process)."""

    name = "sqlite"

    def __init__(self, settings: RouterSettings) -> None:
        self.settings = settings

    def open_cache(self) -> ResponseCache:
        from promptls.router.cache import ResponseCache  # deferred: opened on the first routed call

        c = self.settings.cache
        return ResponseCache(memory_entries=c.memory_entries, ttl_s=c.ttl_s, path=c.path, persistent=c.persistent)

    def open_ledger(self) -> Ledger:
        from promptls.router.ledger import Ledger  # deferred: opened on the first routed call

        return Ledger(self.settings.budget.ledger_path)

    def locks(self) -> FlightLocks | None:
        return None

    def close(self) -> None:
        pass


def open_state(settings: RouterSettings, root: Path | None = None) -> StateBackend:
    if settings.state.backend == "redis":
        from promptls.router.state_redis import RedisState  # only a team configuration pays for it

        return RedisState(settings, namespace(settings.state.namespace, root))
    return SQLiteState(settings)


def namespace(configured: str | None, root: Path | None = None) -> str:
    """`promptls:<name>:`. Without a configured name: a hash of the project's git origin URL (the same on every
    clone of it), else of its root folder (the nearest folder above the working directory with a `.git`,
    `promptls.toml` or `pyproject.toml`)."""
    if configured:
        return f"promptls:{configured}:"
    start = (root or Path.cwd()).resolve()
    found = next((d for d in (start, *start.parents)
                  if any((d / n).exists() for n in (".git", "promptls.toml", "pyproject.toml"))), start)
    ident = str(found)
    git_config = found / ".git" / "config"
    try:
        text = git_config.read_text(errors="replace") if git_config.is_file() else ""
    except OSError:
        text = ""
    m = re.search(r'\[remote "origin"\][^\[]*?url\s*=\s*(\S+)', text)
    if m:
        ident = "git:" + m.group(1).removesuffix(".git")
    return f"promptls:{hashlib.sha256(ident.encode()).hexdigest()[:16]}:"
