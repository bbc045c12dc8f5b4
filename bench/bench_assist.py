"""Inline completion speed over the real language server: server-added latency, prefix-cache hits, provider
calls per typed character.

Run: ``.venv/bin/python bench/bench_assist.py [--n 200] [--seed 4]``

How it measures (wall time, ``time.perf_counter``): the server is ``python -m promptls serve`` on stdio, driven
by the minimal blocking JSON-RPC client in ``bench/lsp_wire.py`` (no client framework in the figures), configured
through ``initializationOptions {"promptls": {...}}`` exactly as ``tests/e2e/assist/conftest.py`` does: one
``openai`` provider pointed at the loopback OpenAI fake (``tests/fakes/openai_fake.py``), router response cache
off, one attempt. The fake runs in this process on its own thread and answers instantly (one streamed content
chunk, finish chunk, ``[DONE]``); it records how long its handler ran for every model call.

(a) server-added latency, ``assist.debounce_ms = 0`` (so debounce is not counted): N inline completion requests
    (automatic trigger), each on a different document text (``def fN(a, b):\\n    return ``), so neither the
    prefix cache nor a running stream can answer; each request is sent after the document change and timed to
    its response. Two ways to take off the provider's own time:
      1. per request: round trip minus the fake's handler time for that call (what is left is everything the
         server, its SDK client, HTTP on loopback and the JSON-RPC framing add);
      2. against a direct call: the same streamed request made with the openai SDK directly
         (``AsyncOpenAI(max_retries=0)``, read to the end) to the same fake, N times from a child process (as
         the server is one); added = LSP figure minus direct figure, for the median and for the p99. This
         leaves out the SDK and HTTP cost a provider call has anyway, so it is the figure the target is about.
(b) prefix-cache hit: after a completion "a + b" at ``    return ``, type "a" (cache answers " + b"), then
    backspace (cache answers "a + b"); every one of those requests' round trip is timed. The fake's call count
    is checked to be unchanged, so these really were answered without a provider call.
(c) calls per typed character: a fresh server with the DEFAULT debounce (75 ms) and the prefix cache on; a
    ~300-character Python function is typed one character at a time (incremental ``didChange`` then an
    automatic ``inlineCompletion`` request per keystroke, as VS Code does, without waiting for answers), with
    inter-key delays drawn from a fixed-seed log-normal clipped to 40-250 ms. Calls are counted at the fake.
    Two fakes bracket reality: "unrelated" always answers ``pass`` (the user never types what is suggested:
    only debounce saves calls), "oracle" answers the true rest of the current line (the user types exactly the
    suggestion: cache hits and stream reuse save calls too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from lsp_wire import Wire  # noqa: E402
from tests.fakes.http import FakeServer, Fault, Request, StreamPlan, Writer  # noqa: E402
from tests.fakes.openai_fake import OpenAIFake  # noqa: E402

KEY_ENV = "PLS_BENCH_ASSIST_KEY"
SERVER = [sys.executable, "-m", "promptls", "serve"]
CURSOR = "<|CURSOR|>"

FUNCTION = '''def moving_average(values, window):
    """Mean of each run of `window` consecutive values."""
    if window <= 0:
        raise ValueError("window must be positive")
    out = []
    total = sum(values[:window])
    out.append(total / window)
    for i in range(window, len(values)):
        total += values[i] - values[i - window]
        out.append(total / window)
    return out
'''


class TimedFake(OpenAIFake):
    """The OpenAI fake, recording its handler time per model call; `oracle` makes it answer the rest of the
    current line of `target` (what the user is about to type) instead of its fixed tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.handle_s: list[float] = []
        self.oracle: str | None = None

    async def handle(self, req: Request, w: Writer) -> None:
        t0 = time.perf_counter()
        await super().handle(req, w)
        if self.is_model_call(req):
            self.handle_s.append(time.perf_counter() - t0)

    def plan(self, req: Request, fault: Fault, tokens: list[str]) -> StreamPlan:
        if self.oracle is not None:
            tokens = [_oracle_answer(self.oracle, req.json())]
        return super().plan(req, fault, tokens)


