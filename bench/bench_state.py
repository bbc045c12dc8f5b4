"""State backends: a cache hit and a budget reserve/settle round trip, on loopback Redis against SQLite (WAL).

Run: ``.venv/bin/python bench/bench_state.py [--n 2000]`` (needs Debian's ``redis-server``; it starts its own on
a free loopback port in a temporary folder, without persistence, and stops it at the end).

How it measures (wall time, ``time.perf_counter``, one thread; the two backends alternate call by call so that
drift in machine load hits both alike; a warm-up of 200 calls each first):
(a) cache hit from the persistent tier: ``ResponseCache.get`` (SQLite) and ``RedisCache.get`` (Redis) of a
    stored answer of 4 text events, with the in-memory tier emptied before each call (the case of an answer
    another process or machine stored). The memory-tier hit, the same for both, is printed for scale.
(b) reserve + settle: ``Ledger.reserve`` then ``Ledger.settle`` with a call record (two ``BEGIN IMMEDIATE``
    transactions), against ``RedisLedger.reserve`` (one EVALSHA) then ``RedisLedger.settle`` (one EVALSHA, plus
    the local SQLite copy of the call it always writes). Daily and monthly limits set, never reached.
Median and p95 in microseconds.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.unit.router.redis_server import RedisServer  # noqa: E402

from promptls.providers.base import TextDelta, Usage  # noqa: E402
from promptls.router.cache import CachedAnswer, ResponseCache  # noqa: E402
from promptls.router.ledger import Ledger, Refusal  # noqa: E402
from promptls.router.settings import StateSettings  # noqa: E402
from promptls.router.state_redis import RedisCache, RedisLedger, RedisLink  # noqa: E402


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))]


def line(name: str, xs: list[float]) -> str:
    return f"  {name:<34} median {statistics.median(xs) * 1e6:8.1f} us   p95 {pct(xs, 0.95) * 1e6:8.1f} us"


def alternate(n: int, a: Callable[[], None], b: Callable[[], None]) -> tuple[list[float], list[float]]:
    ta: list[float] = []
    tb: list[float] = []
    for i in range(n + 200):
        for fn, out in ((a, ta), (b, tb)) if i % 2 else ((b, tb), (a, ta)):
            t0 = time.perf_counter()
            fn()
            dt = time.perf_counter() - t0
            if i >= 200:
                out.append(dt)
    return ta, tb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="promptls-bench-state-"))
    server = RedisServer(tmp / "redis").start()
    try:
        link = RedisLink(StateSettings(backend="redis", url=server.url, timeout_s=1.0), "promptls:bench:")
        answer = CachedAnswer(tuple(TextDelta(t) for t in ("Hello", ",", " world", "!")), "stop",
                              Usage(input_tokens=12, output_tokens=4), "gpt-4o-mini", "openai", "openai")
        key = "0" * 64
        sq_cache = ResponseCache(path=tmp / "cache.sqlite3")
        rd_cache = RedisCache(link, path=tmp / "cache-redis-local.sqlite3")
        sq_cache.put(key, answer)
        rd_cache.put(key, answer)

        def sq_get() -> None:
            sq_cache._mem.clear()
            assert sq_cache.get(key) is not None

        def rd_get() -> None:
            rd_cache._mem.clear()
            assert rd_cache.get(key) is not None

        hit_sq, hit_rd = alternate(a.n, sq_get, rd_get)
        mem: list[float] = []
        for _ in range(a.n):
            t0 = time.perf_counter()
            sq_cache.get(key)
            mem.append(time.perf_counter() - t0)

        sq_ledger = Ledger(tmp / "ledger.sqlite3")
        rd_ledger = RedisLedger(link, tmp / "ledger-redis-local.sqlite3")
        record = {"purpose": "run", "provider": "openai", "kind": "openai", "model": "gpt-4o-mini",
                  "usage": Usage(input_tokens=12, output_tokens=4), "status": "ok", "cost_usd": 0.000004,
                  "latency_ms": 10.0}

        def round_trip(ledger: Ledger) -> Callable[[], None]:
            def go() -> None:
                r = ledger.reserve(0.00001, daily_usd=1e6, monthly_usd=1e6)
                assert not isinstance(r, Refusal)
                ledger.settle(r, **record)
            return go

        rt_sq, rt_rd = alternate(a.n, round_trip(sq_ledger), round_trip(rd_ledger))
        assert not link.down, "Redis failed during the bench"
        version = server.version()
        print(f"bench_state: {a.n} calls each, alternating; {platform.python_implementation()} "
              f"{platform.python_version()}, redis-py {__import__('redis').__version__}, redis-server {version} "
              "on 127.0.0.1")
        print("(a) cache hit, persistent tier (memory tier emptied before each get)")
        print(line("SQLite WAL", hit_sq))
        print(line("Redis (loopback)", hit_rd))
        print(line("memory tier (either backend)", mem))
        print("(b) budget reserve + settle with a ledger record")
        print(line("SQLite WAL (2 transactions)", rt_sq))
        print(line("Redis (2 EVALSHA + local copy)", rt_rd))
        for c in (sq_cache, rd_cache):
            c.close()
        for led in (sq_ledger, rd_ledger):
            led.close()
        link.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
