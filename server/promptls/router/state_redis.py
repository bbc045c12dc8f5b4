"""Team state on Redis: the shared response cache, budgets, ledger and in-flight locks (redis-py, imported lazily).

Keys (all under the project's namespace `promptls:<ns>:`; values never hold a key, a secret or a prompt):
  c:<sha256>                    cached answer (JSON of its events and usage), with the cache TTL (PX)
  lock:<sha256>                 the process calling the provider for that cache key (SET NX PX, token-checked DEL)
  b:spent:d:<day> / b:spent:m:<month>  settled cost in nano-USD (integers: no float drift between machines)
  b:held:d:<day>  / b:held:m:<month>   reserved, not yet settled, in nano-USD
  b:res (hash) + b:resz (zset)  the reservations in flight (amount, the held keys they count in; by time)
  calls (list)                  one JSON ledger entry per call: day, provider, model, tokens, cost, status
  synced:<entry id>             marks a ledger entry applied, so a replay after a lost reply counts it once

Budgets: `RESERVE` and `SETTLE` are Lua scripts (EVALSHA, loaded again on NOSCRIPT by redis-py's Script). Redis
runs a script to its end before any other command, so each check-and-hold is one indivisible step: whatever the
interleaving of processes, a reservation is granted only if spent + held + it <= limit at that instant, and held
only shrinks when the same script moves an amount from held to spent. Hence the sum of granted, unsettled
reservations plus settled costs never passes the limit (a call's actual cost above its reservation is the one
way past it, as with SQLite). Reservations older than an hour (a process that died) are released by RESERVE.

Faults: every command has the socket timeout `state.timeout_s` and no client-side retries. On the first failure
the router logs ONE warning naming Redis and works on this machine's SQLite files until Redis answers again
(tried at most every `state.retry_s`):
  - cache: reads and writes go to the local tier only;
  - budgets: a call reserves locally against the last totals Redis reported (spent + held, for the day and the
    month) plus what this process spent and holds since, so that a lone machine stays within the budget;
  - ledger: each call is written to the local SQLite ledger and to an outbox table beside it.
"Reconcile", when Redis answers again (or at the next start): every outbox entry is applied with SETTLE (its
cost added to the shared spent counters, its entry appended to `calls`, a Redis reservation it held released),
exactly once thanks to `synced:<id>`, oldest first; then the local book is cleared, and the local reservations of
calls still in flight become Redis reservations (no check: they were granted), released when those calls settle.
If the reconciled totals now exceed a budget (several machines spent while apart), a warning says by how much;
the next reservations refuse.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from promptls.core.secrets import redact_text
from promptls.providers.base import Usage
from promptls.router.cache import CachedAnswer, ResponseCache
from promptls.router.ledger import STALE_RESERVATION_S, Ledger, Refusal, Reservation

if TYPE_CHECKING:
    from promptls.router.settings import RouterSettings, StateSettings

log = logging.getLogger("promptls.router.state")
T = TypeVar("T")
NANO = 1_000_000_000
COUNTER_TTL_S = 40 * 86400  # a month's counters outlive the month
SYNCED_TTL_S = 14 * 86400


class Unavailable(Exception):
    """Redis did not answer (or is in its retry pause): use the local state."""


RESERVE = """
local stale = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', ARGV[5], 'LIMIT', 0, 100)
for _, sid in ipairs(stale) do
  local rec = redis.call('HGET', KEYS[5], sid)
  if rec then
    local amt, hd, hm = string.match(rec, '^(%d+)|([^|]*)|(.*)$')
    redis.call('DECRBY', hd, amt)
    redis.call('DECRBY', hm, amt)
    redis.call('HDEL', KEYS[5], sid)
  end
  redis.call('ZREM', KEYS[6], sid)