def _oracle_answer(target: str, body: dict[str, Any]) -> str:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    before = user.split(CURSOR, 1)[0]
    k = next(k for k in range(len(target), -1, -1) if before.endswith(target[:k]))
    end = target.find("\n", k)
    return target[k:end] if end > k else ""


def options(url: str, ledger: Path, assist: dict[str, Any]) -> dict[str, Any]:
    return {"promptls": {
        "today": "2026-11-25",
        "providers": {"chat": {"kind": "openai", "model": "gpt-4o-mini", "base_url": url + "/v1",
                               "api_key_env": KEY_ENV, "timeout_s": 10}},
        "router": {"completion": ["chat"], "action": ["chat"], "run": ["chat"], "max_attempts": 1},
        "cache": {"enabled": False},
        "budget": {"ledger_path": str(ledger)},
        "assist": assist,
    }}


class Server(Wire):
    """`Wire` with initializationOptions, a write lock and an optional reader thread (for the typing trace, where
    requests are sent without waiting for their answers)."""

    def __init__(self, init_options: dict[str, Any]) -> None:
        super().__init__(SERVER)
        self.lock = threading.Lock()
        self.answers: dict[int, dict[str, Any]] = {}
        self.reader: threading.Thread | None = None
        rid = self.send("initialize", {"processId": None, "rootUri": None, "initializationOptions": init_options,
                                       "capabilities": {"window": {"workDoneProgress": False}}})
        self.wait(lambda m: m.get("id") == rid)
        self.send("initialized", {}, request=False)

    def send(self, method: str, params: Any, *, request: bool = True) -> int | None:
        with self.lock:
            return super().send(method, params, request=request)

    def reply(self, rid: Any, result: Any) -> None:
        with self.lock:
            super().reply(rid, result)

    def start_reader(self) -> None:
        def run() -> None:
            try:
                while True:
                    msg = self.read()
                    if "id" in msg and "method" in msg:
                        self.reply(msg["id"], [{} for _ in msg["params"]["items"]]
                                   if msg["method"] == "workspace/configuration" else None)
                    elif "id" in msg:
                        self.answers[msg["id"]] = msg
            except (EOFError, ValueError, OSError):
                return

        self.reader = threading.Thread(target=run, daemon=True)
        self.reader.start()

    def close(self) -> None:
        if self.reader is None:
            super().close()
            return
        # The reader thread owns stdout now: wait for the shutdown answer through it (bounded).
        try:
            rid = self.send("shutdown", None)
            end = time.monotonic() + 5
            while rid not in self.answers and time.monotonic() < end:
                time.sleep(0.01)
            self.send("exit", None, request=False)
            self.proc.wait(5)
        except Exception:
            self.proc.kill()
        self.reader.join(5)

    def open(self, uri: str, text: str) -> None:
        self.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                            "text": text}}, request=False)

    def change_full(self, uri: str, version: int, text: str) -> None:
        self.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                             "contentChanges": [{"text": text}]}, request=False)

    def insert(self, uri: str, version: int, line: int, char: int, text: str) -> None:
        pos = {"line": line, "character": char}
        self.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [
            {"range": {"start": pos, "end": pos}, "text": text}]}, request=False)

    def delete(self, uri: str, version: int, line: int, start: int, end: int) -> None:
        self.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [
            {"range": {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}},
             "text": ""}]}, request=False)

    def inline(self, uri: str, line: int, char: int) -> int:
        rid = self.send("textDocument/inlineCompletion", {
            "textDocument": {"uri": uri}, "position": {"line": line, "character": char},
            "context": {"triggerKind": 2}})
        assert rid is not None
        return rid

    def timed_inline(self, uri: str, line: int, char: int) -> tuple[float, list[str]]:
        t0 = time.perf_counter()
        rid = self.inline(uri, line, char)
        msg = self.wait(lambda m: m.get("id") == rid)
        dt = time.perf_counter() - t0
        items = (msg.get("result") or {}).get("items") or []
        return dt, [i["insertText"] for i in items]


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def ms(x: float) -> str:
    return f"{x * 1000:.2f} ms"


