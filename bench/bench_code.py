"""SDK call-site analysis on a generated 2,000-file Python repository: `promptls check` throughput (whole process,
including start-up) and peak RSS, plus the warm engine per file, split into files that call an SDK and files that
do not (the common case, which must cost almost nothing).
Run: .venv/bin/python bench/bench_code.py [--files 2000] [--sdk-share 0.1] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import run_check_cli

PLAIN = '''"""Module {i}: order bookkeeping helpers."""
from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass
class Order{i}:
    id: int
    placed: dt.date
    items: list[str]

    def total(self, prices: dict[str, float]) -> float:
        return sum(prices.get(item, 0.0) for item in self.items)

    def late(self, today: dt.date) -> bool:
        return (today - self.placed).days > {days}


def summarise(orders: list[Order{i}]) -> dict[str, int]:
    counts: dict[str, int] = {{}}
    for order in orders:
        for item in order.items:
            counts[item] = counts.get(item, 0) + 1
    return counts
'''

SDK = '''"""Module {i}: answers support tickets."""
import anthropic
from openai import OpenAI

SYSTEM = """{system}"""

claude = anthropic.Anthropic(timeout=30)
oai = OpenAI()


def answer(question: str) -> str:
    msg = claude.messages.create(
        model="{anthropic_model}",
        max_tokens={max_tokens},
        system=SYSTEM,
        messages=[{{"role": "user", "content": question}}],
    )
    return msg.content[0].text


def classify(text: str) -> str:
    r = oai.chat.completions.create(
        model="{openai_model}",
        temperature={temperature},
        messages=[{{"role": "system", "content": "Label the ticket as billing, bug or other."}},
                  {{"role": "user", "content": text}}],
        response_format={{"type": "json_object"}},
    )
    return r.choices[0].message.content
'''


def make_repo(root: Path, files: int, sdk_share: float) -> tuple[int, int]:
    rnd = random.Random(11)
    total = sdk_files = 0
    for i in range(files):
        pkg = root / f"pkg{i % 40:02d}"
        pkg.mkdir(exist_ok=True)
        if rnd.random() < sdk_share:
            sdk_files += 1
            system = " ".join(f"Rule {k}: refund window {rnd.randint(1, 60)} days for region {k}."
                              for k in range(rnd.randint(5, 200)))
            text = SDK.format(i=i, system=system, anthropic_model=rnd.choice(["claude-sonnet-4-6", "claude-haiku-4-5"]),
                              openai_model=rnd.choice(["gpt-5.2", "gpt-4o-mnii", "gpt-4.1"]),
                              max_tokens=rnd.choice([256, 1024, 200000]), temperature=rnd.choice([0, 0.7, 2.5]))
        else:
            text = PLAIN.format(i=i, days=rnd.randint(1, 30))
        path = pkg / f"mod{i:04d}.py"
        path.write_text(text)
        total += len(text.encode())
    return total, sdk_files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--sdk-share", type=float, default=0.1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "repo"
        root.mkdir()
        total, sdk_files = make_repo(root, a.files, a.sdk_share)
        out = Path(d) / "report.json"
        run = run_check_cli(str(out), str(root), "--format", "json", "--jobs", "1", "--fail-on", "never")
        if run["peak_rss_mb"] is None:
            raise SystemExit(f"check failed: {run}")
        wall = run["wall_s"]
        report = json.loads(out.read_text())
        calls = report["summary"]["calls"]
        findings = sum(report["summary"]["diagnostics"].values())

        from promptls.analysis.engine import analyze
        from promptls.config import Config

        cfg = Config()
        paths = sorted(root.rglob("*.py"))
        texts = [(str(p), p.read_text()) for p in paths]
        for path, text in texts[:50]:  # warm: imports, catalog, encodings
            analyze(path, text, cfg)
        plain_ms, sdk_ms = [], []
        for path, text in texts:
            t0 = time.perf_counter()
            analyze(path, text, cfg)
            ms = (time.perf_counter() - t0) * 1000
            (sdk_ms if "import anthropic" in text else plain_ms).append(ms)
    res = {
        "files": a.files, "sdk_files": sdk_files, "mb": round(total / 1e6, 2), "calls": calls, "findings": findings,
        "check_seconds": round(wall, 2), "check_files_per_s": round(a.files / wall), "check_peak_rss_mb":
        round(run["peak_rss_mb"]), "engine_plain_median_ms": round(statistics.median(plain_ms), 3),
        "engine_sdk_median_ms": round(statistics.median(sdk_ms), 2),
        "engine_sdk_p95_ms": round(statistics.quantiles(sdk_ms, n=20)[-1], 2),
        "engine_total_s": round((sum(plain_ms) + sum(sdk_ms)) / 1000, 2),
    }
    if a.json:
        print(json.dumps(res))
        return
    print(f"repository: {res['files']} Python files ({res['sdk_files']} calling SDKs), {res['mb']} MB, "
          f"{calls} call sites, {findings} findings")
    print(f"promptls check (whole process, 1 job): {res['check_seconds']} s = {res['check_files_per_s']} files/s, "
          f"peak RSS {res['check_peak_rss_mb']} MB")
    print(f"warm engine per file: plain {res['engine_plain_median_ms']} ms median, SDK-calling "
          f"{res['engine_sdk_median_ms']} ms median / {res['engine_sdk_p95_ms']} ms p95; "
          f"all files {res['engine_total_s']} s")


if __name__ == "__main__":
    main()