end
local amount = tonumber(ARGV[1])
local sd = tonumber(redis.call('GET', KEYS[1]) or '0')
local sm = tonumber(redis.call('GET', KEYS[2]) or '0')
local hd = tonumber(redis.call('GET', KEYS[3]) or '0')
local hm = tonumber(redis.call('GET', KEYS[4]) or '0')
local daily = tonumber(ARGV[2])
local monthly = tonumber(ARGV[3])
if daily >= 0 and sd + hd + amount > daily then return {0, 'daily', sd, hd, sm, hm} end
if monthly >= 0 and sm + hm + amount > monthly then return {0, 'monthly', sd, hd, sm, hm} end
if amount > 0 then
  redis.call('INCRBY', KEYS[3], amount)
  redis.call('INCRBY', KEYS[4], amount)
  redis.call('EXPIRE', KEYS[3], ARGV[7])
  redis.call('EXPIRE', KEYS[4], ARGV[7])
  redis.call('HSET', KEYS[5], ARGV[6], ARGV[1] .. '|' .. KEYS[3] .. '|' .. KEYS[4])
  redis.call('ZADD', KEYS[6], ARGV[4], ARGV[6])
end
return {1, '', sd, hd, sm, hm}
"""

SETTLE = """
if redis.call('SET', KEYS[6], '1', 'NX', 'EX', ARGV[5]) == false then return 0 end
if ARGV[1] ~= '' then
  local rec = redis.call('HGET', KEYS[1], ARGV[1])
  if rec then
    local amt, hd, hm = string.match(rec, '^(%d+)|([^|]*)|(.*)$')
    redis.call('DECRBY', hd, amt)
    redis.call('DECRBY', hm, amt)
    redis.call('HDEL', KEYS[1], ARGV[1])
  end
  redis.call('ZREM', KEYS[2], ARGV[1])
end
local cost = tonumber(ARGV[2])
if cost > 0 then
  redis.call('INCRBY', KEYS[3], cost)
  redis.call('INCRBY', KEYS[4], cost)
  redis.call('EXPIRE', KEYS[3], ARGV[4])
  redis.call('EXPIRE', KEYS[4], ARGV[4])
end
if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[5], ARGV[3]) end
return 1
"""

RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisLink:
    """One client, its health, the one warning, and the callbacks that reconcile when Redis is back."""

    def __init__(self, st: StateSettings, ns: str) -> None:
        self.st = st
        self.ns = ns
        self._client: Any = None
        self._scripts: dict[str, Any] = {}
        self._guard = threading.Lock()
        self._down = False
        self._retry_at = 0.0
        self._recovering = False
        self._recover: list[Callable[[], None]] = []
        self.outages = 0

    @property
    def where(self) -> str:
        return self.st.url

    def client(self) -> Any:
        if self._client is None:
            # redis loads only when the redis backend is configured, on first use.
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            password = os.environ.get(self.st.password_env) if self.st.password_env else None
            self._client = redis.Redis.from_url(
                self.st.url, password=password or None, socket_timeout=self.st.timeout_s,
                socket_connect_timeout=self.st.timeout_s, retry=Retry(NoBackoff(), 0), health_check_interval=0,
            )
        return self._client

    def script(self, name: str, source: str) -> Any:
        s = self._scripts.get(name)
        if s is None:
            s = self._scripts[name] = self.client().register_script(source)
        return s

    def on_recover(self, fn: Callable[[], None]) -> None:
        self._recover.append(fn)

    def call(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(client)`; raise `Unavailable` if Redis is in its retry pause or fails now."""
        with self._guard:
            if self._down and time.monotonic() < self._retry_at:
                raise Unavailable
        try:
            # redis loads only when the redis backend is configured (see client()).
            import redis

            result = fn(self.client())
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            raise Unavailable(str(exc)) from exc
        if self._down:
            self._back()
        return result

    def _failed(self, exc: BaseException) -> None:
        with self._guard:
            self._retry_at = time.monotonic() + self.st.retry_s
            if self._down:
                return
            self._down = True
            self.outages += 1
        log.warning(
            "Redis at %s is unavailable (%s: %s); using this machine's SQLite cache, ledger and budget until it "
            "answers again (local reservations are reconciled then)",
            self.where, type(exc).__name__, redact_text(str(exc)),
        )

    def _back(self) -> None:
        with self._guard:
            if not self._down or self._recovering:
                return
            self._down = False
            self._recovering = True
        try:
            for fn in self._recover:
                fn()
        finally:
            self._recovering = False

    @property
    def down(self) -> bool:
        return self._down

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception as exc:  # closing must not raise
                log.debug("closing Redis client: %s", exc)
            self._client = None