# -- (a) -------------------------------------------------------------------------------------------------------
def bench_added(fake: TimedFake, url: str, tmp: Path, n: int) -> dict[str, float]:
    fake.default_tokens = ["a + b"]
    srv = Server(options(url, tmp / "a.sqlite3", {"debounce_ms": 0}))
    uri = "file:///tmp/promptls-bench/added.py"
    try:
        srv.open(uri, "")
        rtts: list[float] = []
        handler: list[float] = []
        added: list[float] = []
        warm = 20
        for i in range(warm + n):
            text = f"def f{i}(a, b):\n    return "
            srv.change_full(uri, i + 2, text)
            before = len(fake.handle_s)
            dt, items = srv.timed_inline(uri, 1, 11)
            if items != ["a + b"] or len(fake.handle_s) != before + 1:
                raise RuntimeError(f"request {i}: unexpected answer {items} / fake calls {len(fake.handle_s)}")
            if i >= warm:
                rtts.append(dt)
                handler.append(fake.handle_s[-1])
                added.append(dt - fake.handle_s[-1])
    finally:
        srv.close()
    # In a child process, as the language server is: an SDK client in this process would share the GIL with the
    # fake's thread and look slower than it is.
    out = subprocess.run([sys.executable, __file__, "--direct", url, "--n", str(n)], capture_output=True,
                         text=True, timeout=300, check=True, env=os.environ)
    direct = json.loads(out.stdout)
    return {
        "rtt_med": statistics.median(rtts), "rtt_p99": pct(rtts, 99),
        "fake_med": statistics.median(handler),
        "added_med": statistics.median(added), "added_p99": pct(added, 99),
        "direct_med": statistics.median(direct), "direct_p99": pct(direct, 99),
    }


async def _direct_sdk(url: str, n: int, warm: int) -> list[float]:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url + "/v1", api_key=os.environ[KEY_ENV], max_retries=0, timeout=10)
    out = []
    try:
        for i in range(warm + n):
            msgs = [{"role": "system", "content": "code only"},
                    {"role": "user", "content": f"def f{i}(a, b):\n    return {CURSOR}"}]
            t0 = time.perf_counter()
            stream = await client.chat.completions.create(model="gpt-4o-mini", messages=msgs, stream=True,
                                                          max_tokens=64, temperature=0.0,
                                                          stream_options={"include_usage": True})
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            dt = time.perf_counter() - t0
            if text != "a + b":
                raise RuntimeError(f"direct call answered {text!r}")
            if i >= warm:
                out.append(dt)
    finally:
        await client.close()
    return out


# -- (b) -------------------------------------------------------------------------------------------------------
def bench_cache(fake: TimedFake, url: str, tmp: Path, rounds: int) -> dict[str, float]:
    fake.default_tokens = ["a + b"]
    srv = Server(options(url, tmp / "b.sqlite3", {"debounce_ms": 0}))
    uri = "file:///tmp/promptls-bench/cache.py"
    hits: list[float] = []
    try:
        text = "def add(a, b):\n    return "
        srv.open(uri, text)
        _, first = srv.timed_inline(uri, 1, 11)
        if first != ["a + b"]:
            raise RuntimeError(f"first answer {first}")
        calls = len(fake.calls)
        version = 1
        for _ in range(rounds):
            version += 1
            srv.insert(uri, version, 1, 11, "a")
            dt, items = srv.timed_inline(uri, 1, 12)
            if items != [" + b"]:
                raise RuntimeError(f"after typing 'a': {items}")
            hits.append(dt)
            version += 1
            srv.delete(uri, version, 1, 11, 12)
            dt, items = srv.timed_inline(uri, 1, 11)
            if items != ["a + b"]:
                raise RuntimeError(f"after backspace: {items}")
            hits.append(dt)
        if len(fake.calls) != calls:
            raise RuntimeError(f"cache hits made provider calls: {len(fake.calls) - calls}")
    finally:
        srv.close()
    return {"hit_med": statistics.median(hits), "hit_p99": pct(hits, 99), "hits": len(hits)}


