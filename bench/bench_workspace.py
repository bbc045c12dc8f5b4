"""Workspace index build on a generated 2,000-file Python repository with shared client and constant modules:
wall time and peak RSS of building the index in a fresh interpreter (`git ls-files` listing, one parse per
module), then the time to resolve every cross-module call of every module and to re-index one edited constants
module (and how many dependents it names).

Over the LSP (real stdio, bench/lsp_wire.py, push diagnostics), in the same generated repository:
- a one-character edit in a 2,000-line module of the repo with 117 SDK calls that take their client and constants
  from the shared modules: didChange -> the publishDiagnostics of that version, one edit at a time (median, p95);
- an edit to the shared constants module with 50 of its dependents open: didChange of `MODEL` to a retired model
  (and back) -> every one of the 50 republished with the change (MD003 present / absent), wall time per edit.
Run: .venv/bin/python bench/bench_workspace.py [--files 2000] [--runs 3] [--edits 60] [--only index|lsp]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from lsp_wire import Wire

CHILD = r"""
import json, sys, time
from promptls.workspace import WorkspaceIndex
t0 = time.perf_counter()
index = WorkspaceIndex.build([sys.argv[1]])
build = time.perf_counter() - t0
from promptls.documents.code.python_sites import extract_python
t0 = time.perf_counter()
calls = 0
for path, info in list(index.by_path.items()):
    text = open(path, encoding="utf-8").read()
    calls += len(extract_python(path, text, index.env_for(path, text)).calls)
resolve = time.perf_counter() - t0
const = sys.argv[1] + "/app/shared/settings.py"
text = open(const, encoding="utf-8").read()
t0 = time.perf_counter()
deps = index.update(const, text.replace("claude-sonnet-4-5", "claude-haiku-4-5"))
update = time.perf_counter() - t0
with open("/proc/self/status") as f:
    peak = next(int(l.split()[1]) / 1024 for l in f if l.startswith("VmHWM:"))
print(json.dumps({"modules": len(index.by_path), "build_s": build, "resolve_all_s": resolve, "calls": calls,
                  "update_s": update, "dependents": len(deps), "peak_rss_mb": peak}))
"""

CLIENTS = '''"""Shared clients."""
import anthropic
from openai import AsyncOpenAI

claude = anthropic.Anthropic(timeout=30)
fast = claude.with_options(max_retries=0)
openai_client = AsyncOpenAI(timeout=30)


def make_client() -> anthropic.Anthropic:
    return anthropic.Anthropic(timeout=10)
'''
SETTINGS = '''"""Shared constants."""
from textwrap import dedent

MODEL = "claude-sonnet-4-5"
MAX_TOKENS = 1024
SYSTEM = dedent(f"""
    You are the assistant of the {MODEL} team.
