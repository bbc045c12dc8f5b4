"""Does a big dataset freeze the editor? Measured over real stdio.

A small prompt is opened and analysed; then a generated fine-tuning dataset of SIZE MB is opened, the client asks
for inlay hints on its first screen (as VS Code does right after opening), and, at once, for a hover on the small
prompt. Figures: how long that hover waited (the event loop must stay free), how long until the dataset's first
and full diagnostics arrived, and the server's peak RSS (VmHWM). Variants: many normal lines, or one huge line.

Run: .venv/bin/python bench/bench_big_dataset.py [--mb 20 200] [--one-line-mb 50] [--runs 3]
     (PYTHONPATH=OTHER_CHECKOUT/server measures another checkout of the server with the same script.)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from lsp_wire import Wire

PROMPT = "---\nmodel: gpt-4o\ninput:\n  schema:\n    name: string\n---\nHello {{name}}, how are you today?\n"


def dataset(mb: float) -> str:
    line = json.dumps({"messages": [{"role": "system", "content": "You are a helpful support agent."},
                                    {"role": "user", "content": "Where is my order number 12345? " * 3},
                                    {"role": "assistant", "content": "It shipped yesterday and arrives soon. " * 4}]})
    n = max(1, int(mb * 1_000_000 / (len(line) + 1)))
    return "\n".join(line.replace("12345", str(i)) for i in range(n)) + "\n"


def one_line(mb: float) -> str:
    return json.dumps({"messages": [{"role": "user", "content": "x" * int(mb * 1_000_000)}]}) + "\n"


def peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_once(text: str, tmp: Path) -> dict[str, float]:
    w = Wire([sys.executable, "-m", "promptls", "serve"])
    try:
        w.initialize(tmp.as_uri())
        prompt_uri = (tmp / "hello.prompt").as_uri()
        w.send("textDocument/didOpen", {"textDocument": {"uri": prompt_uri, "languageId": "dotprompt",
                                                          "version": 1, "text": PROMPT}}, request=False)
        w.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
               and m["params"]["uri"] == prompt_uri, 60)
        ds_uri = (tmp / "train.jsonl").as_uri()
        t0 = time.perf_counter()
        w.send("textDocument/didOpen", {"textDocument": {"uri": ds_uri, "languageId": "jsonl", "version": 1,
                                                          "text": text}}, request=False)
        w.send("textDocument/inlayHint", {"textDocument": {"uri": ds_uri},
                                          "range": {"start": {"line": 0, "character": 0},
                                                    "end": {"line": 60, "character": 0}}})
        hover = w.send("textDocument/hover", {"textDocument": {"uri": prompt_uri},
                                              "position": {"line": 6, "character": 8}})
        # A request that needs the full analysis: answered once the dataset is analysed completely.
        full = w.send("textDocument/documentSymbol", {"textDocument": {"uri": ds_uri}})
        out: dict[str, float] = {}
        end = time.perf_counter() + 600
        while time.perf_counter() < end and ("hover_s" not in out or "full_s" not in out):
            msg = w.read()
            now = time.perf_counter() - t0
            if msg.get("id") == hover:
                out["hover_s"] = now
            elif msg.get("id") == full:
                out["full_s"] = now
            elif msg.get("method") == "textDocument/publishDiagnostics" and msg["params"]["uri"] == ds_uri:
                out.setdefault("first_s", now)
            elif "id" in msg and "method" in msg:
                w.reply(msg["id"], None)
        out["peak_rss_mb"] = peak_mb(w.proc.pid)
        return out
    finally:
        w.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, nargs="*", default=[20.0])
    ap.add_argument("--one-line-mb", type=float, default=0.0)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    import promptls

    print(f"server package: {Path(promptls.__file__).parent}")
    cases = [(f"{mb:g} MB, many lines", dataset(mb)) for mb in a.mb]
    if a.one_line_mb:
        cases.append((f"{a.one_line_mb:g} MB, one line", one_line(a.one_line_mb)))
    with tempfile.TemporaryDirectory() as d:
        for name, text in cases:
            rows = [run_once(text, Path(d)) for _ in range(a.runs)]
            med = {k: statistics.median(r[k] for r in rows if k in r) for k in rows[0]}
            print(f"{name}: hover on another file answered after {med['hover_s'] * 1000:.0f} ms (median of "
                  f"{a.runs}); first dataset diagnostics {med.get('first_s', float('nan')):.2f} s, "
                  f"full analysis answered {med.get('full_s', float('nan')):.2f} s; "
                  f"server peak RSS {med['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
