"""Fine-tuning dataset check throughput and memory: `check_file` on a generated ~100 MB / 100,000-example chat
dataset, against raw tiktoken on the same texts.

Run: .venv/bin/python bench/bench_datasets.py [--examples 100000] [--mb 100] [--cli] [--json] [--workers N]

How it measures: a deterministic chat dataset (fixed seed: system prompts from a small set, multi-turn
conversations of English prose, code, JSON, non-Latin scripts and emoji, some tool calls, a few broken or
duplicate lines) is written to a temp dir. `check_file` runs in a fresh subprocess, which reports its own
wall time (encoding build and catalog load excluded: both are warmed first) and its peak RSS during the check
(VmHWM after resetting it through /proc/self/clear_refs; `ru_maxrss` where that is unavailable), next to the
RSS of the same process before the check. The parallel variant (`check_file(..., jobs=N)`, N = min(CPUs, 8)
forked workers, one byte range each) reports the same for the parent, plus the workers' CPU time and the
largest worker's peak RSS (`ru_maxrss` of RUSAGE_CHILDREN: it counts the pages a worker shares with the parent
it was forked from, so parent + children over-states the total). `--cli` also times
`promptls check <file> --format json` as a whole process (parallel for files above PARALLEL_MIN_BYTES;
start-up, encoding build and report included). Raw tiktoken is timed in this
process on exactly the texts the check counts: `encode_ordinary` one by one on one thread, and
`encode_ordinary_batch` on all cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import run_check_cli

SYSTEM_PROMPTS = [
    "You are a concise support assistant for Acme Cloud. Answer in at most three sentences.",
    "You are a concise support assistant for Acme Cloud. Answer in at most three sentences. Cite the docs.",
    "Tu es un assistant qui répond en français, poliment et précisément.",
]
PROSE = (
    "the deployment failed because the service account lacks permission to read the bucket so grant the role "
    "and retry with a fresh token then check the logs for quota errors latency spikes or timeouts in the region "
    "résumé naïve café über straße invoice refund subscription billing cycle upgrade downgrade cancel"
)
WORDS = tuple(PROSE.split())
SNIPPETS = [
    "```python\ndef retry(fn, attempts=3):\n    for i in range(attempts):\n        try:\n            return fn()\n"
    "        except TimeoutError:\n            time.sleep(2 ** i)\n```",
    '{"status": "error", "code": 403, "message": "permission denied on bucket acme-logs"}',
    "日本語でのお問い合わせありがとうございます。請求書は管理画面からダウンロードできます。",
    "Статус заказа: отправлен. Ожидаемая доставка — через 3 дня.",
    "All set 🚀 — your plan was upgraded ✨ (ref #A-2291).",
    "| region | p50 ms | p99 ms |\n|---|---|---|\n| eu-west-1 | 41 | 230 |\n| us-east-1 | 38 | 198 |",
]
TOOLS = [{"type": "function", "function": {"name": "get_invoice", "description": "Fetch an invoice by id",
                                            "parameters": {"type": "object", "properties": {
                                                "invoice_id": {"type": "string"}}, "required": ["invoice_id"]}}}]


def _prose(rng: random.Random, lo: int, hi: int) -> str:
    parts = []
    for _ in range(rng.randint(lo, hi)):
        if rng.random() < 0.15:
            parts.append(rng.choice(SNIPPETS))
        else:
            sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 24)))
            parts.append(sentence.capitalize() + f" ({rng.randint(1, 99999)}).")
    return " ".join(parts)


def _example(rng: random.Random, i: int, target_chars: int) -> dict:
    messages: list[dict] = [{"role": "system", "content": SYSTEM_PROMPTS[0 if rng.random() < 0.9 else
                                                                         rng.randrange(len(SYSTEM_PROMPTS))]}]
    example: dict = {"messages": messages}
    if rng.random() < 0.05:
        example["tools"] = TOOLS
        messages.append({"role": "user", "content": f"Show me invoice INV-{i:06d}."})
        messages.append({"role": "assistant", "tool_calls": [{"id": f"call_{i}", "type": "function", "function": {
            "name": "get_invoice", "arguments": json.dumps({"invoice_id": f"INV-{i:06d}"})}}]})
        messages.append({"role": "tool", "tool_call_id": f"call_{i}", "content": _prose(rng, 1, 3)})
    size = 0
    while True:
        user = f"Ticket {i}: " + _prose(rng, 1, 2)
        answer = _prose(rng, 1, 4)
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": answer})
        size += len(user) + len(answer)
        if size >= target_chars:
            break
        if rng.random() < 0.2:
            messages[-1]["weight"] = 0  # an earlier turn not to learn from
    return example


def make_dataset(path: Path, examples: int, total_mb: float, seed: int = 20240718) -> tuple[int, int]:
    """Write the dataset; returns (bytes, broken lines). Every 10,000th example is broken in some way (cut
    short, a duplicate of the previous line, or without an assistant message)."""
    rng = random.Random(seed)
    target = total_mb * 1e6
    written = 0
    ratio = 0.8  # content characters per line byte, learnt as lines are written
    bad = 0
    previous = ""
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for i in range(examples):
            per = (target - written) / (examples - i) * ratio
            example = _example(rng, i, max(50, int(per * rng.uniform(0.5, 1.5))))
            line = json.dumps(example, ensure_ascii=False)
            content = sum(len(m.get("content") or "") for m in example["messages"])
            ratio = 0.98 * ratio + 0.02 * content / len(line.encode())
            if i % 10_000 == 9_999:
                bad += 1
                line = (line[:-3], previous, '{"messages": [{"role": "user", "content": "hi"}]}')[(i // 10_000) % 3]
            f.write(line + "\n")
            written += len(line.encode()) + 1
            previous = line
    return path.stat().st_size, bad


CHILD = r"""
import json, os, resource, sys, time
from promptls.analysis.datasets import DatasetSettings, check_file
from promptls.catalog.training import training_target
from promptls.tokens import counter_for_tokenizer