# -- (c) -------------------------------------------------------------------------------------------------------
def bench_typing(fake: TimedFake, url: str, tmp: Path, seed: int, oracle: bool) -> dict[str, float]:
    fake.reset()
    fake.default_tokens = ["pass"]
    fake.oracle = FUNCTION if oracle else None
    rng = random.Random(seed)
    delays = [min(0.250, max(0.040, rng.lognormvariate(-2.2, 0.45))) for _ in FUNCTION]
    srv = Server(options(url, tmp / f"c{int(oracle)}.sqlite3", {}))  # default debounce
    srv.start_reader()
    uri = "file:///tmp/promptls-bench/typing.py"
    rids: list[int] = []
    try:
        srv.open(uri, "")
        line = char = 0
        t_start = time.perf_counter()
        for i, ch in enumerate(FUNCTION):
            srv.insert(uri, i + 2, line, char, ch)
            if ch == "\n":
                line, char = line + 1, 0
            else:
                char += 1
            rids.append(srv.inline(uri, line, char))
            time.sleep(delays[i])
        typing_s = time.perf_counter() - t_start
        end = time.monotonic() + 30
        while time.monotonic() < end and not all(r in srv.answers for r in rids):
            time.sleep(0.02)
        answered = sum(r in srv.answers for r in rids)
        shown = sum(bool(((srv.answers.get(r) or {}).get("result") or {}).get("items")) for r in rids)
    finally:
        srv.close()
    calls = len(fake.calls)
    fake.oracle = None
    return {"chars": len(FUNCTION), "calls": calls, "per_char": calls / len(FUNCTION), "answered": answered,
            "shown": shown, "closed": fake.client_closed, "typing_s": typing_s,
            "delay_med": statistics.median(delays), "delay_mean": statistics.fmean(delays)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="timed requests for (a) (>= 100)")
    ap.add_argument("--seed", type=int, default=4, help="seed of the inter-key delays in (c)")
    ap.add_argument("--direct", metavar="URL", help=argparse.SUPPRESS)  # child: time direct SDK calls to URL
    args = ap.parse_args()
    if args.direct:
        print(json.dumps(asyncio.run(_direct_sdk(args.direct, args.n, warm=20))))
        return
    os.environ[KEY_ENV] = "sk-test-" + secrets.token_hex(12)  # a fake key made at run time
    fake = TimedFake()
    server = FakeServer(fake)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            a = bench_added(fake, server.url, tmp, args.n)
            b = bench_cache(fake, server.url, tmp, rounds=max(50, args.n // 2))
            c_un = bench_typing(fake, server.url, tmp, args.seed, oracle=False)
            c_or = bench_typing(fake, server.url, tmp, args.seed, oracle=True)
    finally:
        server.stop()
    print(f"promptls assist bench · Python {sys.version.split()[0]} · {os.cpu_count()} CPUs")
    print(f"(a) server-added latency of an inline completion, debounce_ms=0, n={args.n} (after 20 warm-up), "
          "distinct prefixes, zero-latency loopback fake:")
    print(f"    LSP round trip          median {ms(a['rtt_med'])}  p99 {ms(a['rtt_p99'])}"
          f"   (fake handler median {ms(a['fake_med'])})")
    print(f"    1. minus fake handler   median {ms(a['added_med'])}  p99 {ms(a['added_p99'])}"
          "   [target < 5 ms / 15 ms]")
    print(f"    direct SDK call         median {ms(a['direct_med'])}  p99 {ms(a['direct_p99'])}")
    print(f"    2. LSP minus direct     median {ms(a['rtt_med'] - a['direct_med'])}  "
          f"p99 {ms(a['rtt_p99'] - a['direct_p99'])}   [target < 5 ms / 15 ms]")
    print(f"(b) prefix-cache hit (type one char of the suggestion / backspace), {b['hits']} hits, round trip: "
          f"median {ms(b['hit_med'])}  p99 {ms(b['hit_p99'])}   [target < 2 ms median]")
    for name, c in (("unrelated answers", c_un), ("oracle answers", c_or)):
        print(f"(c) typing trace, default debounce (75 ms), {name}: {c['chars']} chars in {c['typing_s']:.1f} s "
              f"(delays 40-250 ms, seed {args.seed}, median {c['delay_med'] * 1000:.0f} ms, mean "
              f"{c['delay_mean'] * 1000:.0f} ms): {c['calls']} provider calls = {c['per_char']:.3f} per char "
              f"[target < 0.1]; {c['closed']} streams closed early; {c['answered']}/{c['chars']} requests "
              f"answered, {c['shown']} with a suggestion")
    print("method: see this script's module docstring")


if __name__ == "__main__":
    main()