""")
'''


def module(i: int) -> str:
    """A service module of ~60 lines: imports from the shared modules, a class with `self.client`, helpers."""
    body = [f'"""Service {i}."""', "import json", "import os", "",
            "from app.shared.clients import claude, fast, make_client",
            "from app.shared import settings", f"from app.pkg{i % 20} import helpers{i % 7} as h", "", ""]
    body.append(textwrap.dedent(f"""\
        class Service{i}:
            def __init__(self):
                self.client = claude

            def answer(self, q):
                return self.client.messages.create(model=settings.MODEL, max_tokens=settings.MAX_TOKENS,
                                                   system=settings.SYSTEM, messages=[{{"role": "user", "content": q}}])


        def quick_{i}(q):
            params = {{"model": settings.MODEL, "messages": [{{"role": "user", "content": q}}]}}
            return fast.messages.create(**params)


        def other_{i}(q):
            return make_client().messages.create(model="claude-haiku-4-5", max_tokens=64, messages=[])


        def plain_{i}(rows):
            out = []
            for r in rows:
                out.append(json.dumps({{"i": {i}, "r": r, "env": os.environ.get("X")}}))
            return h.f(out)
        """))
    return "\n".join(body)


def make_repo(root: Path, files: int) -> None:
    (root / "app" / "shared").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "shared" / "__init__.py").write_text("")
    (root / "app" / "shared" / "clients.py").write_text(CLIENTS)
    (root / "app" / "shared" / "settings.py").write_text(SETTINGS)
    for p in range(20):
        pkg = root / "app" / f"pkg{p}"
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        for k in range(7):
            (pkg / f"helpers{k}.py").write_text(f"def f(x):\n    return x  # {p}.{k}\n")
    made = 4 + 20 * 8
    i = 0
    while made < files:
        (root / "app" / f"pkg{i % 20}" / f"service_{i}.py").write_text(module(i))
        i += 1
        made += 1
    subprocess.run(["git", "init", "-q", str(root)], check=True)


def big_module(calls: int = 117, lines: int = 2000) -> str:
    """A 2,000-line module of the repo: `calls` functions each making one SDK call through the shared client and
    constants, padded with plain helpers."""
    out = ['"""Generated big service."""', "from app.shared import settings", "from app.shared.clients import claude",
           ""]
    for i in range(calls):
        out += [f"def answer_{i}(q: str) -> str:", f'    """Answer number {i}."""', "    msg = claude.messages.create(",
                "        model=settings.MODEL,", "        max_tokens=settings.MAX_TOKENS,",
                "        system=settings.SYSTEM,", '        messages=[{"role": "user", "content": q}],', "    )",
                "    text = msg.content[0].text", "    total = 0", f"    for v in range({i}):", "        total += v",
                "    return text if total >= 0 else text.strip()", "", ""]
    k = 0
    while len(out) < lines - 4:
        out += [f"def helper_{k}(x: int) -> int:", f"    return x * {k}", "", ""]
        k += 1
    return "\n".join(out[:lines]) + "\n"


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def is_publish(uri: str, version: int | None = None):
    def pred(m: dict) -> bool:
        return (m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
                and (version is None or m["params"].get("version") == version))
    return pred


def open_doc(w: Wire, path: Path) -> str:
    uri = path.as_uri()
    w.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                     "text": path.read_text()}}, request=False)
    return uri


def lsp_edit_latency(root: Path, edits: int) -> tuple[list[float], int]:
    big = root / "app" / "big_service.py"
    w = Wire([sys.executable, "-m", "promptls", "serve"])
    try:
        w.initialize(root.as_uri())
        uri = open_doc(w, big)
        first = w.wait(is_publish(uri, 1), 120)
        lat = []
        for v in range(2, edits + 2):  # type inside the module docstring: valid Python after every keystroke
            t0 = time.perf_counter()
            w.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": v}, "contentChanges": [
                {"range": {"start": {"line": 0, "character": 5}, "end": {"line": 0, "character": 5}},
                 "text": "x"}]}, request=False)
            w.wait(is_publish(uri, v), 30)
            lat.append((time.perf_counter() - t0) * 1000)
        return lat, len(first["params"]["diagnostics"])
    finally:
        w.close()


def lsp_fanout(root: Path, dependents: int, runs: int) -> list[float]:
    """Wall time from an edit of the shared constants module to the republish of every open dependent."""
    services = sorted((root / "app").glob("pkg*/service_*.py"), key=lambda p: int(p.stem.split("_")[1]))
    services = services[:dependents]
    settings = root / "app" / "shared" / "settings.py"
    text = settings.read_text()
    w = Wire([sys.executable, "-m", "promptls", "serve"])
    times = []
    try:
        w.initialize(root.as_uri())
        uris = {open_doc(w, p) for p in services}
        seen: set[str] = set()
        w.wait(lambda m: _collect(m, uris, seen) and seen == uris, 300)
        s_uri = open_doc(w, settings)
        w.wait(is_publish(s_uri, 1), 60)
        models = ["claude-2.1", "claude-sonnet-4-5"] * runs
        for v, model in enumerate(models, 2):
            new = text.replace('MODEL = "claude-sonnet-4-5"', f'MODEL = "{model}"')
            retired = model == "claude-2.1"
            done: set[str] = set()
            t0 = time.perf_counter()
            w.send("textDocument/didChange", {"textDocument": {"uri": s_uri, "version": v},
                                              "contentChanges": [{"text": new}]}, request=False)
            w.wait(lambda m, r=retired, d=done: _republished(m, uris, d, r) and d == uris, 120)
            times.append((time.perf_counter() - t0) * 1000)
        return times
    finally:
        w.close()


def _collect(m: dict, uris: set[str], seen: set[str]) -> bool:
    if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] in uris:
        seen.add(m["params"]["uri"])
    return True


def _republished(m: dict, uris: set[str], done: set[str], retired: bool) -> bool:
    """A dependent's publish that reflects the edit: MD003 (retired model) present after the change to a
    retired model, absent after the change back."""
    if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] in uris:
        has = any(d.get("code") == "MD003" for d in m["params"]["diagnostics"])
        if has == retired:
            done.add(m["params"]["uri"])
        else:
            done.discard(m["params"]["uri"])
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--edits", type=int, default=60)
    ap.add_argument("--only", choices=["index", "lsp"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        make_repo(root, args.files)
        (root / "app" / "big_service.py").write_text(big_module())
        if args.only != "index":
            lsp_figures(root, args)
        if args.only == "lsp":
            return
        runs = []
        for _ in range(args.runs):
            res = subprocess.run([sys.executable, "-c", CHILD, str(root)], capture_output=True, text=True,
                                 check=True)
            runs.append(json.loads(res.stdout))
    last = runs[-1]
    med = {k: statistics.median(r[k] for r in runs) for k in ("build_s", "resolve_all_s", "update_s", "peak_rss_mb")}
    print(f"workspace index, generated repo of {last['modules']:,} Python modules ({args.runs} runs, fresh "
          f"interpreter each, medians):")
    print(f"  build (git ls-files + one parse per module): {med['build_s']:.2f} s wall")
    print(f"  resolve every call of every module through it: {med['resolve_all_s']:.2f} s ({last['calls']:,} calls)")
    print(f"  re-index the shared constants module after an edit: {med['update_s'] * 1000:.1f} ms, "
          f"{last['dependents']:,} dependents to re-analyse")
    print(f"  peak RSS of the process: {med['peak_rss_mb']:.0f} MB")
    print("How: bench/bench_workspace.py; wall times by time.perf_counter in the child, RSS = VmHWM.")


def lsp_figures(root: Path, args: argparse.Namespace) -> None:
    lat, n = lsp_edit_latency(root, args.edits)
    print(f"LSP, one-character edit in a 2,000-line module with 117 SDK calls through the workspace ({n} findings) "
          f"-> fresh diagnostics ({len(lat)} edits): median {statistics.median(lat):.1f} ms, p95 {pct(lat, 0.95):.1f} "
          f"ms, max {max(lat):.1f} ms (target: median <= 50, p95 <= 100)")
    fan = lsp_fanout(root, 50, args.runs)
    print(f"LSP, edit of the shared constants module with 50 dependents open -> all 50 republished ({len(fan)} "
          f"edits): median {statistics.median(fan):.0f} ms, max {max(fan):.0f} ms (target: 300 ms)")
    print("How: real stdio, one didChange at a time, timed to the publishDiagnostics that reflects it.")


if __name__ == "__main__":
    main()
