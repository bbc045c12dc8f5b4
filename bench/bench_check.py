"""`promptls check` throughput on 1,000 generated prompt files totalling ~20 MB, against raw tiktoken encoding of
the same text (o200k_base, bundled), and the checker's peak RSS.
Run: .venv/bin/python bench/bench_check.py [--files 1000] [--mb 20]
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = [
    "prompt", "model", "token", "context", "window", "cost", "budget", "user", "system", "assistant", "answer",
    "question", "summary", "language", "server", "editor", "quick", "brown", "fox", "jumps", "lazy", "dog",
    "alpha", "beta", "gamma", "delta",
]


def make_files(root: Path, files: int, total_mb: float) -> int:
    rnd = random.Random(7)
    per = int(total_mb * 1e6 / files)
    total = 0
    for i in range(files):
        words = []
        size = 0
        while size < per:
            w = rnd.choice(WORDS)
            words.append(w)
            size += len(w) + 1
        body = " ".join(words)
        cut = len(body) // 2
        text = (f"---\nmodel: gpt-4o-mini\nconfig:\n  maxOutputTokens: 256\ninput:\n  schema:\n    name: string\n"
                f"  default:\n    name: n{i}\n---\n{{{{role \"system\"}}}}\n{body[:cut]}\n"
                f"{{{{role \"user\"}}}}\nHello {{{{name}}}}. {body[cut:]}\n")
        (root / f"p{i:04d}.prompt").write_text(text)
        total += len(text.encode())
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--mb", type=float, default=20.0)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        total = make_files(root, a.files, a.mb)
        texts = [p.read_text() for p in sorted(root.glob("*.prompt"))]
        from promptls.tokens.encodings import get_encoding

        enc = get_encoding("o200k_base")
        enc.encode_ordinary("warm up")
        t0 = time.perf_counter()
        ntok = sum(len(enc.encode_ordinary(t)) for t in texts)
        raw = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "promptls", "check", str(root), "--format", "json",
                              "--fail-on", "never", "-o", str(root / "out.json")], capture_output=True, text=True)
        dt = time.perf_counter() - t0
        if res.returncode != 0:
            print(res.stderr)
            raise SystemExit(1)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        # The engine alone, in this process, after start-up costs (imports, encoding build, catalog) are paid.
        from promptls.analysis.engine import analyze_text
        from promptls.config import Config

        cfg = Config()
        paths = [str(p) for p in sorted(root.glob("*.prompt"))]
        analyze_text(paths[0], texts[0], cfg)
        t0 = time.perf_counter()
        for path, text in zip(paths, texts, strict=True):
            analyze_text(path, text, cfg)
        engine = time.perf_counter() - t0
        print(f"corpus: {a.files} files, {total / 1e6:.1f} MB, {ntok:,} o200k tokens")
        print(f"raw tiktoken encode_ordinary: {raw:.2f} s ({total / 1e6 / raw:.1f} MB/s)")
        print(f"promptls check (whole process, JSON report): {dt:.2f} s ({total / 1e6 / dt:.1f} MB/s) -> "
              f"{raw / dt * 100:.0f}% of raw tiktoken throughput")
        print(f"promptls check peak RSS: {rss:.0f} MB")
        print(f"analysis engine alone, one process, warm (no start-up, no report): {engine:.2f} s "
              f"({total / 1e6 / engine:.1f} MB/s) -> {raw / engine * 100:.0f}% of raw tiktoken throughput")


if __name__ == "__main__":
    main()
