"""`promptls eval` overhead per case and the wall time of 200 cached cases, against the loopback OpenAI fake.

Run: ``.venv/bin/python bench/bench_eval.py [--n 100]``

How it measures (wall time, ``time.perf_counter``, one asyncio loop; the fake runs as a subprocess as a real
server would):
(a) overhead per case: a one-case evaluation (read nothing from disk: the suite is built once; per sample an
    ``Evaluation`` is made, which renders the Dotprompt file for the case's vars, then ``run`` calls the router,
    checks six assertions and the prompt's output schema, and summarises) against a bare ``Router.complete``
    of the same rendered request, alternating (bare, eval, bare, ...) after a warm-up, response cache off so
    that both make the HTTP call. Overhead = median of the per-pair differences (eval - bare).
(b) 200 cached cases: a 200-case ``NAME.tests.yaml`` run once to fill the router's SQLite cache, then timed
    end to end in-process (load the file, render, 200 cache hits through a fresh Router, assertions, JSON
    report), median of 5; and once as a ``promptls eval`` process (interpreter start-up and imports included).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from promptls import config as cfgmod  # noqa: E402
from promptls.eval.cases import load_path  # noqa: E402
from promptls.eval.report import render_json  # noqa: E402
from promptls.eval.runner import Evaluation, build_request  # noqa: E402
from promptls.eval.settings import parse_eval_settings  # noqa: E402
from promptls.router import Router, parse_router_settings  # noqa: E402

KEY_ENV = "PLS_BENCH_OPENAI_KEY"
PROMPT = """---
model: gpt-4o-mini
config: {temperature: 0, maxOutputTokens: 64}
input:
  schema:
    n: integer
---
{{role "system"}}
Greet briefly.
{{role "user"}}
Say hello to visitor number {{n}}.
"""
ASSERTS = """    assert:
      - {type: contains, value: Hello}
      - {type: icontains, value: WORLD}
      - {type: regex, value: '^H\\w+'}
      - {type: not-contains, value: Goodbye}
      - {type: starts-with, value: Hello}
      - {type: expr, value: 'len(output) < 100 and "world" in output'}
"""


def tests_yaml(n: int) -> str:
    return "tests:\n" + "".join(f"  - description: visitor {i}\n    vars: {{n: {i}}}\n{ASSERTS}" for i in range(n))


def toml(url: str, tmp: Path, cache: bool) -> str:
    return f"""[providers.fake]
kind = "openai"
model = "gpt-4o-mini"
base_url = "{url}"
api_key_env = "{KEY_ENV}"
[router]
run = ["fake"]
[cache]
enabled = {str(cache).lower()}
path = "{tmp / 'cache.sqlite3'}"
[budget]
ledger_path = "{tmp / 'ledger.sqlite3'}"
"""


def setup(url: str, tmp: Path, n: int, cache: bool) -> tuple[Path, object, object, object]:
    (tmp / "promptls.toml").write_text(toml(url, tmp, cache))
    (tmp / "hello.prompt").write_text(PROMPT)
    tests = tmp / "hello.tests.yaml"
    tests.write_text(tests_yaml(n))
    cfg, msgs, _ = cfgmod.load(tmp)
    assert not msgs, msgs
    rs, _ = parse_router_settings(cfg.raw)
    es, _ = parse_eval_settings(cfg.raw)
    return tests, cfg, rs, es


async def overhead(url: str, tmp: Path, n: int) -> list[float]:
    tests, cfg, rs, es = setup(url, tmp, 1, cache=False)
    suite = load_path(str(tests))
    ev0 = Evaluation([suite], rs, es, cfg)
    router = Router(ev0.settings)
    (job,) = ev0.jobs
    req = build_request(ev0.prompts.render(job.prompt, job.case.vars), job.target, job.prompt, 0)
    diffs, bare_t, eval_t = [], [], []
    try:
        for i in range(n + 10):
            t0 = time.perf_counter()
            await router.complete(req)
            t1 = time.perf_counter()
            ev = Evaluation([suite], rs, es, cfg)
            report = await ev.run(router)
            t2 = time.perf_counter()
            assert report.ok, [r.failures for r in report.results]
            if i >= 10:
                bare_t.append(t1 - t0)
                eval_t.append(t2 - t1)
                diffs.append((t2 - t1) - (t1 - t0))
    finally:
        await router.aclose()
    print(f"(a) bare router call      median {statistics.median(bare_t) * 1000:7.3f} ms")
    print(f"    one-case evaluation   median {statistics.median(eval_t) * 1000:7.3f} ms")
    print(f"    overhead per case     median {statistics.median(diffs) * 1000:7.3f} ms  (n={n})")
    return diffs


async def cached(url: str, tmp: Path, n: int) -> float:
    tests, cfg, rs, es = setup(url, tmp, n, cache=True)

    async def once() -> float:
        t0 = time.perf_counter()
        ev = Evaluation([load_path(str(tests))], rs, es, cfg)
        router = Router(ev.settings)
        try:
            report = await ev.run(router)
        finally:
            await router.aclose()
        render_json(report)
        dt = time.perf_counter() - t0
        assert report.ok and len(report.results) == n
        return dt, sum(r.cached for r in report.results)

    first, hits = await once()
    print(f"(b) {n} cases, cold (HTTP)   {first:7.3f} s   ({hits} cache hits)")
    times = []
    for _ in range(5):
        dt, hits = await once()
        assert hits == n, hits
        times.append(dt)
    print(f"    {n} cached cases, in-process   median {statistics.median(times):7.3f} s  (5 runs; {hits} hits)")
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--cases", type=int, default=200)
    args = ap.parse_args()
    os.environ[KEY_ENV] = "sk-proj-" + secrets.token_urlsafe(30)
    server = subprocess.Popen([sys.executable, "-m", "tests.fakes.openai_fake", "--port", "0", "--max-seconds", "900"],
                              cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    url = f"http://127.0.0.1:{int(server.stdout.readline().split()[1])}/v1"
    try:
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            asyncio.run(overhead(url, Path(a), args.n))
            asyncio.run(cached(url, Path(b), args.cases))
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "promptls", "eval", str(Path(b) / "hello.tests.yaml"),
                                   "--format", "json"], cwd=b, capture_output=True, text=True)
            dt = time.perf_counter() - t0
            assert proc.returncode == 0, proc.stderr
            print(f"    {args.cases} cached cases, `promptls eval` process   {dt:7.3f} s  (start-up and imports "
                  "included)")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