def status(key):
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) / 1024 for l in f if l.startswith(key + ":"))
    except (OSError, StopIteration):
        return None

counter_for_tokenizer("o200k_base").count("warm up")  # encoding build and catalog load: not the check's time
training_target("gpt-4o-mini")
rss_before = status("VmRSS")
try:  # reset the peak (Linux >= 4.0) so that it measures the check, not the encoding build before it
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    peak_reset = True
except OSError:
    peak_reset = False
t0, c0 = time.perf_counter(), time.process_time()
children0 = os.times()
result = check_file(sys.argv[1], DatasetSettings(), jobs=int(sys.argv[2]), min_bytes=0)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
children = os.times()
codes = {}
for f in result.findings:
    codes[f.code] = codes.get(f.code, 0) + 1
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rss_before_mb": rss_before,
                  "peak_rss_mb": status("VmHWM") if peak_reset else None,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "children_cpu_s": (children.children_user + children.children_system
                                     - children0.children_user - children0.children_system),
                  "children_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "summary": result.summary.to_json(), "findings": codes}))
"""


def run_check(path: Path, jobs: int = 1) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, str(path), str(jobs)], capture_output=True, text=True)
    if res.returncode != 0:
        print(res.stderr, file=sys.stderr)
        raise SystemExit(1)
    return json.loads(res.stdout)


def run_cli(path: Path, out: Path) -> dict:
    return run_check_cli(str(out), str(path), "--format", "json", "--fail-on", "never")


def texts_of(path: Path) -> list[str]:
    """The texts check_file tokenises (message contents, tool-call names and arguments, tool definitions)."""
    from promptls.documents.dataset.formats import CHAT, Framing, validate

    framing = Framing(3, 1, 3, len)
    texts: list[str] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            example = validate(CHAT, obj, framing, [])
            texts.extend(example.texts)
            texts.extend(example.repeated)
    return texts


def raw_tiktoken(texts: list[str]) -> dict:
    from promptls.tokens import get_encoding

    enc = get_encoding("o200k_base")
    enc.encode_ordinary("warm up")
    t0 = time.perf_counter()
    tokens = sum(len(enc.encode_ordinary(t)) for t in texts)
    one = time.perf_counter() - t0
    threads = os.cpu_count() or 1
    t0 = time.perf_counter()
    batch = sum(len(ids) for ids in enc.encode_ordinary_batch(texts, num_threads=threads))
    many = time.perf_counter() - t0
    assert batch == tokens
    return {"tokens": tokens, "one_thread_s": one, "batch_s": many, "batch_threads": threads}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=100_000)
    ap.add_argument("--mb", type=float, default=100.0)
    ap.add_argument("--repeat", type=int, default=1, help="check_file runs (each in a fresh process)")
    ap.add_argument("--cli", action="store_true", help="also time `promptls check <file> --format json`")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "train.jsonl"
        t0 = time.perf_counter()
        size, bad = make_dataset(path, a.examples, a.mb)
        generated = time.perf_counter() - t0
        mb = size / 1e6
        runs = [run_check(path) for _ in range(a.repeat)]
        jobs = min(os.cpu_count() or 1, 8)
        parallel = [run_check(path, jobs) for _ in range(a.repeat)]
        cli = run_cli(path, Path(d) / "out.json") if a.cli else None
        raw = raw_tiktoken(texts_of(path))
    report = {
        "dataset": {"examples": a.examples, "mb": mb, "bad_lines": bad, "generate_s": generated,
                    "cpus": os.cpu_count()},
        "check_file": runs,
        "check_file_parallel": {"jobs": jobs, "runs": parallel,
                                "same_summary": all(r["summary"] == runs[0]["summary"] for r in parallel)},
        "raw_tiktoken": raw,
        "cli": cli,
    }
    if a.json:
        print(json.dumps(report, indent=2))
        return
    print(f"dataset: {a.examples:,} chat examples, {mb:.1f} MB, {bad} broken lines "
          f"(generated in {generated:.1f} s), {os.cpu_count()} CPUs")
    print(f"{'variant':<44} {'wall s':>7} {'cpu s':>7} {'MB/s':>7} {'examples/s':>11} {'peak RSS MB':>12}")
    for i, r in enumerate(runs, 1):
        label = f"check_file (run {i}, fresh process)"
        peak = r["peak_rss_mb"] if r["peak_rss_mb"] is not None else r["maxrss_mb"]
        print(f"{label:<44} {r['wall_s']:>7.2f} {r['cpu_s']:>7.2f} {mb / r['wall_s']:>7.1f} "
              f"{a.examples / r['wall_s']:>11,.0f} {peak:>12.0f}")
    for i, r in enumerate(parallel, 1):
        label = f"check_file jobs={jobs} (run {i}, parent)"
        peak = r["peak_rss_mb"] if r["peak_rss_mb"] is not None else r["maxrss_mb"]
        print(f"{label:<44} {r['wall_s']:>7.2f} {r['cpu_s'] + r['children_cpu_s']:>7.2f} {mb / r['wall_s']:>7.1f} "
              f"{a.examples / r['wall_s']:>11,.0f} {peak:>12.0f}")
        print(f"{'  (largest worker, ru_maxrss incl. shared)':<44} {'':>7} {r['children_cpu_s']:>7.2f} {'':>7} "
              f"{'':>11} {r['children_maxrss_mb']:>12.0f}")
    if any(r["summary"] != runs[0]["summary"] for r in parallel):
        print("  WARNING: the parallel summary differs from the sequential one")
    if runs[0]["rss_before_mb"] is not None:
        print(f"{'  (RSS before the check: encoding built)':<44} {'':>7} {'':>7} {'':>7} {'':>11} "
              f"{runs[0]['rss_before_mb']:>12.0f}")
    print(f"{'raw tiktoken encode_ordinary, 1 thread':<44} {raw['one_thread_s']:>7.2f} {'':>7} "
          f"{mb / raw['one_thread_s']:>7.1f} {a.examples / raw['one_thread_s']:>11,.0f}")
    label = f"raw tiktoken encode_ordinary_batch, {raw['batch_threads']} thr"
    print(f"{label:<44} {raw['batch_s']:>7.2f} {'':>7} {mb / raw['batch_s']:>7.1f} "
          f"{a.examples / raw['batch_s']:>11,.0f}")
    if cli is not None:
        peak = f"{cli['peak_rss_mb']:>12.0f}" if cli["peak_rss_mb"] is not None else f"{'?':>12}"
        print(f"{'promptls check --format json (whole process)':<44} {cli['wall_s']:>7.2f} {'':>7} "
              f"{mb / cli['wall_s']:>7.1f} {a.examples / cli['wall_s']:>11,.0f} {peak}"
              + ("" if cli["returncode"] == 0 else f"  (failed: {cli.get('stderr', '')})"))
    s = runs[0]["summary"]
    print(f"summary: {s['examples']:,} examples, {s['invalid_lines']} invalid, tokens min/mean/p95/max "
          f"{s['tokens_min']}/{s['tokens_mean']:.0f}/{s['tokens_p95']}/{s['tokens_max']}, total {s['total_tokens']:,}"
          f", ${s['training_cost_usd']:.2f} for {s['epochs']} epochs; findings {runs[0]['findings']}")


if __name__ == "__main__":
    main()