class RedisState:
    """`StateBackend` over one Redis server, with this machine's SQLite files as the local tier."""

    name = "redis"

    def __init__(self, settings: RouterSettings, ns: str) -> None:
        self.settings = settings
        self.ns = ns
        self.link = RedisLink(settings.state, ns)
        self._locks: RedisLocks | None = None

    def open_cache(self) -> ResponseCache:
        c = self.settings.cache
        return RedisCache(self.link, memory_entries=c.memory_entries, ttl_s=c.ttl_s, path=c.path,
                          persistent=c.persistent)

    def open_ledger(self) -> Ledger:
        return RedisLedger(self.link, self.settings.budget.ledger_path)

    def locks(self) -> RedisLocks:
        if self._locks is None:
            self._locks = RedisLocks(self.link, self.settings.state.lock_ttl_s)
        return self._locks

    def close(self) -> None:
        self.link.close()


# -- cache ----------------------------------------------------------------------------------------------------------


class RedisCache(ResponseCache):
    """Memory, then Redis (shared), then this machine's SQLite file (answers stored while Redis was away)."""

    def __init__(self, link: RedisLink, **kw: Any) -> None:
        super().__init__(**kw)
        self.link = link

    def get(self, key: str) -> CachedAnswer | None:
        hit = self._mem.get(key)
        if hit is not None:
            return hit
        try:
            raw = self.link.call(lambda c: c.get(self.link.ns + "c:" + key))
        except Unavailable:
            raw = None
        if raw is not None:
            try:
                answer = CachedAnswer.from_json(raw.decode())
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                answer = None
            if answer is not None:
                self._mem[key] = answer
                return answer
        return super().get(key)

    def put(self, key: str, answer: CachedAnswer, *, shared: bool = True) -> None:
        super().put(key, answer)
        if not shared:
            return
        value = answer.to_json()
        if redact_text(value) != value:  # an answer that carries something key-shaped stays on this machine
            log.info("cached answer kept out of Redis: it contains a key-shaped string")
            return
        ttl_ms = max(1, int(self.ttl_s * 1000))
        with contextlib.suppress(Unavailable):
            self.link.call(lambda c: c.set(self.link.ns + "c:" + key, value, px=ttl_ms))

    def clear(self) -> None:
        super().clear()
        with contextlib.suppress(Unavailable):
            self.link.call(lambda c: [c.delete(k) for k in c.scan_iter(match=self.link.ns + "c:*", count=500)])


# -- locks ----------------------------------------------------------------------------------------------------------


class RedisLocks:
    def __init__(self, link: RedisLink, ttl_s: float) -> None:
        self.link = link
        self.ttl_ms = max(1, int(ttl_s * 1000))

    def acquire(self, key: str) -> str | None:
        token = uuid.uuid4().hex
        try:
            ok = self.link.call(lambda c: c.set(self.link.ns + "lock:" + key, token, nx=True, px=self.ttl_ms))
        except Unavailable:
            return "local"  # nobody to coordinate with: go ahead
        return token if ok else None

    def held_elsewhere(self, key: str) -> bool:
        try:
            return bool(self.link.call(lambda c: c.exists(self.link.ns + "lock:" + key)))
        except Unavailable:
            return False

    def release(self, key: str, token: str) -> None:
        if token == "local":
            return
        script = self.link.script("release", RELEASE_LOCK)
        with contextlib.suppress(Unavailable):  # else it expires by itself
            self.link.call(lambda c: script(keys=[self.link.ns + "lock:" + key], args=[token], client=c))


# -- budgets and ledger -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SharedReservation(Reservation):
    #: The Redis reservation's id, or None for a local one (made while Redis was away).
    shared_id: str | None = None
    day: str = ""
    month: str = ""
    #: A local reservation's id in this process's book (moved to Redis by `reconcile` if still in flight).
    local_id: str = ""


def _periods(ts: float) -> tuple[str, str]:
    d = datetime.fromtimestamp(ts)
    return d.strftime("%Y-%m-%d"), d.strftime("%Y-%m")


def _nano(usd: float) -> int:
    return round(usd * NANO)


def _nano_up(usd: float) -> int:
    """Rounded up: a reservation never holds less than its estimate."""
    return max(0, math.ceil(usd * NANO))


