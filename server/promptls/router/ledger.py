"""The usage ledger (SQLite, WAL) and budget reservations.

One row per routed call: day, provider, model, normalised tokens, cost, cache hit, status, and whether the tokens
were counted by promptls because the backend reported none (`estimated`; files made before that column get it
added on open, existing rows 0). Budgets reserve an
estimate before a call and settle the actual cost after it, inside `BEGIN IMMEDIATE` transactions, so that
concurrent calls (in this process or another: the CLI and the server share the file) cannot overshoot.
Reservations older than an hour are ignored: they belong to a process that died before settling.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from promptls.providers.base import Usage
from promptls.router.state_files import state_file

STALE_RESERVATION_S = 3600.0


def default_ledger_path() -> Path:
    return state_file("ledger.sqlite3", "data")


def _periods(ts: float) -> tuple[str, str]:
    d = datetime.fromtimestamp(ts)
    return d.strftime("%Y-%m-%d"), d.strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class Reservation:
    id: int
    amount_usd: float


@dataclass(frozen=True, slots=True)
class Refusal:
    period: str  # "daily" | "monthly"
    limit_usd: float
    spent_usd: float
    reserved_usd: float
    needed_usd: float

    def __str__(self) -> str:
        return (
            f"{self.period} budget of ${self.limit_usd:.4f} would be exceeded: spent ${self.spent_usd:.4f}, "
            f"in flight ${self.reserved_usd:.4f}, this call up to ${self.needed_usd:.4f}"
        )


class Ledger:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_ledger_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS calls(
                id INTEGER PRIMARY KEY, ts REAL NOT NULL, day TEXT NOT NULL, month TEXT NOT NULL,
                purpose TEXT, provider TEXT, kind TEXT, model TEXT,
                input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
                cached_input_tokens INTEGER NOT NULL DEFAULT 0, cache_write_tokens INTEGER NOT NULL DEFAULT 0,
                cost_usd REAL NOT NULL DEFAULT 0, cost_known INTEGER NOT NULL DEFAULT 1,
                cache_hit INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'ok', latency_ms REAL);
            CREATE INDEX IF NOT EXISTS calls_day ON calls(day);
            CREATE INDEX IF NOT EXISTS calls_month ON calls(month);
            CREATE TABLE IF NOT EXISTS reservations(
                id INTEGER PRIMARY KEY, ts REAL NOT NULL, day TEXT NOT NULL, month TEXT NOT NULL,
                amount_usd REAL NOT NULL);
            """
        )
        self._migrate()

    def _migrate(self) -> None:
        """Bring a ledger file written by an older promptls up to this schema."""
        with self._lock:
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(calls)")}
            if "estimated" not in columns:
                self._db.execute("ALTER TABLE calls ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0")

    # -- budgets --------------------------------------------------------------------------------------------------
    def reserve(
        self, amount_usd: float, *, daily_usd: float | None, monthly_usd: float | None
    ) -> Reservation | Refusal:
        now = time.time()
        day, month = _periods(now)
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                for period, limit, column, value in (
                    ("daily", daily_usd, "day", day),
                    ("monthly", monthly_usd, "month", month),
                ):
                    if limit is None:
                        continue
                    spent = db.execute(
                        f"SELECT COALESCE(SUM(cost_usd), 0) FROM calls WHERE {column} = ?", (value,)
                    ).fetchone()[0]
                    held = db.execute(
                        f"SELECT COALESCE(SUM(amount_usd), 0) FROM reservations WHERE {column} = ? AND ts > ?",
                        (value, now - STALE_RESERVATION_S),
                    ).fetchone()[0]
                    if spent + held + amount_usd > limit + 1e-12:
                        db.execute("ROLLBACK")
                        return Refusal(period, limit, spent, held, amount_usd)
                cur = db.execute(
                    "INSERT INTO reservations(ts, day, month, amount_usd) VALUES (?, ?, ?, ?)",
                    (now, day, month, amount_usd),
                )
                db.execute("COMMIT")
                return Reservation(int(cur.lastrowid or 0), amount_usd)
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def settle(self, reservation: Reservation | None, **record: Any) -> None:
        """Drop the reservation and write the call, in one transaction."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                if reservation is not None:
                    db.execute("DELETE FROM reservations WHERE id = ?", (reservation.id,))
                if record:
                    self._insert(record)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def record(self, **record: Any) -> None:
        self.settle(None, **record)

    def _insert(self, r: dict[str, Any]) -> None:
        ts = r.get("ts") or time.time()
        day, month = _periods(ts)
        usage: Usage = r.get("usage") or Usage()
        cost = r.get("cost_usd")
        self._db.execute(
            "INSERT INTO calls(ts, day, month, purpose, provider, kind, model, input_tokens, output_tokens, "
            "cached_input_tokens, cache_write_tokens, cost_usd, cost_known, cache_hit, status, latency_ms, "
            "estimated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ts, day, month, r.get("purpose"), r.get("provider"), r.get("kind"), r.get("model"),
                usage.input_tokens, usage.output_tokens, usage.cached_input_tokens, usage.cache_write_tokens,
                float(cost or 0.0), 0 if cost is None else 1, 1 if r.get("cache_hit") else 0,
                r.get("status", "ok"), r.get("latency_ms"), 1 if r.get("estimated") else 0,
            ),
        )

    # -- reading --------------------------------------------------------------------------------------------------
    def spent(self, *, day: str | None = None, month: str | None = None) -> float:
        col, val = ("day", day) if day else ("month", month)
        with self._lock:
            return float(
                self._db.execute(f"SELECT COALESCE(SUM(cost_usd), 0) FROM calls WHERE {col} = ?", (val,)).fetchone()[0]
            )

    def outstanding(self) -> float:
        with self._lock:
            return float(
                self._db.execute(
                    "SELECT COALESCE(SUM(amount_usd), 0) FROM reservations WHERE ts > ?",
                    (time.time() - STALE_RESERVATION_S,),
                ).fetchone()[0]
            )

    def summary(self, since: str | None = None) -> list[dict[str, Any]]:
        """Per day, provider and model: calls, cache hits, tokens, cost (unknown-price calls counted apart)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT day, provider, model, COUNT(*), SUM(cache_hit), SUM(status != 'ok'), SUM(input_tokens), "
                "SUM(cached_input_tokens), SUM(cache_write_tokens), SUM(output_tokens), SUM(cost_usd), "
                "SUM(cost_known = 0), SUM(estimated) FROM calls WHERE day >= ? GROUP BY day, provider, model "
                "ORDER BY day, provider, model",
                (since or "0000-00-00",),
            ).fetchall()
        keys = ("day", "provider", "model", "calls", "cache_hits", "errors", "input_tokens", "cached_input_tokens",
                "cache_write_tokens", "output_tokens", "cost_usd", "unpriced_calls", "estimated_calls")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class LedgerWriter:
    """Batches ledger writes off the event loop.

    A routed call only appends its record (microseconds); a single worker thread prices and writes the batch
    every `interval_s`, in one transaction. Handing every call to a thread would cost a thread wake-up and a
    GIL hand-over per call, which on a busy machine is most of a millisecond. Reservations stay held until
    their batch is written, which can only make budgets stricter, never looser.
    """

    def __init__(self, ledger: Ledger, interval_s: float = 0.25) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.ledger = ledger
        self.interval_s = interval_s
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="promptls-ledger")
        self._batch: list[tuple[Reservation | None, dict[str, Any], Any]] = []
        self._timer: Any = None
        self._inflight: set[Any] = set()

    def submit(self, reservation: Reservation | None, record: dict[str, Any], cost: Any) -> None:
        """Queue one call (`cost` has a `get()` that prices it). Must be called on the event loop."""
        import asyncio

        self._batch.append((reservation, record, cost))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.interval_s, self._kick)

    def _kick(self) -> None:
        self._timer = None
        batch, self._batch = self._batch, []
        if batch:
            fut = self._pool.submit(self._write, batch)
            self._inflight.add(fut)
            fut.add_done_callback(self._inflight.discard)

    def _write(self, batch: list[tuple[Reservation | None, dict[str, Any], Any]]) -> None:
        import logging

        for reservation, record, cost in batch:
            try:
                self.ledger.settle(reservation, cost_usd=cost.get(), **record)
            except Exception as exc:  # the answer matters more than its bookkeeping
                logging.getLogger("promptls.router").warning("ledger write failed: %s", exc)

    async def flush(self) -> None:
        """Write everything queued so far and wait for it."""
        import asyncio

        if self._timer is not None:
            self._timer.cancel()
        self._kick()
        pending = list(self._inflight)
        if pending:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in pending), return_exceptions=True)

    async def aclose(self) -> None:
        await self.flush()
        self._pool.shutdown(wait=True)


SERIES = (("day", "day"), ("provider", "provider"), ("model", "model"))


def usage_series(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Ledger rows summed per day, per provider and per model: `{"day": [{"key", "cost_usd", "calls",
    "unpriced_calls"}...], ...}`, days in order, providers and models by spend (largest first)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, col in SERIES:
        acc: dict[str, dict[str, Any]] = {}
        for r in rows:
            key = str(r.get(col))
            a = acc.setdefault(key, {"key": key, "cost_usd": 0.0, "calls": 0, "unpriced_calls": 0})
            a["cost_usd"] += float(r.get("cost_usd") or 0.0)
            a["calls"] += int(r.get("calls") or 0)
            a["unpriced_calls"] += int(r.get("unpriced_calls") or 0)
        items = list(acc.values())
        items.sort(key=(lambda a: a["key"]) if name == "day" else (lambda a: (-a["cost_usd"], a["key"])))
        out[name] = items
    return out
