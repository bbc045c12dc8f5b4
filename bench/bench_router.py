"""Router overhead, cache hits and failover, against the loopback OpenAI fake.

Run: ``.venv/bin/python bench/bench_router.py [--n 300]``

How it measures (wall time, ``time.perf_counter``, one asyncio loop; the fake runs as a subprocess, as a real
server would, so that it does not share the measured process's GIL):
(a) overhead per attempt: a streamed chat completion (4 content chunks, finish chunk, usage chunk, [DONE])
    read to the end, once through the openai SDK directly (``AsyncOpenAI(max_retries=0)``) and once through
    ``Router.stream`` to the same server with the same SDK; calls alternate (direct, router, direct, ...)
    after a warm-up so that drift in machine load hits both alike. The router runs with its defaults
    (coalescing on, ledger written to a temp SQLite file by its writer thread) and the response cache off
    (a hit would skip the call). Overhead = router figure minus direct figure, for the median and for the
    p99; the median of the per-pair differences and the event-loop thread's CPU time per call
    (``time.thread_time``, insensitive to other processes) are printed too.
(b) cache hit: the same deterministic request (temperature 0) answered from the cache, end to end through
    ``Router.stream`` (first call fills the cache; then N hits, memory tier).
(c) failover: chain [refused, fake] against chain [fake], alternating, breaker cooldown 0 so that every
    request really meets the refused connection. Added = median difference.
CPU time of the whole process is printed too: it is less disturbed by other processes on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from promptls.providers.base import TextDelta  # noqa: E402
from promptls.router import LLMRequest, Router, parse_router_settings  # noqa: E402

KEY_ENV = "PLS_BENCH_OPENAI_KEY"


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def fmt(name: str, xs: list[float]) -> str:
    return f"{name:<34} median {statistics.median(xs) * 1000:7.3f} ms   p99 {pct(xs, 0.99) * 1000:7.3f} ms"


def router_for(url: str, tmp: str, chain: list[str], **extra: object) -> Router:
    cfg = {
        "providers": {
            "fake": {"kind": "openai", "model": "gpt-4o-mini", "base_url": url, "api_key_env": KEY_ENV},
            "dead": {"kind": "openai", "model": "gpt-4o-mini", "base_url": extra.pop("dead_url", url),
                     "api_key_env": KEY_ENV},
        },
        "router": {"completion": chain, "breaker_cooldown_s": 0.0},
        "cache": {"path": os.path.join(tmp, "cache.sqlite3"), **extra.pop("cache", {})},  # type: ignore[dict-item]
        "budget": {"ledger_path": os.path.join(tmp, "ledger.sqlite3")},
    }
    settings, errors = parse_router_settings(cfg)
    assert not errors, errors
    return Router(settings)


async def drain_router(router: Router, req: LLMRequest) -> None:
    n = 0
    async for ev in router.stream(req):
        n += isinstance(ev, TextDelta)
    assert n == 4


async def drain_direct(client, messages) -> None:  # type: ignore[no-untyped-def]
    stream = await client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True,
                                                  stream_options={"include_usage": True})
    n = 0
    async for chunk in stream:
        n += bool(chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content)
    assert n == 4


async def main(n: int) -> None:
    import openai

    os.environ[KEY_ENV] = "sk-bench-" + "0" * 20
    server = subprocess.Popen([sys.executable, "-m", "tests.fakes.openai_fake", "--port", "0", "--max-seconds", "900"],
                              cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    url = f"http://127.0.0.1:{int(server.stdout.readline().split()[1])}/v1"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    msgs = [{"role": "user", "content": "hello"}]
    cpu0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        # (a) overhead per attempt
        direct_client = openai.AsyncOpenAI(api_key=os.environ[KEY_ENV], base_url=url, max_retries=0)
        router = router_for(url, tmp, ["fake"], cache={"enabled": False})
        req = LLMRequest(purpose="completion", messages=msgs)
        await router.warm("completion")
        for _ in range(30):
            await drain_direct(direct_client, msgs)
            await drain_router(router, req)
        direct, routed, cpu_direct, cpu_routed = [], [], [], []
        for _ in range(n):
            c, t = time.thread_time(), time.perf_counter()
            await drain_direct(direct_client, msgs)
            direct.append(time.perf_counter() - t)
            cpu_direct.append(time.thread_time() - c)
            c, t = time.thread_time(), time.perf_counter()
            await drain_router(router, req)
            routed.append(time.perf_counter() - t)
            cpu_routed.append(time.thread_time() - c)
        await router.aclose()
        await direct_client.close()

        # (b) cache hit
        router = router_for(url, tmp, ["fake"])
        det = LLMRequest(purpose="completion", messages=msgs, temperature=0.0)
        await drain_router(router, det)
        hits = []
        for _ in range(n):
            t = time.perf_counter()
            await drain_router(router, det)
            hits.append(time.perf_counter() - t)
        await router.aclose()

        # (c) failover from a refused primary
        failing = router_for(url, tmp, ["dead", "fake"], dead_url=f"http://127.0.0.1:{dead_port}/v1",
                             cache={"enabled": False})
        plain = router_for(url, tmp, ["fake"], cache={"enabled": False})
        await failing.warm("completion")
        await plain.warm("completion")
        for _ in range(10):
            await drain_router(failing, req)
            await drain_router(plain, req)
        with_failover, without = [], []
        for _ in range(max(50, n // 3)):
            t = time.perf_counter()
            await drain_router(failing, req)
            with_failover.append(time.perf_counter() - t)
            t = time.perf_counter()
            await drain_router(plain, req)
            without.append(time.perf_counter() - t)
        await failing.aclose()
        await plain.aclose()
    cpu = time.process_time() - cpu0
    server.terminate()
    server.wait(timeout=10)

    print(f"bench_router: python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, n={n}")
    ms = 1000.0
    med = statistics.median
    print(fmt("direct SDK stream", direct))
    print(fmt("router stream (same server)", routed))
    print(f"{'router overhead per attempt':<34} median {(med(routed) - med(direct)) * ms:7.3f} ms   "
          f"p99 {(pct(routed, 0.99) - pct(direct, 0.99)) * ms:7.3f} ms   (target <= 1 ms median, 5 ms p99)")
    pairs = [r - d for r, d in zip(routed, direct, strict=True)]
    print(f"{'  paired differences':<34} median {med(pairs) * ms:7.3f} ms")
    print(f"{'  loop-thread CPU per call':<34} direct {med(cpu_direct) * ms:6.3f} ms   router "
          f"{med(cpu_routed) * ms:6.3f} ms   (+{(med(cpu_routed) - med(cpu_direct)) * ms:.3f} ms)")
    print(fmt("cache hit through the router", hits) + "   (target < 1 ms median)")
    print(fmt("chain [fake]", without))
    print(fmt("chain [refused, fake]", with_failover))
    print(f"{'failover from refused primary':<34} added  {(med(with_failover) - med(without)) * ms:7.3f} ms median"
          "   (target < 50 ms)")
    print(f"process CPU time {cpu:.2f} s for {2 * n + 60 + n + 1 + 2 * max(50, n // 3) + 20} routed/direct calls")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="measured calls per variant")
    asyncio.run(main(ap.parse_args().n))