class RedisLedger(Ledger):
    """Shared budgets and ledger on Redis; every call is also written to the local SQLite ledger."""

    def __init__(self, link: RedisLink, path: str | Path | None = None) -> None:
        super().__init__(path)
        self._lock = threading.RLock()  # type: ignore[assignment]  # reconcile may run inside a locked call
        self._reconciling = False
        self.link = link
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS redis_outbox(id TEXT PRIMARY KEY, ts REAL NOT NULL, reservation TEXT, "
            "cost_nusd INTEGER NOT NULL, day TEXT NOT NULL, month TEXT NOT NULL, entry TEXT NOT NULL)"
        )
        # Last totals Redis reported per period key (spent + held, nano-USD), and this process's book since.
        self._baseline: dict[str, int] = {}
        self._local_spent: dict[str, int] = {}
        self._local_held: dict[str, int] = {}
        self._local_res: dict[str, tuple[int, str, str]] = {}  # local id -> amount, day, month (in flight)
        self._promoted: dict[str, str] = {}  # local id -> the Redis reservation it became
        self._limits: dict[str, float] = {}
        self.reconciled = 0
        link.on_recover(self.reconcile)
        if self._outbox_size():
            try:
                link.call(lambda c: c.ping())
                self.reconcile()
            except Unavailable:
                pass

    def _k(self, name: str) -> str:
        return self.link.ns + name

    # -- budgets ------------------------------------------------------------------------------------------------
    def reserve(
        self, amount_usd: float, *, daily_usd: float | None, monthly_usd: float | None
    ) -> Reservation | Refusal:
        now = time.time()
        day, month = _periods(now)
        self._limits = {"daily": daily_usd or -1.0, "monthly": monthly_usd or -1.0}
        amount = _nano_up(amount_usd)
        rid = uuid.uuid4().hex
        keys = [self._k(f"b:spent:d:{day}"), self._k(f"b:spent:m:{month}"), self._k(f"b:held:d:{day}"),
                self._k(f"b:held:m:{month}"), self._k("b:res"), self._k("b:resz")]
        args = [amount, -1 if daily_usd is None else _nano(daily_usd),
                -1 if monthly_usd is None else _nano(monthly_usd),
                int(now * 1000), int((now - STALE_RESERVATION_S) * 1000), rid, COUNTER_TTL_S]
        script = self.link.script("reserve", RESERVE)
        try:
            ok, period, sd, hd, sm, hm = self.link.call(lambda c: script(keys=keys, args=args, client=c))
        except Unavailable:
            return self._reserve_locally(amount_usd, amount, day, month, daily_usd, monthly_usd)
        with self._lock:
            self._baseline[f"d:{day}"] = int(sd) + int(hd) + (amount if ok else 0)
            self._baseline[f"m:{month}"] = int(sm) + int(hm) + (amount if ok else 0)
        if not ok:
            period = period.decode() if isinstance(period, bytes) else period
            spent, held, limit = (sd, hd, daily_usd) if period == "daily" else (sm, hm, monthly_usd)
            return Refusal(period, float(limit or 0), int(spent) / NANO, int(held) / NANO, amount_usd)
        return SharedReservation(0, amount_usd, shared_id=rid, day=day, month=month)

    def _reserve_locally(self, amount_usd: float, amount: int, day: str, month: str, daily_usd: float | None,
                         monthly_usd: float | None) -> Reservation | Refusal:
        with self._lock:
            for period, limit, pk in (("daily", daily_usd, f"d:{day}"), ("monthly", monthly_usd, f"m:{month}")):
                if limit is None:
                    continue
                base = self._baseline.get(pk)
                if base is None:  # Redis never answered in this process: this machine's own books
                    col, val = ("day", day) if pk.startswith("d:") else ("month", month)
                    base = _nano(self._db.execute(
                        f"SELECT COALESCE(SUM(cost_usd), 0) FROM calls WHERE {col} = ?", (val,)).fetchone()[0])
                    self._baseline[pk] = base
                spent = base + self._local_spent.get(pk, 0)
                held = self._local_held.get(pk, 0)
                if spent + held + amount > _nano(limit):
                    return Refusal(period, limit, spent / NANO, held / NANO, amount_usd)
            for pk in (f"d:{day}", f"m:{month}"):
                self._local_held[pk] = self._local_held.get(pk, 0) + amount
            lid = uuid.uuid4().hex
            self._local_res[lid] = (amount, day, month)
        return SharedReservation(0, amount_usd, shared_id=None, day=day, month=month, local_id=lid)

    def settle(self, reservation: Reservation | None, **record: Any) -> None:
        if record:
            super().settle(None, **record)  # the local copy, read by `promptls usage` while Redis is away
        ts = record.get("ts") or time.time()
        day, month = _periods(ts)
        cost = _nano(float(record.get("cost_usd") or 0.0))
        entry = json.dumps(_entry(ts, day, record)) if record else ""
        shared_id = reservation.shared_id if isinstance(reservation, SharedReservation) else None
        if isinstance(reservation, SharedReservation) and shared_id is None:
            with self._lock:
                self._local_res.pop(reservation.local_id, None)
                shared_id = self._promoted.pop(reservation.local_id, None)
                if shared_id is None:  # still in this process's book
                    amount = _nano_up(reservation.amount_usd)
                    for pk in (f"d:{reservation.day}", f"m:{reservation.month}"):
                        self._local_held[pk] = max(0, self._local_held.get(pk, 0) - amount)
        eid = uuid.uuid4().hex
        try:
            self._apply(eid, shared_id or "", cost, day, month, entry)
        except Unavailable:
            with self._lock:
                self._db.execute(
                    "INSERT INTO redis_outbox(id, ts, reservation, cost_nusd, day, month, entry) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", (eid, ts, shared_id or "", cost, day, month, entry))
                for pk in (f"d:{day}", f"m:{month}"):
                    self._local_spent[pk] = self._local_spent.get(pk, 0) + cost

    def _apply(self, eid: str, shared_id: str, cost: int, day: str, month: str, entry: str) -> None:
        keys = [self._k("b:res"), self._k("b:resz"), self._k(f"b:spent:d:{day}"), self._k(f"b:spent:m:{month}"),
                self._k("calls"), self._k(f"synced:{eid}")]
        script = self.link.script("settle", SETTLE)
        self.link.call(lambda c: script(keys=keys, args=[shared_id, cost, entry, COUNTER_TTL_S, SYNCED_TTL_S],
                                        client=c))

    def _hold_in_redis(self, amount: int, day: str, month: str) -> str:
        rid = uuid.uuid4().hex
        now = time.time()
        keys = [self._k(f"b:spent:d:{day}"), self._k(f"b:spent:m:{month}"), self._k(f"b:held:d:{day}"),
                self._k(f"b:held:m:{month}"), self._k("b:res"), self._k("b:resz")]
        args = [amount, -1, -1, int(now * 1000), int((now - STALE_RESERVATION_S) * 1000), rid, COUNTER_TTL_S]
        script = self.link.script("reserve", RESERVE)
        self.link.call(lambda c: script(keys=keys, args=args, client=c))
        return rid

    def _outbox_size(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM redis_outbox").fetchone()[0])

    def reconcile(self) -> int:
        """Apply the outbox to Redis, oldest first, each entry once; then clear the local book. Returns how many
        entries were applied (0 if Redis failed again half way: the rest stays for the next time)."""
        if self._reconciling:
            return 0
        self._reconciling = True
        try:
            return self._reconcile()
        finally:
            self._reconciling = False

    def _reconcile(self) -> int:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, reservation, cost_nusd, day, month, entry FROM redis_outbox ORDER BY ts").fetchall()
        done = 0
        total = 0
        for eid, rid, cost, day, month, entry in rows:
            try:
                self._apply(eid, rid or "", int(cost), day, month, entry)
            except Unavailable:
                return done
            with self._lock:
                self._db.execute("DELETE FROM redis_outbox WHERE id = ?", (eid,))
            done += 1
            total += int(cost)
        with self._lock:
            self._local_spent.clear()
            self._baseline.clear()
            # Calls still in flight on a local reservation: their holds move to Redis (no limit check: they
            # were granted already), so other machines see them until they settle.
            try:
                for lid, (amount, day, month) in list(self._local_res.items()):
                    if lid not in self._local_res:
                        continue
                    self._promoted[lid] = self._hold_in_redis(amount, day, month)
                    del self._local_res[lid]
                    for pk in (f"d:{day}", f"m:{month}"):
                        self._local_held[pk] = max(0, self._local_held.get(pk, 0) - amount)
            except Unavailable:
                pass
        self.reconciled += done
        if rows or self._promoted:
            log.info("Redis at %s answers again: reconciled %d call(s) ($%.6f) recorded while it was away",
                     self.link.where, done, total / NANO)
            self._check_overspend()
        return done

    def _check_overspend(self) -> None:
        day, month = _periods(time.time())
        for period, key in (("daily", f"b:spent:d:{day}"), ("monthly", f"b:spent:m:{month}")):
            limit = self._limits.get(period, -1.0)
            if limit < 0:
                continue
            try:
                spent = int(self.link.call(lambda c, k=key: c.get(self._k(k))) or 0) / NANO
            except Unavailable:
                return
            if spent > limit + 1e-9:
                log.warning("the %s budget of $%.4f was overspent by $%.6f while machines could not reach Redis "
                            "at %s; further calls are refused until the period ends", period, limit, spent - limit,
                            self.link.where)

    # -- reading ------------------------------------------------------------------------------------------------
    def spent(self, *, day: str | None = None, month: str | None = None) -> float:
        key = self._k(f"b:spent:d:{day}") if day else self._k(f"b:spent:m:{month}")
        try:
            return int(self.link.call(lambda c: c.get(key)) or 0) / NANO
        except Unavailable:
            return super().spent(day=day, month=month)

    def outstanding(self) -> float:
        day, _ = _periods(time.time())
        try:
            return int(self.link.call(lambda c: c.get(self._k(f"b:held:d:{day}"))) or 0) / NANO
        except Unavailable:
            return self._local_held.get(f"d:{day}", 0) / NANO

    def entries(self) -> list[dict[str, Any]]:
        raw = self.link.call(lambda c: c.lrange(self._k("calls"), 0, -1))
        return [json.loads(r) for r in raw]

    def summary(self, since: str | None = None) -> list[dict[str, Any]]:
        """The team's ledger from Redis (this machine's file if Redis is away), in `Ledger.summary`'s shape."""
        try:
            entries = self.entries()
        except Unavailable:
            return super().summary(since)
        since = since or "0000-00-00"
        rows: dict[tuple[str, str, str], dict[str, Any]] = {}
        for e in entries:
            if e["day"] < since:
                continue
            k = (e["day"], e.get("provider") or "", e.get("model") or "")
            r = rows.setdefault(k, {"day": k[0], "provider": e.get("provider"), "model": e.get("model"),
                                    "calls": 0, "cache_hits": 0, "errors": 0, "input_tokens": 0,
                                    "cached_input_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0,
                                    "cost_usd": 0.0, "unpriced_calls": 0, "estimated_calls": 0})
            r["calls"] += 1
            r["cache_hits"] += int(e["cache_hit"])
            r["errors"] += int(e["status"] != "ok")
            for t in ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens"):
                r[t] += e[t]
            r["cost_usd"] += e["cost_usd"]
            r["unpriced_calls"] += int(not e["cost_known"])
            r["estimated_calls"] += int(e["estimated"])
        return [rows[k] for k in sorted(rows)]


def _entry(ts: float, day: str, r: dict[str, Any]) -> dict[str, Any]:
    """The ledger entry written to Redis: names and figures only (no prompt, no answer, no key)."""
    usage: Usage = r.get("usage") or Usage()
    cost = r.get("cost_usd")
    return {
        "ts": ts, "day": day, "purpose": r.get("purpose"), "provider": r.get("provider"), "kind": r.get("kind"),
        "model": r.get("model"), "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
        "cached_input_tokens": usage.cached_input_tokens, "cache_write_tokens": usage.cache_write_tokens,
        "cost_usd": float(cost or 0.0), "cost_known": cost is not None, "cache_hit": bool(r.get("cache_hit")),
        "status": r.get("status", "ok"), "latency_ms": r.get("latency_ms"), "estimated": bool(r.get("estimated")),
    }
