"""Response cache: in memory (cachetools TTL) in front of SQLite in WAL mode (crash-safe, shared by processes).

The key is a hash of the full normalised request: provider kind, model, base URL and every parameter that can
change the output. Keys, API or otherwise, never enter it (only a SHA-256 of the request). A cached stream is
stored as its events and replays as a stream.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from promptls.providers.base import ChatRequest, TextDelta, ToolCall, Usage
from promptls.router.state_files import state_file

log = logging.getLogger("promptls.router.cache")

SCHEMA_VERSION = 1


def default_cache_path() -> Path:
    return state_file("responses.sqlite3", "cache")


def is_sampled(temperature: float | None) -> bool:
    """Unset temperature means the provider's default, which samples."""
    return temperature is None or temperature > 0


def cache_key(kind: str, base_url: str | None, req: ChatRequest) -> str:
    """SHA-256 of the canonical JSON of everything that changes the answer."""
    doc = {
        "v": SCHEMA_VERSION,
        "kind": kind,
        "base_url": (base_url or "").rstrip("/"),
        "model": req.model,
        "messages": req.messages,
        "max_tokens": req.max_tokens,
        "temperature": req.temperature,
        "params": req.params,
        "suffix": req.suffix,
    }
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    events: tuple[TextDelta | ToolCall, ...]
    finish_reason: str
    usage: Usage
    model: str
    provider: str
    kind: str

    def to_json(self) -> str:
        evs = [
            {"t": e.text} if isinstance(e, TextDelta) else {"id": e.id, "name": e.name, "args": e.arguments}
            for e in self.events
        ]
        return json.dumps({
            "events": evs,
            "finish_reason": self.finish_reason,
            "usage": self.usage.to_dict(),
            "model": self.model,
            "provider": self.provider,
            "kind": self.kind,
        })

    @classmethod
    def from_json(cls, raw: str) -> CachedAnswer:
        d = json.loads(raw)
        events = tuple(
            TextDelta(e["t"]) if "t" in e else ToolCall(e["id"], e["name"], e["args"]) for e in d["events"]
        )
        return cls(events, d["finish_reason"], Usage(**d["usage"]), d["model"], d["provider"], d["kind"])


class ResponseCache:
    """Two tiers. `path=None` with `persistent=True` uses the user cache dir; `persistent=False` is memory only."""

    def __init__(self, *, memory_entries: int = 512, ttl_s: float = 7 * 86400.0, path: str | Path | None = None,
                 persistent: bool = True) -> None:
        from cachetools import TTLCache  # deferred: the server imports the router at start-up, caches later

        self.ttl_s = ttl_s
        self._mem: TTLCache[str, CachedAnswer] = TTLCache(maxsize=max(1, memory_entries), ttl=ttl_s)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self.path: Path | None = None
        if persistent:
            self.path = Path(path) if path else default_cache_path()
            try:
                self._db = _open(self.path)
            except (sqlite3.Error, OSError) as exc:
                log.warning("response cache: persistent tier disabled (%s: %s)", type(exc).__name__, exc)
                self._db = None

    def get(self, key: str) -> CachedAnswer | None:
        hit = self._mem.get(key)
        if hit is not None or self._db is None:
            return hit
        try:
            with self._lock:
                row = self._db.execute(
                    "SELECT value FROM responses WHERE key = ? AND expires > ?", (key, time.time())
                ).fetchone()
        except sqlite3.Error as exc:
            log.warning("response cache read failed: %s", exc)
            return None
        if row is None:
            return None
        try:
            answer = CachedAnswer.from_json(row[0])
        except (ValueError, KeyError, TypeError):
            return None
        self._mem[key] = answer
        return answer

    def put(self, key: str, answer: CachedAnswer, *, shared: bool = True) -> None:
        """`shared=False`: the answer came from a prompt with excluded files (a shared tier must not get it)."""
        self._mem[key] = answer
        if self._db is None:
            return
        now = time.time()
        try:
            with self._lock, self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO responses(key, created, expires, value) VALUES (?, ?, ?, ?)",
                    (key, now, now + self.ttl_s, answer.to_json()),
                )
        except sqlite3.Error as exc:
            log.warning("response cache write failed: %s", exc)

    def purge_expired(self) -> int:
        if self._db is None:
            return 0
        with self._lock, self._db:
            return self._db.execute("DELETE FROM responses WHERE expires <= ?", (time.time(),)).rowcount

    def clear(self) -> None:
        self._mem.clear()
        if self._db is not None:
            with self._lock, self._db:
                self._db.execute("DELETE FROM responses")

    def close(self) -> None:
        if self._db is not None:
            with self._lock:
                self._db.close()
            self._db = None


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=2.0, check_same_thread=False, isolation_level=None)
    # WAL: readers never block the writer and a crash mid-write leaves the last committed state;
    # synchronous=NORMAL is durable up to the last checkpoint, which is what a cache needs.
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=2000")
    db.execute(
        "CREATE TABLE IF NOT EXISTS responses("
        "key TEXT PRIMARY KEY, created REAL NOT NULL, expires REAL NOT NULL, value TEXT NOT NULL)"
    )
    db.isolation_level = ""  # back to implicit transactions for `with db:` blocks
    return db
